"""What changed between versions of a living review: archived versions (read-only), the
changes table, the cumulative-by-version results and the update paragraph."""
