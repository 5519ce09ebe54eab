"""Decoding files people provide (database exports, decision and extraction sheets,
searches.tsv): one order of encodings for all of them."""

from __future__ import annotations

#: Tried, in order, when a file is not UTF-8: Windows-1252 (what Excel and EndNote on
#: Windows save) is a superset of Latin-1's printable range; Latin-1 decodes any byte.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_bytes(raw: bytes) -> tuple[str, str, int | None]:
    """Decode ``raw``: UTF-16 when it starts with a byte-order mark, else UTF-8 (with or
    without BOM), else Windows-1252, else Latin-1.

    UTF-8 is tried before the single-byte encodings because a valid UTF-8 multi-byte sequence
    is practically never valid-looking Windows-1252 text by accident. Returns the text, the
    encoding used and, for a file that is not UTF-8, the line of its first non-UTF-8 byte
    (else ``None``). Raises UnicodeDecodeError only for a byte-order mark followed by
    invalid UTF-16.
    """
    if raw.startswith(_UTF16_BOMS):
        return raw.decode("utf-16"), "utf-16", None
    try:
        return raw.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError as error:
        first_bad = raw[:error.start].count(b"\n") + 1
    for encoding in FALLBACK_ENCODINGS[:-1]:
        try:
            return raw.decode(encoding), encoding, first_bad
        except UnicodeDecodeError:
            continue
    return raw.decode(FALLBACK_ENCODINGS[-1]), FALLBACK_ENCODINGS[-1], first_bad
