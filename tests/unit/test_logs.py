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


def test_a_job_log_ends_with_the_process_peak_memory_and_cpu_time(tmp_path):
    """Issue 20: the exact peak (VmHWM) and CPU time of each job, for the benchmark."""
    import logging

    from sysrev.workflow.logs import job_resources, rule_log

    path = tmp_path / "rule/rule.log"
    with rule_log(path):
        logging.getLogger("sysrev.x").info("10 records")
    last = path.read_text(encoding="utf-8").splitlines()[-1]
    assert last.startswith("INFO sysrev.workflow.logs: job resources: peak_mib=")
    figures = job_resources(path)
    assert figures["peak_mib"] > 1 and figures["cpu_s"] > 0
    assert figures["children_cpu_s"] >= 0 and figures["children_peak_mib"] >= 0


def test_a_failed_job_log_still_ends_with_the_error(tmp_path):
    import pytest

    from sysrev.workflow.logs import job_resources, rule_log

    path = tmp_path / "rule/rule.log"
    with pytest.raises(ValueError), rule_log(path):
        raise ValueError("x.tsv, row 3, field 'n': not a number")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "ERROR root: ValueError: x.tsv, row 3, field 'n': not a number"
    assert "job resources:" in lines[-2]
    assert job_resources(path)["cpu_s"] > 0


def test_peak_memory_without_proc(monkeypatch, tmp_path):
    """Where /proc is absent (macOS), the peak comes from getrusage; a log without the line
    (or no log) gives None."""
    import builtins

    from sysrev.workflow import logs

    real_open = builtins.open

    def no_proc(file, *args, **kwargs):
        if str(file).startswith("/proc/"):
            raise FileNotFoundError(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert logs.process_peak_mib() > 1
    assert "peak_mib=" in logs.job_resources_line()
    (tmp_path / "old.log").write_text("INFO x: done\n", encoding="utf-8")
    assert logs.job_resources(tmp_path / "old.log") is None
    assert logs.job_resources(tmp_path / "missing.log") is None
    (tmp_path / "na.log").write_text("INFO sysrev.workflow.logs: job resources: peak_mib=NA "
                                     "cpu_s=0.50 children_cpu_s=0.00\n", encoding="utf-8")
    assert logs.job_resources(tmp_path / "na.log") == {
        "peak_mib": None, "cpu_s": 0.5, "children_cpu_s": 0.0}


def test_the_largest_worker_process_is_counted(tmp_path):
    """Deduplication computes in worker processes: their CPU time and the largest one's peak
    are on the line too (the process's own VmHWM leaves them out)."""
    import subprocess
    import sys

    from sysrev.workflow.logs import job_resources, rule_log

    path = tmp_path / "rule/rule.log"
    with rule_log(path):
        subprocess.run([sys.executable, "-c", "x = bytearray(64 * 2**20); sum(range(10**6))"],
                       check=True)
    figures = job_resources(path)
    assert figures["children_peak_mib"] >= 64 and figures["children_cpu_s"] > 0
