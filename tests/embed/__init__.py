"""Tests of the embedders and validate-embed (validator/embed/)."""
