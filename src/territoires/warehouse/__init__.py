"""DuckDB warehouse: connect (read-only for readers) and build (raw → staging → marts)."""
