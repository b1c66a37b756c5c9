"""Tests of validate() and orchestration: the engine, pandera compilation, the shipped examples, handed cases (validator/engine.py)."""
