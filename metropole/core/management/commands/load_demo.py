from django.conf import settings
from django.core.management.base import BaseCommand

from metropole.core import services
from metropole.core.demo import DEMO_DOMAIN, demo_password
from metropole.core.registry import registry

from .load_territories import REQUIRED


class Command(BaseCommand):
    help = (
        "Load the install's metropole (settings.METROPOLE_SIREN) with every module's demo "
        "content; --all also loads the other metropoles of the source documents."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also load the other three metropoles of the source documents",
        )

    def handle(self, *args, all, **options):
        sirens = [settings.METROPOLE_SIREN]
        if all:
            sirens += [s for s in REQUIRED if s != settings.METROPOLE_SIREN]
        for siren in sirens:
            metropole = services.load_metropole(siren)
            for module in registry:
                if module.demo_data:
                    module.demo_data(metropole)
            self.stdout.write(self.style.SUCCESS(f"Demo content loaded for {metropole.name}."))
        if options["verbosity"] >= 1:  # `make run` passes -v0: its banner shows the login
            self.stdout.write(f"Demo login: admin@{DEMO_DOMAIN} / {demo_password()}")
