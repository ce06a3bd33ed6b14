"""Seeded, obviously fictional demo data for evaluation and for the test suite."""
