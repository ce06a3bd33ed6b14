from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tessera.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from tessera.accounts import signals  # noqa: F401
