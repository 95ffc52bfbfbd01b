"""Pages of the data hub: the open-data portal (search, dataset pages) and the publishers'
back-office (under /data/gestion/<territory>/). The API lives at /api/datahub/."""

from django.urls import path

from .views import portal, publisher

app_name = "datahub"

manage = "gestion/<slug:slug>/"
dataset = manage + "jeux/<slug:dataset>/"
resource = dataset + "ressources/<uuid:resource>/"

urlpatterns = [
    path("", portal.index, name="index"),
    # back-office (before <slug:slug>/ so that "gestion" is never read as a dataset)
    path(manage, publisher.datasets, name="manage"),
    path(manage + "nouveau/", publisher.create_dataset, name="create"),
    path(dataset, publisher.dataset, name="manage_dataset"),
    path(dataset + "modifier/", publisher.edit_dataset, name="edit"),
    path(dataset + "statut/", publisher.change_status, name="change_status"),
    path(dataset + "ressources/nouvelle/", publisher.add_resource, name="add_resource"),
    path(resource, publisher.resource, name="manage_resource"),
    path(resource + "colonnes/", publisher.review_column, name="review_column"),
    path(resource + "versions/<int:number>/", publisher.version, name="version"),
    path(resource + "versions/<int:number>/etat/", publisher.version_status, name="version_status"),
    path(resource + "versions/<int:number>/retablir/", publisher.rollback, name="rollback"),
    # public pages
    path("<slug:slug>/", portal.dataset, name="dataset"),
    path("<slug:slug>/<uuid:resource>/carte.geojson", portal.map_sample, name="map_sample"),
    path("<slug:slug>/<uuid:resource>/telecharger.<str:fmt>", portal.download, name="download"),
    path("<slug:slug>/<uuid:resource>/export/<str:token>/", portal.export_status, name="export"),
]
