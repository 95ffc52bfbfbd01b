"""The scheduler runs each module's periodic job at its interval, and one failing job never
stops the others."""

from django.core.management import call_command

from metropole.core.registry import PeriodicJob, registry
from metropole.core.scheduler import run_due_jobs


def test_jobs_run_at_their_interval_and_a_failure_does_not_stop_the_others(caplog):
    calls = []

    def broken():
        calls.append("broken")
        raise RuntimeError("remote server down")

    jobs = {
        "a.fast": PeriodicJob("fast", 60, lambda: calls.append("fast")),
        "a.broken": PeriodicJob("broken", 60, broken),
        "a.slow": PeriodicJob("slow", 600, lambda: calls.append("slow")),
    }
    next_runs = {}
    assert run_due_jobs(jobs, next_runs, now=0) == ["a.fast", "a.broken", "a.slow"]
    assert "a.broken failed" in caplog.text
    assert run_due_jobs(jobs, next_runs, now=59) == []
    assert run_due_jobs(jobs, next_runs, now=60) == ["a.fast", "a.broken"]
    assert run_due_jobs(jobs, next_runs, now=600) == ["a.fast", "a.broken", "a.slow"]
    assert calls.count("fast") == 3 and calls.count("slow") == 2


def test_every_module_job_is_listed_with_its_module(capsys):
    call_command("run_scheduler", "--list")
    listed = capsys.readouterr().out
    for key in registry.periodic_jobs():
        assert key in listed
