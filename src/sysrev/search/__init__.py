"""The PubMed search: live retrieval through E-utilities (:mod:`.entrez_client`) into frozen
snapshots by search date (:mod:`.snapshot`), parsed into the record table
(:mod:`.pubmed_xml`), and what a new search found (:mod:`.update`)."""
