from django.apps import AppConfig


class HelplineConfig(AppConfig):
    name = "tessera.helpline"
    label = "helpline"
    verbose_name = "Helpline"
