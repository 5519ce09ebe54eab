"""Rule of the PRISMA stage."""

from __future__ import annotations

from sysrev.audit import write_audit
from sysrev.dedup import read_clusters
from sysrev.prisma import prisma_counts as count_prisma
from sysrev.tables import read_tsv, write_json
from sysrev.workflow.search import load_searches


def prisma_counts(*, records: str, clusters: str, final: str, included: str, searches: str,
                  counts_out: str, audit: str) -> None:
    """PRISMA 2020 flow counts from the pipeline's tables."""
    names = dict(zip(*[load_searches(searches)[c] for c in ("source", "database")]))
    counts = count_prisma(read_tsv(records), read_clusters(clusters), read_tsv(final),
                          read_tsv(included), database_names=names)
    write_json(counts, counts_out)
    write_audit(audit, stage="prisma",
                inputs={"records": records, "clusters": clusters, "final_decisions": final,
                        "included": included, "searches": searches},
                outputs={"counts": counts_out},
                counts={"records_identified": counts["identification"]["records_identified"],
                        "studies_included": counts["included"]["studies"],
                        "reports_included": counts["included"]["reports"]},
                parameters={"removed_by_automation": 0,
                            "equations": [c["equation"] for c in counts["checks"]]})
