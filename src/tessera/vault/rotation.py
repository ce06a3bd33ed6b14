"""Master key rotation: re-wrap every organisation's keys under the new master key."""

from __future__ import annotations

from django.conf import settings

from tessera.audit.services import record
from tessera.tenancy.context import system_context
from tessera.vault.crypto import new_key
from tessera.vault.keyring import key_file_path, load_keyring, write_key_file
from tessera.vault.keys import clear_key_caches, rewrap_org_keys


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
    clear_key_caches()
    if prune and mode == "key file":
        write_key_file(key_file_path(), keyring.current.key, [])
    with system_context():
        record(action="keys.rotate", object_type="MasterKey", object_id=keyring.current.key_id)
    return (
        f"Re-wrapped {count} organisation key set(s) under master key {keyring.current.key_id} "
        f"({mode})."
    )
