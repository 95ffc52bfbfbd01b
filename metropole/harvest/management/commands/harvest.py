"""Harvest remote catalogues: `manage.py harvest <source id>`, `manage.py harvest --due`
(every active source whose due date has passed: run it from cron), `manage.py harvest
--list`."""

from django.core.management.base import BaseCommand, CommandError

from metropole.harvest.models import HarvestSource
from metropole.harvest.services import run_due, run_source


class Command(BaseCommand):
    help = "Harvest one source, or every source that is due."

    def add_arguments(self, parser):
        parser.add_argument("source_id", nargs="?", type=int, help="id of the source to harvest")
        parser.add_argument("--due", action="store_true", help="harvest every source that is due")
        parser.add_argument("--list", action="store_true", help="list the sources")

    def _report(self, run):
        self.stdout.write(
            f"{run.source.name} [{run.status}]: {run.pages} page(s), {run.seen} seen, "
            f"{run.created} created, {run.updated} updated, {run.unchanged} unchanged, "
            f"{run.archived} archived, {run.failed} failed"
        )
        for entry in run.errors[:20]:
            self.stdout.write(f"  error {entry['record']}: {entry['message']}")

    def handle(self, *args, source_id=None, due=False, list=False, **options):
        if list:
            for source in HarvestSource.objects.select_related("territory"):
                self.stdout.write(
                    f"{source.pk}\t{source.kind}\t{source.schedule}\t"
                    f"{'active' if source.active else 'paused'}\t{source.territory.code}\t"
                    f"{source.next_run_at or '-'}\t{source.url}"
                )
            return
        if due == (source_id is not None):
            raise CommandError("Give a source id or --due (or --list).")
        if due:
            from metropole.harvest.models import HarvestRun

            ids = run_due()
            for run in HarvestRun.objects.filter(pk__in=ids).select_related("source"):
                self._report(run)
            self.stdout.write(f"{len(ids)} source(s) harvested.")
            return
        source = (
            HarvestSource.objects.select_related("territory", "run_as").filter(pk=source_id).first()
        )
        if source is None:
            raise CommandError(f"No harvest source {source_id}.")
        self._report(run_source(source))
