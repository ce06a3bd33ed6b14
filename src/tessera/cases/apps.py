from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tessera.cases"
    label = "cases"
    verbose_name = "Cases"
