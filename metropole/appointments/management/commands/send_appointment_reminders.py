from django.conf import settings
from django.core.management.base import BaseCommand

from metropole.appointments.services import send_due_reminders


class Command(BaseCommand):
    help = "Send the reminders of appointments due within 48 hours (run it every few minutes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=settings.METROPOLE_BASE_URL,
            help="Public address of the site, for the cancellation links (https://...).",
        )

    def handle(self, *args, base_url, **options):
        count = send_due_reminders(base_url=base_url)
        self.stdout.write(f"{count} reminder(s) sent.")
