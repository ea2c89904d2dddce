"""Fuzzing (issue 8): requests × every adapter's declared capabilities, with hypothesis."""
