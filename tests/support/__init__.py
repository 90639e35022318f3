"""Helpers shared by the test suites (module builders, fixtures data)."""
