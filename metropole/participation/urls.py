from django.urls import path

from . import views

app_name = "participation"
P = "p/<slug:slug>/<int:cid>"
urlpatterns = [
    path("", views.index, name="index"),
    path("mon-profil/", views.profile, name="profile"),
    path("p/<slug:slug>/", views.process_detail, name="process"),
    path(f"{P}/propositions/", views.proposals, name="proposals"),
    path(f"{P}/propositions/nouvelle/", views.new_proposal, name="new_proposal"),
    path(f"{P}/propositions/similaires/", views.similar, name="similar"),
    path("propositions/<int:pk>/", views.proposal_detail, name="proposal"),
    path("propositions/<int:pk>/soutien/", views.support, name="support"),
    path("propositions/<int:pk>/suivre/", views.follow, name="follow"),
    path("propositions/<int:pk>/modifier/", views.edit_proposal, name="edit_proposal"),
    path("propositions/<int:pk>/signaler/", views.report, name="report"),
    path("propositions/<int:pk>/reponse/", views.answer, name="answer"),
    path(f"{P}/questionnaire/", views.survey, name="survey"),
    path(f"{P}/questionnaire/resultats/", views.survey_results, name="survey_results"),
    path(f"{P}/questionnaire/resultats.csv", views.survey_csv, name="survey_csv"),
    path(f"{P}/budget/", views.budget, name="budget"),
    path(f"{P}/budget/verifier/", views.budget_review, name="budget_review"),
    path(f"{P}/budget/code-papier/", views.budget_paper, name="budget_paper"),
    path(f"{P}/budget/resultats/", views.budget_results, name="budget_results"),
    path(f"{P}/reunions/", views.meetings, name="meetings"),
    path(f"{P}/reunions/<int:pk>/", views.meeting_detail, name="meeting"),
    path(f"{P}/reunions/<int:pk>/agenda.ics", views.meeting_ics, name="meeting_ics"),
    path(f"{P}/suivi/", views.results, name="results"),
    path(f"{P}/debats/", views.debates, name="debates"),
    path(f"{P}/debats/<int:pk>/", views.debate_detail, name="debate"),
    path(f"{P}/debats/<int:pk>/conclusion/", views.conclude_debate, name="conclude_debate"),
    path("commentaires/<int:pk>/modifier/", views.edit_comment, name="edit_comment"),
    path("commentaires/<int:pk>/signaler/", views.report_comment, name="report_comment"),
    path("administration/<slug:slug>/", views.admin_processes, name="admin_processes"),
    path("administration/<slug:slug>/moderation/", views.moderation, name="moderation"),
    path("administration/<slug:slug>/tableau-de-bord/", views.dashboard, name="dashboard"),
    path(
        "administration/<slug:slug>/processus/<slug:process>/",
        views.admin_process,
        name="admin_process",
    ),
    path(
        "administration/<slug:slug>/processus/<slug:process>/outils/<int:cid>/retirer/",
        views.admin_component_remove,
        name="admin_component_remove",
    ),
    path(
        "administration/<slug:slug>/processus/<slug:process>/outils/<int:cid>/fusionner/",
        views.admin_merge,
        name="admin_merge",
    ),
]
