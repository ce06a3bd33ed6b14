"""Model fields that seal identifying values, and blind indexes computed from them.

    class Person(OrgScopedModel):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        first_name = EncryptedTextField()
        first_name_index = BlindIndexField(source="first_name", kind="name")

Values are sealed with the data subject's key (by default the row itself; `subject_field` names a
foreign key to the subject otherwise). The associated data binds each ciphertext to organisation,
table, column and row, so a ciphertext copied anywhere else fails to open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from tessera.tenancy.context import require_org
from tessera.vault.blind import blind_index
from tessera.vault.crypto import open_sealed, seal
from tessera.vault.keys import prefetch_subject_keys, subject_key
from tessera.vault.normalise import (
    normalise_date,
    normalise_document,
    normalise_name,
    normalise_phone,
)


class Sealed(bytes):
    """A ciphertext as loaded from the database, not yet opened."""


def associated_data(org_id: int, table: str, column: str, row_id: object) -> bytes:
    """What a sealed value is bound to: organisation, table, column and row (its id as text)."""
    return f"tessera:v1|{org_id}|{table}|{column}|{row_id}".encode()


def _associated_data(instance: models.Model, field: models.Field[Any, Any]) -> bytes:
    return associated_data(
        instance.org_id,  # type: ignore[attr-defined]
        instance._meta.db_table,
        field.column,
        instance.pk,
    )


class _SealedAttribute:
    """Opens the ciphertext on first read, keeps the plaintext on the instance only."""

    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance: models.Model | None, owner: type) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            subject = self.field.subject_of(instance)
            plain = open_sealed(
                subject_key(subject, create=False),
                bytes(value),
                _associated_data(instance, self.field),
            )
            value = self.field.from_plain_bytes(plain)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.BinaryField):  # type: ignore[type-arg]
    """Base for sealed fields; subclasses convert their Python type to and from bytes."""

    def __init__(self, *args: Any, subject_field: str = "pk", **kwargs: Any) -> None:
        self.subject_field = subject_field
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = True
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.subject_field != "pk":
            kwargs["subject_field"] = self.subject_field
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str, **kwargs: Any) -> None:  # type: ignore[override]
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.attname, _SealedAttribute(self))
        if not cls._meta.abstract:
            models.signals.pre_save.connect(
                _forget_keys_of_previous_save, sender=cls, weak=False, dispatch_uid=f"vault-{cls}"
            )
            subjects = set(getattr(cls, "_vault_subject_fields", set())) | {self.subject_field}
            cls._vault_subject_fields = subjects  # type: ignore[attr-defined]
            sealed = set(getattr(cls, "_vault_sealed_attnames", set())) | {self.attname}
            cls._vault_sealed_attnames = sealed  # type: ignore[attr-defined]
            cls.tessera_after_fetch = staticmethod(_prefetch_keys_for_rows)  # type: ignore[attr-defined]

    def subject_of(self, instance: models.Model) -> uuid.UUID:
        value = instance.pk if self.subject_field == "pk" else getattr(instance, self.subject_field)
        if not isinstance(value, uuid.UUID):
            raise ImproperlyConfigured(
                f"{type(instance).__name__}.{self.name}: the data subject ({self.subject_field}) must "
                "be a UUID known before saving."
            )
        return value

    def to_plain_bytes(self, value: Any) -> bytes:
        raise NotImplementedError

    def from_plain_bytes(self, raw: bytes) -> Any:
        raise NotImplementedError

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return Sealed(bytes(value))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or value == "":
            return None
        if isinstance(value, Sealed):
            return bytes(value)
        subject = self.subject_of(model_instance)
        # Keys used during this save() (cleared by the pre_save signal): the fields of one new row
        # share the key its first field created, before that key is committed and cached.
        keys_this_save = model_instance.__dict__.setdefault(KEYS_THIS_SAVE, {})
        key = keys_this_save.get(subject)
        if key is None:
            is_new = add and self.subject_field == "pk"
            key = keys_this_save[subject] = subject_key(subject, create=True, is_new=is_new)
        return seal(
            key,
            self.to_plain_bytes(value),
            _associated_data(model_instance, self),
        )

    def value_from_object(self, obj: models.Model) -> Any:
        return getattr(obj, self.attname)


KEYS_THIS_SAVE = "_vault_keys_this_save"


def _forget_keys_of_previous_save(sender: type, instance: models.Model, **kwargs: Any) -> None:
    instance.__dict__.pop(KEYS_THIS_SAVE, None)


def _prefetch_keys_for_rows(rows: list[models.Model]) -> None:
    model = type(rows[0])
    if not any(name in rows[0].__dict__ for name in model._vault_sealed_attnames):  # type: ignore[attr-defined]
        return  # every sealed column was deferred (.only/.defer): there is nothing to open
    subject_fields = model._vault_subject_fields  # type: ignore[attr-defined]
    subjects = []
    for row in rows:
        for field in subject_fields:
            value = row.pk if field == "pk" else row.__dict__.get(field)
            if isinstance(value, uuid.UUID):
                subjects.append(value)
    prefetch_subject_keys(subjects)


class EncryptedTextField(EncryptedField):
    def to_plain_bytes(self, value: Any) -> bytes:
        return str(value).encode()

    def from_plain_bytes(self, raw: bytes) -> str:
        return raw.decode()


class EncryptedDateField(EncryptedField):
    def to_plain_bytes(self, value: Any) -> bytes:
        return normalise_date(value).encode()

    def from_plain_bytes(self, raw: bytes) -> date:
        return date.fromisoformat(raw.decode())


def _phone_in_org_region(value: str) -> str:
    return normalise_phone(value, require_org().shipping_country or None)


NORMALISERS: dict[str, Callable[[Any], str]] = {
    "name": normalise_name,
    "phone": _phone_in_org_region,
    "dob": normalise_date,
    "document": normalise_document,
}


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """The keyed index of another (sealed) field, kept in step with it on every save.

    Not indexed by itself: a model declares the database index in `Meta.indexes`. `db_index=True`
    on a CharField makes Django add a second, `varchar_pattern_ops` copy of the index on
    PostgreSQL for LIKE queries, and blind indexes are only ever compared for equality: the copy
    would cost every insert without ever serving a query.
    """

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        if kind not in NORMALISERS:
            raise ImproperlyConfigured(
                f"BlindIndexField kind must be one of {sorted(NORMALISERS)}."
            )
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        raw = model_instance.__dict__.get(self.source)
        if isinstance(raw, Sealed):
            # Unchanged since it was loaded: the stored index is still right.
            return str(getattr(model_instance, self.attname) or "")
        value = "" if raw in (None, "") else NORMALISERS[self.kind](raw)
        index = blind_index(self.kind, value)
        setattr(model_instance, self.attname, index)
        return index


def index_for(kind: str, value: Any) -> str:
    """The blind index to search for `value` in the current organisation ('' if it cannot match)."""
    if value in (None, ""):
        return ""
    return blind_index(kind, NORMALISERS[kind](value))
