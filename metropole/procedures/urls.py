from django.urls import path

from . import views_admin, views_agent, views_citizen, views_workflow

app_name = "procedures"
urlpatterns = [
    path("", views_citizen.index, name="index"),
    path("mes-demandes/", views_citizen.mine, name="mine"),
    path("brouillon/<int:pk>/page/<int:page>/", views_citizen.draft_page, name="draft_page"),
    path("brouillon/<int:pk>/recapitulatif/", views_citizen.draft_review, name="draft_review"),
    path("brouillon/<int:pk>/supprimer/", views_citizen.draft_discard, name="draft_discard"),
    path("suivi/<str:code>/", views_citizen.status, name="status"),
    path("suivi/<str:code>/envoyee/", views_citizen.done, name="done"),
    path("suivi/<str:code>/repondre/<str:token>/", views_citizen.answer, name="answer"),
    path(
        "suivi/<str:code>/fichiers/<int:attachment_id>/",
        views_citizen.attachment,
        name="attachment",
    ),
    path("gestion/demandes/<str:code>/", views_agent.handle, name="handle"),
    path("gestion/<slug:slug>/", views_agent.queue, name="queue"),
    path("gestion/<slug:slug>/lot/", views_agent.bulk, name="bulk"),
    path("gestion/<slug:slug>/saisie/", views_agent.enter, name="enter"),
    path("gestion/<slug:slug>/saisie/<slug:form_slug>/", views_agent.enter_form, name="enter_form"),
    path("gestion/<slug:slug>/statistiques/", views_agent.statistics, name="statistics"),
    path("gestion/<slug:slug>/formulaires/", views_admin.forms_list, name="forms"),
    path("gestion/<slug:slug>/formulaires/<int:form_id>/", views_admin.form_edit, name="form_edit"),
    path(
        "gestion/<slug:slug>/formulaires/<int:form_id>/champs/<int:field_id>/",
        views_admin.field_edit,
        name="field_edit",
    ),
    path(
        "gestion/<slug:slug>/formulaires/<int:form_id>/champs/<int:field_id>/deplacer/",
        views_admin.field_move,
        name="field_move",
    ),
    path("gestion/<slug:slug>/circuits/", views_workflow.workflows, name="workflows"),
    path("gestion/<slug:slug>/circuits/nouveau/", views_workflow.workflow_new, name="workflow_new"),
    path(
        "gestion/<slug:slug>/circuits/importer/",
        views_workflow.workflow_json,
        name="workflow_import",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/",
        views_workflow.workflow_edit,
        name="workflow_edit",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/json/",
        views_workflow.workflow_json,
        name="workflow_json",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/export.json",
        views_workflow.workflow_export,
        name="workflow_export",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/ajouter-un-etat/",
        views_workflow.status_edit,
        name="status_new",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/etats/<str:code>/",
        views_workflow.status_edit,
        name="status_edit",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/ajouter-une-transition/",
        views_workflow.transition_edit,
        name="transition_new",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/transitions/<int:index>/",
        views_workflow.transition_edit,
        name="transition_edit",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/etats/<str:key>/ajouter-une-action/",
        views_workflow.action_new,
        {"target": "etat"},
        name="status_action_new",
    ),
    path(
        "gestion/<slug:slug>/circuits/<int:workflow_id>/transitions/<str:key>/ajouter-une-action/",
        views_workflow.action_new,
        {"target": "transition"},
        name="transition_action_new",
    ),
    path("gestion/<slug:slug>/equipes/", views_admin.teams, name="teams"),
    path("<slug:slug>/", views_citizen.form_start, name="form"),
]
