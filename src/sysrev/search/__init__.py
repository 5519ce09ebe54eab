"""The searches: one source interface (:mod:`.adapters`, :mod:`.registry`) with a frozen,
SHA-256-checked snapshot per source and search date, and its adapters: PubMed through
E-utilities (:mod:`.entrez_client` into :mod:`.snapshot`, parsed by :mod:`.pubmed_xml`, what a
new search found in :mod:`.update`), ClinicalTrials.gov (:mod:`.ctgov`), Europe PMC
(:mod:`.europepmc`) and citation chasing through elink (:mod:`.citations`); every client
retries through :mod:`.http_retry` and stops at once with no network (:mod:`.offline`)."""
