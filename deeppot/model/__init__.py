"""Assembled models (descriptor + fitting), their files, and user-facing evaluators."""
