"""Re-pull the remote resources and module exports whose time has come, check the
availability of the others, and drop the tables of expired versions.

Run it from cron or a scheduler every few minutes (`manage.py datahub_pull_due`); the loads
it creates are queued for the task worker (or run here with --now)."""

from django.core.management.base import BaseCommand

from metropole.datahub import services
from metropole.datahub.ingest.pipeline import load_version


class Command(BaseCommand):
    help = "Pull due remote resources and module exports; drop expired version tables."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="store_true", help="load the new versions here, not in the worker"
        )
        parser.add_argument(
            "--module-exports",
            action="store_true",
            help="first publish every module's open-data export as a dataset (idempotent)",
        )

    def handle(self, *args, now=False, module_exports=False, **options):
        if module_exports:
            from metropole.core.queries import current_metropole

            datasets = services.sync_module_exports(current_metropole())
            self.stdout.write(f"{len(datasets)} module export(s) published as datasets.")
        created = services.pull_due()
        if now:
            for version_id in created:
                version = load_version(version_id)
                services.compute_quality(version.resource.dataset)
        dropped = services.drop_expired_versions()
        self.stdout.write(f"{len(created)} new version(s), {dropped} expired table(s) dropped.")
