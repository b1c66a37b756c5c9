"""Tests of rule files: parsing, messages, the JSON Schema, the loader under fuzzing (validator/rules/)."""
