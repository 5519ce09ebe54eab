"""Checks on the configuration that its JSON Schema cannot express."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Mapping

MEASURES_BY_TYPE = {"continuous": ("MD", "SMD"), "binary": ("RR", "OR", "RD")}


class ConfigError(ValueError):
    """The configuration is inconsistent; the message names the key."""


def check_config_file(path: str | Path) -> None:
    """Fail with the file and line when a YAML config file is not UTF-8 or not valid YAML.

    Snakemake's own message for a broken config file names neither ("Config file is not
    valid JSON or YAML"), and a Windows-1252 file would be read with its accents garbled or
    fail to decode; checked before Snakemake reads the file.
    """
    import yaml  # Snakemake's own dependency

    class StrictLoader(yaml.SafeLoader):
        """Refuses a key given twice in one mapping (PyYAML keeps the last silently) and
        aliases (a "billion laughs" of nested aliases expands to billions of nodes in
        whatever walks the config later)."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.MarkedYAMLError(
                    problem="YAML aliases (*name) are not allowed in a review config; write "
                            "the value out", problem_mark=event.start_mark)
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"key '{key}' is given twice in one mapping (first on line "
                                f"{seen[key] + 1}); YAML would keep the last silently",
                        problem_mark=key_node.start_mark)
                seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep=deep)

    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 (byte 0x{raw[error.start]:02x}); "
                          "save the file as UTF-8") from None
    try:
        yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = ""
        if error.context and error.problem:
            context = f" ({error.context}"
            if error.context_mark and error.context_mark.line != mark.line:
                context += f" that starts on line {error.context_mark.line + 1}"
            context += ")"
        raise ConfigError(f"{path}{line}: invalid YAML: {error.problem or error.context}"
                          f"{context}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from None


#: An HTML tag or comment start: ``<`` followed by a letter, ``/``, ``!`` or ``?``. A config
#: string reaches the page of ``snakemake --report`` (rule parameters and report labels are
#: written into a script block there, unescaped), so it must not carry markup. "p < 0.05"
#: and "<= 5 years" are not tags.
MARKUP = re.compile(r"<\s*[A-Za-z/!?]")


def check_config_values(config: Mapping) -> None:
    """Checks on the loaded config that come before the schema's: no value reached twice (a
    YAML alias, whose nesting can expand to billions of nodes in a validator), no date left
    unquoted (YAML makes it a date, and the schema's message is a dump of the section), no
    markup in a string (it would be live in ``snakemake --report``'s page)."""
    seen: set[int] = set()

    def walk(value, key: str) -> None:
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                raise ConfigError(f"{key}: the same YAML value appears twice (an alias, "
                                  "*name); write each value out")
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for name, item in items:
                walk(item, f"{key}.{name}" if isinstance(value, dict) else f"{key}[{name}]")
        elif isinstance(value, (dt.date, dt.datetime)):
            raise ConfigError(f"{key}: {value} must be quoted, '{value}' (YAML reads an "
                              "unquoted date as a date, not as text)")
        elif isinstance(value, str) and MARKUP.search(value):
            raise ConfigError(f"{key}: {value[:80]!r} contains HTML markup "
                              f"({MARKUP.search(value).group(0)!r}...), which would be live in "
                              "the report's page; remove it (write '< ' with a space for "
                              "'less than')")

    for name, value in config.items():
        walk(value, str(name))


def parse_config_date(value, key: str) -> dt.date:
    """A ``YYYY-MM-DD`` date of the configuration; a ConfigError naming ``key`` otherwise
    (``2025-02-30`` passes the schema's pattern but is no date)."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}: '{value}' is not a date (YYYY-MM-DD)") from None


def check_search_dates(pubmed: Mapping | None, today: dt.date | None = None) -> None:
    """The PubMed search window: real dates, the search date not after today (a search of the
    future would be re-run, with other results, once that day has passed), and ``start_date``
    not after ``date``. Checked before anything is retrieved."""
    if not pubmed:
        return
    today = today or dt.date.today()
    date = parse_config_date(pubmed["date"], "search.pubmed.date")
    if date > today:
        raise ConfigError(f"search.pubmed.date: {date} is in the future (today is {today}); "
                          "a search covers days that have passed")
    start = pubmed.get("start_date")
    if start is not None:
        start = parse_config_date(start, "search.pubmed.start_date")
        if start > date:
            raise ConfigError(f"search.pubmed.start_date: {start} is after search.pubmed.date "
                              f"{date}")


def check_source_dates(search: Mapping, today: dt.date | None = None) -> None:
    """The search dates of ClinicalTrials.gov, Europe PMC and the citation chase: real
    dates, not after today (a snapshot is named by its date and never searched again), and a
    ``start_date`` (ClinicalTrials.gov, Europe PMC) not after ``date``."""
    today = today or dt.date.today()
    for source in ("ctgov", "europepmc", "citations"):
        settings = search.get(source)
        if not settings:
            continue
        date = parse_config_date(settings["date"], f"search.{source}.date")
        if date > today:
            raise ConfigError(f"search.{source}.date: {date} is in the future (today is "
                              f"{today}); a search covers days that have passed")
        start = settings.get("start_date")
        if start is not None:
            start = parse_config_date(start, f"search.{source}.start_date")
            if start > date:
                raise ConfigError(f"search.{source}.start_date: {start} is after "
                                  f"search.{source}.date {date}")


def check_config(config: Mapping) -> None:
    """Fail with the offending key when the configuration does not hold together."""
    check_search_dates(config["search"].get("pubmed"))
    check_source_dates(config["search"])
    outcomes = config["analysis"]["outcomes"]
    seen = set()
    for index, outcome in enumerate(outcomes):
        key = f"analysis.outcomes[{index}]"
        if outcome["id"] in seen:
            raise ConfigError(f"{key}.id: outcome '{outcome['id']}' is listed twice")
        seen.add(outcome["id"])
        allowed = MEASURES_BY_TYPE[outcome["type"]]
        if outcome["measure"] not in allowed:
            raise ConfigError(f"{key}.measure: {outcome['measure']} does not fit a "
                              f"{outcome['type']} outcome (use one of {list(allowed)})")
    analysis = config["analysis"]
    named = [(f"analysis.moderators[{i}].outcomes", o)
             for i, m in enumerate(analysis.get("moderators") or [])
             for o in m.get("outcomes") or []]
    named += [("analysis.multilevel.outcomes", o)
              for o in (analysis.get("multilevel") or {}).get("outcomes") or []]
    for key, outcome_id in named:
        if outcome_id not in seen:
            raise ConfigError(f"{key}: '{outcome_id}' is not a configured outcome id "
                              f"(known: {', '.join(sorted(seen))})")
    sources = [e["source"] for e in config["search"]["exports"]]
    for index, source in enumerate(sources):
        if source == "pubmed":
            raise ConfigError(f"search.exports[{index}].source: 'pubmed' is the Entrez "
                              "search; name the export after its database")
        if source in ("ctgov", "europepmc", "citations", "sources"):
            raise ConfigError(f"search.exports[{index}].source: '{source}' is the name of "
                              f"the search.{source} source; name the export otherwise")
        if sources.count(source) > 1:
            raise ConfigError(f"search.exports[{index}].source: '{source}' is listed twice")
    data_dir = Path(config["data_dir"])
    if not data_dir.is_dir():
        raise ConfigError(f"data_dir: folder '{data_dir}' does not exist")


def configured_files(config: Mapping) -> list[tuple[str, str]]:
    """Every sheet the configuration names, as ``(key, path)``: decision files, the study,
    arm and contrast sheets, the risk-of-bias sheet and the GRADE overrides."""
    files = [(f"screening.decisions[{index}].file", source["file"])
             for index, source in enumerate(config["screening"]["decisions"])]
    files.append(("screening.studies", config["screening"]["studies"]))
    chase = config["search"].get("citations")
    if chase:
        files.append(("search.citations.seeds", chase["seeds"]))
    extraction = config["extraction"]
    files += [("extraction.studies", extraction["studies"]),
              ("extraction.arms", extraction["arms"])]
    report = config["report"]
    files.append(("report.risk_of_bias", report["risk_of_bias"]))
    for section, key in (("extraction", "contrasts"), ("report", "grade_overrides")):
        if config[section].get(key):
            files.append((f"{section}.{key}", config[section][key]))
    return files


def configured_sheet(config: Mapping, key: str) -> str:
    """The path of the sheet the configuration names under ``key`` (as in
    :func:`configured_files`), or a ConfigError naming the key when it does not exist.

    Called by the input functions of the rules that read the sheet, so that it is checked
    only when the requested targets need it: search and deduplication run before any
    screening sheet exists. Snakemake skips a job whose input is missing while its old
    outputs exist, even when its other inputs were rebuilt: a typo in a decision file's path
    would leave the previous screening in place, and the PRISMA counts built on it, with
    exit code 0; an input function that raises cannot be skipped.
    """
    path = dict(configured_files(config)).get(key)
    if path is None:
        raise KeyError(key)
    if not Path(path).is_file():
        raise ConfigError(f"{key}: file '{path}' does not exist (paths are relative to "
                          "the working directory, the review folder)")
    return path


def configured_previous_version(config: Mapping) -> str | None:
    """prisma.previous_version, or a ConfigError naming the key when the folder is missing."""
    previous = (config.get("prisma") or {}).get("previous_version")
    if previous and not Path(previous).is_dir():
        raise ConfigError(f"prisma.previous_version: folder '{previous}' does not exist")
    return previous or None


def check_config_paths(config: Mapping) -> None:
    """Fail naming the key when any sheet the configuration names does not exist (the rules
    check each sheet when a requested target needs it, see :func:`configured_sheet`)."""
    for key, _ in configured_files(config):
        configured_sheet(config, key)
    configured_previous_version(config)


def main(argv: list[str] | None = None) -> int:
    """``python -m sysrev.config FILE...``: check review config files for YAML and encoding
    errors, naming the file and line (Snakemake reads a ``--configfile`` before the workflow
    can check it, and its own message names neither)."""
    import sys

    paths = sys.argv[1:] if argv is None else argv
    status = 0
    for path in paths:
        try:
            check_config_file(path)
        except (ConfigError, OSError) as error:
            print(error, file=sys.stderr)
            status = 1
        else:
            print(f"{path}: valid YAML (UTF-8)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
