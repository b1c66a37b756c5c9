"""Tests of the pure metrics against independent references (validator/metrics/)."""
