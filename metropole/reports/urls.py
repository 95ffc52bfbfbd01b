"""Mounted at the root (url_prefix ""): the pages under signalements/, Open311 under
open311/v2/ where GeoReport clients expect it."""

from django.urls import path

from . import open311, views

app_name = "reports"
urlpatterns = [
    path("signalements/", views.index, name="index"),
    path("signalements/nouveau/", views.new, name="new"),
    path("signalements/mes-signalements/", views.mine, name="mine"),
    path("signalements/<int:pk>/", views.detail, name="detail"),
    path("signalements/<int:pk>/photo", views.photo, name="photo"),
    path("signalements/<int:pk>/soutenir/", views.support, name="support"),
    path("signalements/<int:pk>/rouvrir/", views.reopen, name="reopen"),
    path("signalements/<int:pk>/satisfaction/", views.satisfaction, name="satisfaction"),
    path("signalements/gestion/<slug:slug>/", views.queue, name="queue"),
    path("signalements/gestion/<slug:slug>/<int:pk>/", views.handle, name="handle"),
    path("signalements/categories/<slug:slug>/", views.categories, name="categories"),
    path("signalements/categories/<slug:slug>/<int:pk>/", views.categories, name="category_edit"),
    path(
        "signalements/categories/<slug:slug>/<int:pk>/questions/",
        views.question,
        name="question_new",
    ),
    path(
        "signalements/categories/<slug:slug>/<int:pk>/questions/<int:qpk>/",
        views.question,
        name="question_edit",
    ),
    path(
        "signalements/categories/<slug:slug>/<int:pk>/questions/<int:qpk>/supprimer/",
        views.question_delete,
        name="question_delete",
    ),
    path("open311/v2/services.<str:fmt>", open311.service_list, name="open311_services"),
    path(
        "open311/v2/services/<slug:code>.<str:fmt>",
        open311.service_definition,
        name="open311_service",
    ),
    path("open311/v2/requests.<str:fmt>", open311.requests_view, name="open311_requests"),
    path("open311/v2/requests/<int:pk>.<str:fmt>", open311.request_detail, name="open311_request"),
]
