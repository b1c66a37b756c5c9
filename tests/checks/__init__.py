"""Tests of checks: evaluate, intervals, bootstrap, where/group_by, weights, text rules, verdicts (validator/checks)."""
