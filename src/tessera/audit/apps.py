from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tessera.audit"
    label = "audit"
    verbose_name = "Audit"
