"""Mounted at the site's root (url_prefix ""): the DCAT-AP catalogue where harvesters
expect it (/catalog.ttl, /catalog.rdf, /catalog.jsonld, /catalog/datasets/<uuid>), and
the harvest sources' pages under /moissonnage/."""

from django.urls import path, re_path

from metropole.datahub.dcat import views as dcat

from . import views

app_name = "harvest"

urlpatterns = [
    path("catalog", dcat.catalog, name="catalog"),
    re_path(r"^catalog\.(?P<ext>ttl|rdf|jsonld)$", dcat.catalog, name="catalog_file"),
    path("catalog/datasets/<uuid:uid>", dcat.dataset, name="dataset"),
    re_path(
        r"^catalog/datasets/(?P<uid>[0-9a-f-]{36})\.(?P<ext>ttl|rdf|jsonld)$",
        dcat.dataset,
        name="dataset_file",
    ),
    path("catalog/datasets/<uuid:uid>/schema.json", dcat.table_schema, name="table_schema"),
    path("moissonnage/gestion/<slug:slug>/", views.sources, name="sources"),
    path("moissonnage/gestion/<slug:slug>/<int:pk>/", views.source, name="source"),
    path("moissonnage/gestion/<slug:slug>/<int:pk>/lancer/", views.run_now, name="run_now"),
    path(
        "moissonnage/gestion/<slug:slug>/<int:pk>/passages/<int:run>/",
        views.run_detail,
        name="run",
    ),
]
