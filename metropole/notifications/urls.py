from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("<slug:slug>/journal/", views.log, name="log"),
]
