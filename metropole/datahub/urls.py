"""Pages of the data hub: the open-data portal (search, dataset pages) and the publishers'
back-office, the same pages in two spaces: a territory's (under /data/gestion/<territory>/,
inside its administration) and a partner organisation's (under /data/partenaire/<id>/).
The API lives at /api/datahub/."""

from django.urls import path

from .views import portal, publisher

app_name = "datahub"


def back_office(prefix: str, name_prefix: str) -> list:
    """The publishers' pages under `prefix` (a territory's or an organisation's space)."""
    dataset = prefix + "jeux/<slug:dataset>/"
    resource = dataset + "ressources/<uuid:resource>/"
    version = resource + "versions/<int:number>/"
    pages = [
        (prefix, publisher.datasets, "manage"),
        (prefix + "nouveau/", publisher.create_dataset, "create"),
        (dataset, publisher.dataset, "manage_dataset"),
        (dataset + "modifier/", publisher.edit_dataset, "edit"),
        (dataset + "statut/", publisher.change_status, "change_status"),
        (dataset + "ressources/nouvelle/", publisher.add_resource, "add_resource"),
        (resource, publisher.resource, "manage_resource"),
        (resource + "colonnes/", publisher.review_column, "review_column"),
        (version, publisher.version, "version"),
        (version + "etat/", publisher.version_status, "version_status"),
        (version + "retablir/", publisher.rollback, "rollback"),
        (version + "feuille/", publisher.load_sheet, "load_sheet"),
        (version + "feuilles/", publisher.sheet_resources, "sheet_resources"),
    ]
    return [path(route, view, name=name_prefix + name) for route, view, name in pages]


urlpatterns = [
    path("", portal.index, name="index"),
    # back-office (before <slug:slug>/ so that "gestion" is never read as a dataset)
    *back_office("gestion/<slug:slug>/", ""),
    *back_office("partenaire/<int:organisation>/", "partner_"),
    # public pages
    path("<slug:slug>/", portal.dataset, name="dataset"),
    path("<slug:slug>/<uuid:resource>/carte.geojson", portal.map_sample, name="map_sample"),
    path("<slug:slug>/<uuid:resource>/telecharger.<str:fmt>", portal.download, name="download"),
    path("<slug:slug>/<uuid:resource>/export/<str:token>/", portal.export_status, name="export"),
]
