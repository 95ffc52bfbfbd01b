from django.urls import path

from . import views

app_name = "appointments"
urlpatterns = [
    path("", views.index, name="index"),
    path("mes-rendez-vous/", views.mine, name="mine"),
    path("mes-rendez-vous/<int:appointment_id>/annuler/", views.cancel_own, name="cancel_own"),
    path("rdv/<str:token>/", views.appointment_page, name="mine_one"),
    path("rdv/<str:token>/calendrier.ics", views.appointment_ics, name="ics"),
    path("agenda/<int:pk>/", views.agenda, name="agenda"),
    path("agenda/<int:pk>/reserver/", views.book, name="book"),
    path("agenda/<int:pk>/liste-attente/", views.waiting, name="waiting"),
    path("gestion/<slug:slug>/", views.manage, name="manage"),
    path("gestion/<slug:slug>/nouvel-agenda/", views.agenda_settings, name="create"),
    path("gestion/<slug:slug>/<int:pk>/", views.day, name="day"),
    path("gestion/<slug:slug>/<int:pk>/reglages/", views.agenda_settings, name="settings"),
    path("gestion/<slug:slug>/<int:pk>/agenda.ics", views.agenda_ics, name="agenda_ics"),
    path(
        "gestion/<slug:slug>/<int:pk>/agents/<int:agent_id>/",
        views.agent_edit,
        name="agent_edit",
    ),
    path(
        "gestion/<slug:slug>/<int:pk>/absences/<int:absence_id>/",
        views.absence_edit,
        name="absence_edit",
    ),
    path(
        "gestion/<slug:slug>/<int:pk>/types/<int:type_id>/",
        views.type_edit,
        name="type_edit",
    ),
    path(
        "gestion/<slug:slug>/<int:pk>/statut/<int:appointment_id>/",
        views.set_status,
        name="status",
    ),
]
