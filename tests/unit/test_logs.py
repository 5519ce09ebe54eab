"""The end-of-run summary repeats every warning the results on disk were made with."""
import io

from sysrev.workflow.logs import print_warning_summary, warnings_in_logs


def test_warnings_in_every_rule_log_are_repeated(tmp_path):
    (tmp_path / "import_export").mkdir()
    (tmp_path / "import_export/central.log").write_text(
        "INFO sysrev.imports: 15 records\n"
        "WARNING sysrev.imports.checks: central.ris: 'Record #n of 18' numbers are not 1..3\n",
        encoding="utf-8")
    (tmp_path / "screen_records").mkdir()
    (tmp_path / "screen_records/screen_records.log").write_text(
        "INFO sysrev.workflow.screening: 98 records\n"
        "WARNING sysrev.workflow.screening: 11 screening decisions pending\n",
        encoding="utf-8")
    found = warnings_in_logs(tmp_path)
    assert [log.split("/")[-1] for log, _ in found] == ["central.log", "screen_records.log"]
    stream = io.StringIO()
    assert print_warning_summary(tmp_path, stream=stream) == 2
    text = stream.getvalue()
    assert "2 warnings" in text
    assert "import_export/central.log: WARNING sysrev.imports.checks: central.ris" in text
    assert "INFO" not in text


def test_no_summary_without_warnings_and_a_long_list_is_cut(tmp_path):
    (tmp_path / "rule").mkdir()
    log = tmp_path / "rule/rule.log"
    log.write_text("INFO x: fine\n", encoding="utf-8")
    stream = io.StringIO()
    assert print_warning_summary(tmp_path, stream=stream) == 0 and stream.getvalue() == ""
    log.write_text("".join(f"WARNING x: number {i}\n" for i in range(50)), encoding="utf-8")
    assert print_warning_summary(tmp_path, stream=stream, limit=40) == 50
    assert "and 10 more" in stream.getvalue() and "number 40" not in stream.getvalue()


def test_a_failed_run_marks_the_results_until_a_run_succeeds(tmp_path):
    from sysrev.workflow.logs import FAILED_RUN_MARKER, clear_failed_run_marker, mark_failed_run

    results = tmp_path / "results/review"
    marker = mark_failed_run(results, ".snakemake/log/run.log")
    assert marker == results / FAILED_RUN_MARKER
    text = marker.read_text(encoding="utf-8")
    assert "failed" in text and ".snakemake/log/run.log" in text
    clear_failed_run_marker(results)
    assert not marker.exists()
    clear_failed_run_marker(results)  # nothing to remove is fine


def test_matplotlib_font_cache_note_is_not_a_warning_about_the_results(tmp_path):
    """Issue 17: matplotlib's first-run font-cache message was listed as a warning."""
    import logging

    from sysrev.workflow.logs import rule_log

    path = tmp_path / "forest_plot/forest_plot.log"
    with rule_log(path):
        logging.getLogger("matplotlib.font_manager").warning(
            "Matplotlib is building the font cache; this may take a moment.")
        logging.getLogger("sysrev.plots").warning("a real warning")
    assert [line for _, line in warnings_in_logs(tmp_path)] == [
        "WARNING sysrev.plots: a real warning"]


def test_only_the_logs_of_current_jobs_are_summarised(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/a.log").write_text("WARNING x: current\n", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b/b.log").write_text("ERROR x: stale\n", encoding="utf-8")
    found = warnings_in_logs(tmp_path, current=[str(tmp_path / "a/a.log")])
    assert [line for _, line in found] == ["WARNING x: current"]
