"""The PubMed search: frozen snapshots by search date, parsed into the record table."""
