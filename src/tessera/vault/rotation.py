"""Master key rotation: re-wrap every organisation's keys under the new master key."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from tessera.audit.services import record
from tessera.tenancy.context import system_context
from tessera.vault.crypto import new_key
from tessera.vault.keyring import key_file_path, load_keyring, write_key_file
from tessera.vault.keys import clear_key_caches, rewrap_org_keys
from tessera.vault.secrets import is_sealed_under_current_key, open_secret, seal_secret


def rotate_master_key(*, prune: bool = False) -> str:
    """Rotate and return a one-line summary.

    Key-file mode generates the new key and keeps the old ones readable (running processes reload
    the file when they meet an unknown key id). Environment mode re-wraps under TESSERA_MASTER_KEY.
    """
    if settings.TESSERA_MASTER_KEY:
        keyring = load_keyring()
        mode = "environment"
    else:
        old = load_keyring()
        fresh = new_key()
        previous = [old.current.key, *(k.key for k in old.previous)]
        write_key_file(key_file_path(), fresh, previous)
        keyring = load_keyring()
        mode = "key file"
    count = rewrap_org_keys(keyring)
    resealed = reseal_mfa_secrets()
    clear_key_caches()
    if prune and mode == "key file":
        write_key_file(key_file_path(), keyring.current.key, [])
    with system_context():
        record(action="keys.rotate", object_type="MasterKey", object_id=keyring.current.key_id)
    return (
        f"Re-wrapped {count} organisation key set(s) under master key {keyring.current.key_id} "
        f"({mode}); re-sealed {resealed} MFA secret(s)."
    )


def reseal_mfa_secrets() -> int:
    """Seal every TOTP and recovery-code seed under the current master key (legacy clear ones too)."""
    from allauth.mfa.models import Authenticator

    from tessera.accounts.adapters import MFA_PURPOSE

    count = 0
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update().filter(
            type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
        ):
            key = "secret" if authenticator.type == Authenticator.Type.TOTP else "seed"
            value = authenticator.data.get(key)
            if not isinstance(value, str) or is_sealed_under_current_key(value):
                continue
            plain = open_secret(value, purpose=MFA_PURPOSE)
            authenticator.data[key] = seal_secret(plain, purpose=MFA_PURPOSE)
            authenticator.save(update_fields=["data"])
            count += 1
    return count
