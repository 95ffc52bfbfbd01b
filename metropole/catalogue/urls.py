from django.urls import path

from . import views

app_name = "catalogue"
urlpatterns = [
    path("", views.index, name="index"),
    path("commune/<slug:slug>/", views.commune, name="commune"),
    path("categorie/<slug:slug>/", views.category, name="category"),
    path("gestion/<slug:slug>/", views.manage, name="manage"),
    path("gestion/<slug:slug>/nouveau/", views.edit, name="create"),
    path("gestion/<slug:slug>/competences/", views.competences, name="competences"),
    path("gestion/<slug:slug>/<int:pk>/", views.edit, name="edit"),
    path("gestion/<slug:slug>/<int:pk>/reponses/", views.add_answer, name="add_answer"),
    path(
        "gestion/<slug:slug>/<int:pk>/reponses/<int:answer_id>/supprimer/",
        views.delete_answer,
        name="delete_answer",
    ),
    path("<slug:territory>/<slug:slug>/", views.service, name="service"),
]
