"""Tests of the commands: validate, validate-profile, validate-suggest, pre-commit hooks, --output, progress (validator/cli)."""
