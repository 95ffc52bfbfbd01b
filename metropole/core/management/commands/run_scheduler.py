import time

from django.core.management.base import BaseCommand

from metropole.core.registry import registry
from metropole.core.scheduler import run_due_jobs, run_forever


class Command(BaseCommand):
    help = "Run the modules' periodic jobs at their intervals (--once: every job once, for cron)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and exit")
        parser.add_argument("--list", action="store_true", help="List the jobs and exit")

    def handle(self, *args, once, list, **options):
        jobs = registry.periodic_jobs()
        if list:
            for key, job in jobs.items():
                self.stdout.write(f"{key}\tevery {job.every_seconds} s")
            return
        if once:
            for key in run_due_jobs(jobs, {}, time.monotonic()):
                self.stdout.write(f"ran {key}")
            return
        run_forever()
