from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "tessera.releases"
    label = "releases"
    verbose_name = "Privacy-preserving releases"
