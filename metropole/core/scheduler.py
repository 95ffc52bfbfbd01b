"""Runs the modules' periodic jobs (`PeriodicJob` in their manifests) at their intervals.

One scheduler per install (`manage.py run_scheduler`, started by `make run` beside the
worker; in production one systemd unit or container). Jobs are idempotent, so a restart that
runs every job at once, or a second scheduler by mistake, only repeats harmless work.
"""

import logging
import time
from collections.abc import Callable, Mapping

from .registry import PeriodicJob, registry

log = logging.getLogger("metropole.scheduler")


def run_due_jobs(
    jobs: Mapping[str, PeriodicJob], next_runs: dict[str, float], now: float
) -> list[str]:
    """Run the jobs whose time has come; record when each is next due. Returns the keys run.

    A job that fails is logged and retried at its next interval: one broken module never
    stops the others.
    """
    ran = []
    for key, job in jobs.items():
        if next_runs.get(key, 0) > now:
            continue
        next_runs[key] = now + job.every_seconds
        ran.append(key)
        try:
            job.run()
        except Exception:
            log.exception("Periodic job %s failed; next try in %s s", key, job.every_seconds)
    return ran


def run_forever(sleep: Callable[[float], None] = time.sleep, clock=time.monotonic) -> None:
    jobs = registry.periodic_jobs()
    log.info("Scheduler started with %s", ", ".join(jobs) or "no jobs")
    next_runs: dict[str, float] = {}
    while True:
        run_due_jobs(jobs, next_runs, clock())
        sleep(max(1.0, min(next_runs.values(), default=clock() + 60) - clock()))
