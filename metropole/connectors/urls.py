from django.urls import path

from . import views

app_name = "connectors"
urlpatterns = [
    path("<slug:slug>/", views.index, name="index"),
    path("<slug:slug>/appels/<int:call_id>/relancer/", views.retry, name="retry"),
]
