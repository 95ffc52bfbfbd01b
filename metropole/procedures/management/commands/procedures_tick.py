"""Periodic work of procedures: move requests whose workflow timeout passed, and anonymise
closed requests past their form's retention period (RGPD)."""

from django.core.management.base import BaseCommand

from metropole.procedures import services, tasks


class Command(BaseCommand):
    help = "Run workflow timeouts and the RGPD anonymisation of procedures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="store_true", help="Run here instead of queueing for the worker."
        )

    def handle(self, *args, now=False, **options):
        if now:
            moved = services.wake_due_requests()
            erased = services.anonymise_expired()
            self.stdout.write(f"{moved} request(s) moved on timeout, {erased} anonymised.")
        else:
            tasks.wake_due_requests.enqueue()
            tasks.anonymise_expired.enqueue()
            self.stdout.write("Queued: timeouts and anonymisation.")
