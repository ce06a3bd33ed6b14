"""Settings modules: base (shared), dev (embedded default), test, prod. Configured by environment only."""
