"""Check the DCAT-AP export of the install's catalogue: `manage.py dcat_check
[--strict] [--base-url https://data.example.fr]`. Lists what a harvester would miss
(mandatory properties; with --strict the recommended ones too); exits 1 if anything."""

from django.core.management.base import BaseCommand, CommandError

from metropole.core.queries import current_metropole
from metropole.datahub.dcat.export import MAX_PAGE_SIZE, build_catalog_graph
from metropole.datahub.dcat.validate import check_graph


class Command(BaseCommand):
    help = "Check the DCAT-AP export of the catalogue."

    def add_arguments(self, parser):
        parser.add_argument("--strict", action="store_true", help="also recommended properties")
        parser.add_argument("--base-url", default="http://localhost", help="the site's address")

    def handle(self, *args, strict=False, base_url="http://localhost", **options):
        metropole = current_metropole()
        page, problems, total = 1, [], 0
        while True:
            graph, info = build_catalog_graph(
                metropole, base_url, page=page, page_size=MAX_PAGE_SIZE
            )
            problems += check_graph(graph, strict=strict)
            total = info.total
            if page >= info.last:
                break
            page += 1
        for problem in problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"{total} dataset(s) checked, {len(problems)} problem(s).")
        if problems:
            raise CommandError("The DCAT-AP export is incomplete.")
