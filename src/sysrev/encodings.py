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
    mixed = _decode_mixed(raw)
    if mixed is not None:
        return mixed[0], mixed[1], first_bad
    for encoding in FALLBACK_ENCODINGS[:-1]:
        try:
            return raw.decode(encoding), encoding, first_bad
        except UnicodeDecodeError:
            continue
    return raw.decode(FALLBACK_ENCODINGS[-1]), FALLBACK_ENCODINGS[-1], first_bad


def decode_single_byte(line: bytes) -> str:
    """One line that is not UTF-8, in the first single-byte encoding that decodes it."""
    for encoding in FALLBACK_ENCODINGS[:-1]:
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode(FALLBACK_ENCODINGS[-1])


def _decode_mixed(raw: bytes) -> tuple[str, str] | None:
    """A file whose lines are partly UTF-8 and partly Windows-1252 (records appended by two
    tools), decoded line by line: read whole as Windows-1252, every UTF-8 character would be
    garbled ("Régulation" -> "RÃ©gulation"). ``None`` when no line holds UTF-8 beyond ASCII
    (then the file is single-byte throughout). The encoding names the single-byte lines."""
    lines = raw.split(b"\n")
    utf8_lines, single = 0, []
    decoded = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            utf8_lines += not line.isascii()
        except UnicodeDecodeError:
            text = decode_single_byte(line)
            single.append(number)
        decoded.append(text)
    if not utf8_lines:
        return None
    shown = ", ".join(map(str, single[:10])) + (" ..." if len(single) > 10 else "")
    return "\n".join(decoded), f"utf-8 line by line (cp1252 on line{'s' if len(single) > 1 else ''} {shown})"
