from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "tessera.vault"
    label = "vault"
    verbose_name = "Vault"
