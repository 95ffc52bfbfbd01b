from django.urls import path

from . import views

app_name = "steering"

urlpatterns = [
    path("", views.index, name="index"),
    path("nouveau/<slug:slug>/", views.plan_create, name="plan_create"),
    path("territoire/<slug:slug>/", views.territory, name="territory"),
    path("plans/<int:pk>/", views.dashboard, name="dashboard"),
    path("plans/<int:pk>/structure/", views.structure, name="structure"),
    path("plans/<int:pk>/indicateurs/", views.indicators, name="indicators"),
    path("plans/<int:pk>/indicateurs/nouveau/", views.indicator_create, name="indicator_create"),
    path("plans/<int:pk>/import/", views.values_import, name="values_import"),
    path("plans/<int:pk>/instances/", views.meetings, name="meetings"),
    path("plans/<int:pk>/rapport/<int:year>/", views.annual_report, name="report"),
    path(
        "plans/<int:pk>/rapport/<int:year>.pdf",
        views.annual_report,
        {"as_pdf": True},
        name="report_pdf",
    ),
    path("plans/<int:pk>/rapport/<int:year>/s<int:half>/", views.annual_report, name="half_report"),
    path(
        "plans/<int:pk>/rapport/<int:year>/s<int:half>.pdf",
        views.annual_report,
        {"as_pdf": True},
        name="half_report_pdf",
    ),
    path("transparence/<int:pk>/", views.transparency, name="transparency"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("actions/<int:pk>/budget/", views.action_budget, name="action_budget"),
    path("indicateurs/<int:pk>/", views.indicator_detail, name="indicator"),
    path("reunions/<int:pk>/", views.meeting_detail, name="meeting"),
    path("reunions/<int:pk>/dossier/", views.meeting_pack, name="meeting_pack"),
    path(
        "reunions/<int:pk>/dossier.pdf",
        views.meeting_pack,
        {"as_pdf": True},
        name="meeting_pack_pdf",
    ),
    path("documents/<int:pk>/", views.document_download, name="document"),
]
