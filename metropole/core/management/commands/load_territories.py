from django.core.management.base import BaseCommand, CommandError

from metropole.core import reference, services
from metropole.core.exceptions import PlatformError

REQUIRED = ["200093201", "200054781", "200023414", "200054807"]


class Command(BaseCommand):
    help = "Load (or refresh) metropoles, their EPTs and communes from the reference data."

    def add_arguments(self, parser):
        parser.add_argument("sirens", nargs="*", help="SIREN of each metropole to load")
        parser.add_argument("--list", action="store_true", help="List the known metropoles")
        parser.add_argument(
            "--source-metropoles",
            action="store_true",
            help="Load the four metropoles of the source documents",
        )

    def handle(self, *args, sirens, list, source_metropoles, **options):
        if list:
            for siren, data in sorted(reference.metropoles().items(), key=lambda i: i[1]["name"]):
                self.stdout.write(f"{siren}  {data['name']} ({len(data['communes'])} communes)")
            return
        sirens = sirens + (REQUIRED if source_metropoles else [])
        if not sirens:
            raise CommandError("Give at least one SIREN, or --source-metropoles, or --list.")
        for siren in sirens:
            try:
                metropole = services.load_metropole(siren)
            except PlatformError as error:
                raise CommandError(f"{error.title}: {error.detail}") from None
            count = metropole.__class__.objects.communes().filter(metropole=metropole).count()
            self.stdout.write(self.style.SUCCESS(f"{metropole.name}: {count} communes loaded"))
