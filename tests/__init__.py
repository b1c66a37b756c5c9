"""The test suite, one folder per room of validator/ (docs/DESIGN.md); shared fixtures in conftest.py."""
