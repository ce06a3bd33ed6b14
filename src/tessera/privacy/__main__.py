"""``python -m tessera.privacy``."""

from tessera.privacy.cli import privacy_cli

privacy_cli()
