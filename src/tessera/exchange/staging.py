"""Sealed rows of a validated bulk import, kept from the dry run for the commit.

The dry run builds each unit's rows (`bulk.build_unit`), seals them here (`seal_unit`: a key per
person and per note, every identifying value sealed, blind indexes computed) and stores them in
batches (`StagedBatch`), the payload sealed again under the job's own key like the uploaded file,
and shredded with it when the import finishes. The commit then writes these rows instead of reading
and validating the file a second time.

Staged rows are used only while they still describe what the commit would build: the fingerprint
covers everything besides the file that building depends on (the acting member and team, the
organisation's members and phone region, the language of generated notes, the payload format).
When it differs, the commit builds the rows again from the file with the same functions.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language

from tessera.cases.models import Case, CaseNote, CaseParty, Person
from tessera.exchange.bulk import (
    BuiltUnit,
    BulkContext,
    Cleaner,
    build_unit,
    bulk_context,
    located,
)
from tessera.exchange.duplicates import DuplicateCheck, PersonIndexes
from tessera.exchange.models import ImportJob, StagedBatch
from tessera.exchange.units import Problem, Unit
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.vault.bulk import RowSealer, SealingKeys, new_row_ids, sealing_keys
from tessera.vault.fields import BlindIndexField, EncryptedField

PAYLOAD_VERSION = 1


class StagedUnit(NamedTuple):
    """One unit's rows, ready to insert: column → value in the form `row_writer` takes."""

    key: str
    first_row: int
    closed: bool
    case: dict[str, Any]
    people: list[dict[str, Any]]
    parties: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    subject_keys: list[dict[str, Any]]
    # Per person: identity number, mobile phone, first name, second name and birth date indexes
    # (the duplicate check's keys, see duplicates.py).
    matches: list[PersonIndexes]


def seal_unit(sealer: RowSealer, built: BuiltUnit) -> StagedUnit:
    ids = iter(new_row_ids(1 + 2 * len(built.people) + len(built.consents) + len(built.notes)))
    case_id = next(ids)
    people: list[dict[str, Any]] = []
    subject_keys: list[dict[str, Any]] = []
    matches: list[PersonIndexes] = []
    for attrs in built.people:
        row = _sealed_row(sealer, Person, next(ids), attrs, subject_keys)
        people.append(row)
        matches.append(
            (
                row.get("identity_number_index", ""),
                row.get("mobile_phone_index", ""),
                row.get("first_name_index", ""),
                row.get("second_name_index", ""),
                row.get("birthdate_index", ""),
            )
        )
    parties = []
    for person, attrs in zip(people, built.parties, strict=True):
        row = _plain_row(CaseParty, attrs)
        row.update(id=next(ids), case_id=case_id, person_id=person["id"])
        parties.append(row)
    consents = [
        {
            "id": next(ids),
            "person_id": people[index]["id"],
            "case_id": case_id,
            "purpose": purpose,
            "is_given": given,
        }
        for index, purpose, given in built.consents
    ]
    notes = []
    for body in built.notes:
        row = _sealed_row(sealer, CaseNote, next(ids), {"body": body}, subject_keys)
        row.update(case_id=case_id, kind="note")
        notes.append(row)
    case = _plain_row(Case, built.case)
    case["id"] = case_id
    return StagedUnit(
        built.unit.key,
        built.unit.first_row,
        built.closed,
        case,
        people,
        parties,
        consents,
        notes,
        subject_keys,
        matches,
    )


def _sealed_row(
    sealer: RowSealer,
    model: type[models.Model],
    row_id: str,
    attrs: dict[str, Any],
    subject_keys: list[dict[str, Any]],
) -> dict[str, Any]:
    """A row that is its own data subject: sealed fields under its new key, blind indexes."""
    subject = sealer.new_subject(row_id)
    subject_keys.append({"subject_id": row_id, "wrapped_key": subject.wrapped_key})
    plan = _plan(model)
    table = model._meta.db_table
    row: dict[str, Any] = {"id": row_id}
    for attr, value in attrs.items():
        column, kind, sealed = plan[attr]
        if sealed is not None:
            if value is not None and value != "":
                row[column] = sealer.seal(subject, table, column, sealed.to_plain_bytes(value))
        else:
            row[column] = _convert(kind, value)
    for column, kind, source in _indexes(model):
        index = sealer.index(kind, attrs.get(source))
        if index:
            row[column] = index
    return row


def _plain_row(model: type[models.Model], attrs: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(model)
    out = {}
    for attr, value in attrs.items():
        column, kind, _sealed = plan[attr]
        out[column] = _convert(kind, value)
    return out


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value)  # what JSONField stores (default encoder)
    if kind == "date":
        return value.isoformat()
    return value


@cache
def _plan(model: type[models.Model]) -> dict[str, tuple[str, str, EncryptedField | None]]:
    """Attribute → (column, kind of conversion, the sealed field or None)."""
    plan: dict[str, tuple[str, str, EncryptedField | None]] = {}
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, EncryptedField):
            plan[model_field.attname] = (model_field.column, "sealed", model_field)
        elif isinstance(model_field, models.JSONField):
            plan[model_field.attname] = (model_field.column, "json", None)
        elif isinstance(model_field, models.DateField) and not isinstance(
            model_field, models.DateTimeField
        ):
            plan[model_field.attname] = (model_field.column, "date", None)
        else:
            plan[model_field.attname] = (model_field.column, "plain", None)
    return plan


@cache
def _indexes(model: type[models.Model]) -> list[tuple[str, str, str]]:
    """(column, kind, source attribute) of the model's blind indexes."""
    out = []
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, BlindIndexField):
            source = model._meta.get_field(model_field.source)
            assert isinstance(source, models.Field)
            out.append((model_field.column, model_field.kind, source.attname))
    return out


def fingerprint(context: BulkContext, keys: SealingKeys) -> str:
    actor = context.actor
    described = [
        PAYLOAD_VERSION,
        marshal.version,
        keys.org_id,
        keys.phone_region,
        actor.user_id,
        actor.team,
        sorted(context.owners.items()),
        get_language(),
    ]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


@dataclass
class BuiltChunk:
    """What the dry run learnt from a chunk of units (see `build_chunk`)."""

    problems: list[Problem]
    # The staged units, marshalled ('' once any unit of the chunk is refused: nothing to keep).
    payload: bytes
    count: int
    # Per staged unit: its first row and its people's indexes, for the duplicate check.
    checks: list[DuplicateCheck]


def build_chunk(builder: UnitBuilder, units: list[Unit]) -> BuiltChunk:
    """Build and seal a chunk of units; runs without the database (in a worker process)."""
    problems: list[Problem] = []
    staged = []
    for unit in units:
        problems.extend(unit.problems)
        if not unit.document or unit.problems:
            continue
        try:
            staged.append(builder.build(unit))
        except HtcdsValidationError as exc:
            problems.extend(located(unit, exc))
    refused = any(p.level == "error" for p in problems)
    return BuiltChunk(
        problems,
        b"" if refused else marshal.dumps([tuple(unit) for unit in staged]),
        len(staged),
        [(unit.first_row, unit.matches) for unit in staged],
    )


def stage(job: ImportJob, first_unit: int, chunk: BuiltChunk, fingerprint: str) -> None:
    """Keep a chunk's rows as units `first_unit`… of the job (counting units with a document).

    marshal is fast, and safe here: only a payload that authenticates under the job's key is
    ever loaded back (the sealed field refuses anything else).
    """
    if not chunk.count:
        return
    StagedBatch(
        job=job,
        first_unit=first_unit,
        unit_count=chunk.count,
        fingerprint=fingerprint,
        payload=chunk.payload,
    ).save()


def discard(job: ImportJob) -> None:
    StagedBatch.objects.filter(job=job).delete()


class StagedRows:
    """The staged units of a job, loaded a batch at a time as the commit reaches them."""

    def __init__(self, job: ImportJob, total: int, fingerprint: str) -> None:
        self._batches = list(
            StagedBatch.objects.filter(job=job)
            .order_by("first_unit")
            .values_list("pk", "first_unit", "unit_count", "fingerprint")
        )
        covered = 0
        self.usable = bool(self._batches) or total == 0
        for _pk, first, count, staged_for in self._batches:
            if first != covered or staged_for != fingerprint:
                self.usable = False
            covered = first + count
        self.usable = self.usable and covered == total
        # The units of the range asked for last (the commit asks for keys, then fresh units).
        self._range: tuple[int, int] = (-1, -1)
        self._range_units: list[StagedUnit] = []
        self._loaded: tuple[Any, list[StagedUnit]] = (None, [])

    def keys(self, start: int, stop: int) -> list[str]:
        return [unit.key for unit in self._units(start, stop)]

    def fresh(self, start: int, stop: int, known: set[str]) -> list[StagedUnit]:
        return [unit for unit in self._units(start, stop) if unit.key not in known]

    def _units(self, start: int, stop: int) -> list[StagedUnit]:
        if self._range != (start, stop):
            out: list[StagedUnit] = []
            for pk, first, count, _fingerprint in self._batches:
                if first < stop and start < first + count:
                    out.extend(self._batch(pk)[max(start - first, 0) : stop - first])
            self._range, self._range_units = (start, stop), out
        return self._range_units

    def _batch(self, pk: Any) -> list[StagedUnit]:
        """A staged batch's units (the last one stays loaded: small commit batches share it)."""
        if self._loaded[0] != pk:
            payload = StagedBatch.objects.get(pk=pk).payload
            units = marshal.loads(payload)  # noqa: S302  (authenticated by the job's key)
            self._loaded = (pk, [StagedUnit._make(u) for u in units])
        return self._loaded[1]


class UnitBuilder:
    """Builds and seals the units of one import in the current organisation, remembering what
    repeats (cleaned picklist values, the organisation's keys) for the whole import."""

    def __init__(self, actor: Membership) -> None:
        self.context = bulk_context(actor, timezone.localdate())
        keys = sealing_keys()
        self.fingerprint = fingerprint(self.context, keys)
        self._cleaner = Cleaner()
        self._sealer = RowSealer(keys)

    def build(self, unit: Unit) -> StagedUnit:
        """The unit's staged rows; HtcdsValidationError (with document paths) if it is invalid."""
        return seal_unit(self._sealer, build_unit(self.context, self._cleaner, unit))


class FileUnits:
    """Units of the file, built as the commit reaches them: the commit's way when nothing usable
    was staged (a job validated before staging existed, or staged for other circumstances)."""

    def __init__(self, builder: UnitBuilder, units: list[Unit]) -> None:
        self._builder = builder
        self._units = units

    def keys(self, start: int, stop: int) -> list[str]:
        return [unit.key for unit in self._units[start:stop]]

    def fresh(self, start: int, stop: int, known: set[str]) -> list[StagedUnit]:
        return [self._builder.build(u) for u in self._units[start:stop] if u.key not in known]
