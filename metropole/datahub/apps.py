from django.apps import AppConfig


class DatahubConfig(AppConfig):
    name = "metropole.datahub"
    label = "datahub"
    verbose_name = "Data hub"
    default_auto_field = "django.db.models.BigAutoField"
