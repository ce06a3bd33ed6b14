from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tessera.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from tessera.tenancy import checks, rls, timestamps  # noqa: F401  (registers system checks)

        post_migrate.connect(rls.apply_row_level_security, dispatch_uid="tessera-rls")
        connection_created.connect(
            timestamps.use_iso_timestamp_loader, dispatch_uid="tessera-iso-timestamps"
        )
