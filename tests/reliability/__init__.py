"""Reliability and security suite (issue 8): fault injection, secrets, bad files, the documented matrix."""
