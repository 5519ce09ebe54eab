"""Write the bundled review's screening decisions and study links.

The decisions were made by the sysrev project for the bundled example, from the records
(titles, publication types and the corpus notes on design and population), not by the
authors of Tang et al. 2025, whose decisions are not public. Two reviewer roles (R1, R2)
screen every record at title/abstract; records that go forward are assessed at full text by
both, and a consensus row settles every full-text disagreement. Run from the repository root:

    python data/denosumab_ra/assemble/build_screening.py ../shared/corpus

Eligibility (PICOS): adults with rheumatoid arthritis (P); denosumab (I); placebo or
conventional treatment without another anti-osteoporotic drug (C); BMD, radiographic joint
damage, disease activity, safety (O); randomised controlled trials (S).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_inputs import DEFAULT_CORPUS, load_corpus, select  # noqa: E402

REVIEW_DIR = Path(__file__).resolve().parents[1]

# Title/abstract exclusion reasons (short, as reviewers write them).
REVIEW = "Review, editorial or guideline"
META = "Systematic review or meta-analysis"
NOT_DMAB = "No denosumab"
NOT_RA = "Population not rheumatoid arthritis"
NOT_RCT = "Not a randomised trial"
LETTER = "Letter, comment or case report"
ANIMAL = "Preclinical study"

# Full-text exclusion reasons (these are the PRISMA "reports excluded" reasons).
FT_NOT_RCT = "Not randomised"
FT_ACTIVE = "Active comparator (another anti-osteoporotic drug)"
FT_NOT_RA = "Population not rheumatoid arthritis"
FT_POOLED = "Pooled re-analysis of included trials"
FT_PROTOCOL = "Study protocol without results"

#: Title/abstract exclusions agreed by both reviewers: corpus line -> reason.
TA_EXCLUDE = {
    1: REVIEW, 2: META, 3: REVIEW, 7: NOT_DMAB, 9: NOT_DMAB, 10: REVIEW, 11: REVIEW,
    19: META, 20: NOT_RA, 22: REVIEW, 23: NOT_DMAB, 25: NOT_RCT, 27: NOT_RCT, 28: NOT_RCT,
    31: NOT_RA, 32: META, 33: META, 34: NOT_DMAB, 36: REVIEW, 37: NOT_DMAB, 38: NOT_DMAB,
    39: NOT_DMAB, 41: NOT_RA, 42: NOT_DMAB, 43: NOT_DMAB, 44: NOT_DMAB, 45: NOT_RCT,
    46: NOT_RCT, 47: NOT_RCT, 48: REVIEW, 49: LETTER, 51: REVIEW, 52: REVIEW, 53: NOT_DMAB,
    54: NOT_DMAB, 55: NOT_DMAB, 56: ANIMAL, 57: ANIMAL, 58: NOT_DMAB, 59: NOT_DMAB,
    60: REVIEW, 61: REVIEW, 62: REVIEW, 63: REVIEW, 64: REVIEW, 67: NOT_DMAB, 71: NOT_RA,
    72: REVIEW, 73: REVIEW, 74: META, 75: NOT_DMAB, 80: REVIEW, 81: LETTER, 82: LETTER,
    83: NOT_DMAB, 84: NOT_DMAB, 85: REVIEW, 86: REVIEW, 87: NOT_DMAB, 88: NOT_DMAB,
    89: NOT_DMAB, 90: NOT_DMAB, 91: LETTER, 92: NOT_DMAB, 93: NOT_DMAB, 94: NOT_DMAB,
    95: NOT_DMAB, 96: NOT_DMAB, 97: NOT_DMAB, 98: NOT_RA, 99: NOT_DMAB, 100: NOT_DMAB,
    101: NOT_DMAB, 102: LETTER, 103: NOT_RCT, 105: REVIEW,
}

#: Records that go forward to full text: line -> (R1 at title/abstract, R2 at title/abstract,
#: R1 at full text, R2 at full text, consensus at full text or None, reason, study, role).
#: A full-text decision is include, exclude or not_retrieved.
FORWARD = {
    4: ("include", "include", "include", "include", None, "", "IWAMOTO2022", "main"),
    5: ("include", "include", "include", "include", None, "", "COHEN2008", "main"),
    6: ("include", "maybe", "exclude", "exclude", None, FT_PROTOCOL, None, None),
    8: ("include", "include", "include", "include", None, "", "IWAMOTO2022", "secondary"),
    12: ("include", "include", "include", "include", None, "", "DRIVE2016", "main"),
    13: ("include", "exclude", "exclude", "include", "exclude", FT_POOLED, None, None),
    14: ("include", "include", "include", "include", None, "", "DRIVE2016", "secondary"),
    15: ("include", "include", "include", "include", None, "", "DESIRABLE2019", "main"),
    16: ("include", "include", "include", "exclude", "include",
         "Extension phase without a randomised comparison", "DESIRABLE2019", "secondary"),
    17: ("include", "include", "include", "include", None, "", "SO2021", "main"),
    18: ("include", "include", "exclude", "exclude", None, FT_ACTIVE, None, None),
    21: ("exclude", "maybe", "exclude", "exclude", None, FT_NOT_RCT, None, None),
    24: ("maybe", "exclude", "exclude", "exclude", None, FT_NOT_RCT, None, None),
    26: ("exclude", "maybe", "exclude", "exclude", None, FT_NOT_RCT, None, None),
    29: ("include", "include", "exclude", "exclude", None, FT_ACTIVE, None, None),
    35: ("maybe", "maybe", "not_retrieved", "not_retrieved", None, "", None, None),
    40: ("include", "include", "include", "include", None, "", "COHEN2008", "secondary"),
    50: ("maybe", "exclude", "exclude", "exclude", None, FT_NOT_RCT, None, None),
    65: ("include", "maybe", "not_retrieved", "not_retrieved", None, "", None, None),
    66: ("maybe", "maybe", "not_retrieved", "not_retrieved", None, "", None, None),
    70: ("include", "exclude", "exclude", "include", "exclude", FT_NOT_RA, None, None),
    76: ("include", "include", "not_retrieved", "not_retrieved", None, "", None, None),
}

TA_REASON_FOR_EXCLUDE_IN_FORWARD = {13: FT_POOLED, 21: NOT_RCT, 24: NOT_RCT, 26: NOT_RCT,
                                    50: NOT_RCT, 70: NOT_RA}


def record_ids(records: list[dict]) -> dict[int, str]:
    """The id a reviewer sees for each corpus line: PubMed's when the record is there, else
    the first export that has it (the same preference as the pipeline's deduplication)."""
    sel = select(records)
    ids: dict[int, str] = {}
    for rec in sel["pubmed"]:
        ids.setdefault(rec["line"], f"pubmed:{rec['pmid']}")
    for source, prefix in (("embase", "EMB"), ("wos", "WOS"), ("central", "CEN")):
        for n, rec in enumerate(sel[source], start=1):
            ids.setdefault(rec["line"], f"{source}:SYSREV-{prefix}-{n:04d}")
    return ids


def main(corpus_dir: Path) -> None:
    records, _ = load_corpus(corpus_dir)
    ids = record_ids(records)
    rows, links = [], []
    for line in sorted(ids):
        rid = ids[line]
        if line in TA_EXCLUDE:
            for reviewer in ("R1", "R2"):
                rows.append([rid, reviewer, "title_abstract", "exclude", TA_EXCLUDE[line], ""])
            continue
        if line not in FORWARD:
            raise SystemExit(f"corpus line {line} has no screening decision")
        ta1, ta2, ft1, ft2, consensus, reason, study, role = FORWARD[line]
        for reviewer, decision in (("R1", ta1), ("R2", ta2)):
            ta_reason = TA_REASON_FOR_EXCLUDE_IN_FORWARD.get(line, "") \
                if decision == "exclude" else ""
            rows.append([rid, reviewer, "title_abstract", decision, ta_reason, ""])
        for reviewer, decision in (("R1", ft1), ("R2", ft2)):
            rows.append([rid, reviewer, "full_text", decision,
                         reason if decision == "exclude" else "",
                         "full text not obtainable for this project"
                         if decision == "not_retrieved" else ""])
        if consensus:
            rows.append([rid, "consensus", "full_text", consensus,
                         reason if consensus == "exclude" else "",
                         "R1 and R2 disagreed; resolved by discussion"])
        if study:
            links.append([study, rid, role])
    unknown = (set(TA_EXCLUDE) | set(FORWARD)) - set(ids)
    if unknown:
        raise SystemExit(f"decisions for corpus lines in no file: {sorted(unknown)}")
    out = REVIEW_DIR / "screening"
    out.mkdir(exist_ok=True)
    with open(out / "decisions.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["record_id", "reviewer", "stage", "decision", "reason", "note"])
        writer.writerows(rows)
    with open(out / "studies.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["study_id", "record_id", "role"])
        writer.writerows(sorted(links))
    print(f"{len(rows)} decisions on {len(ids)} records; {len(links)} study links")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS)
