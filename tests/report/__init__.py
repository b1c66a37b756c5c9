"""Tests of the report formats (validator/report)."""
