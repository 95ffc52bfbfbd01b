from django.core.management.base import BaseCommand

from metropole.steering.collectors import collect_due


class Command(BaseCommand):
    help = (
        "Collect the automatic values of every indicator that is due (its last automatic value "
        "is older than its collection frequency). Run it daily from cron or a systemd timer; "
        "--enqueue hands the work to the task worker instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Run it on the task worker")

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            from metropole.steering.tasks import collect_indicators_task

            result = collect_indicators_task.enqueue()
            self.stdout.write(f"Enqueued as task {result.id}.")
            return
        report = collect_due()
        self.stdout.write(f"{len(report['collected'])} collected, {len(report['failed'])} failed.")
        for failure in report["failed"]:
            self.stderr.write(f"indicator {failure['indicator']}: {failure['error']}")
