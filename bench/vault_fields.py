"""Encrypted-field overhead: writing and reading people with sealed identifying fields and blind
indexes, against the same rows with plain text fields.

    .venv/bin/python bench/vault_fields.py [--rows 5000] [--postgres]
"""

from __future__ import annotations

import time
import uuid

from _setup import machine, parse_args, setup_django

FIELDS = ("first_name", "second_name", "mobile_phone", "identity_number", "email", "mailing_street")


def main() -> None:
    args = parse_args(__doc__ or "", rows=5_000)
    label = setup_django(args)

    from django.db import connection, models, transaction

    from tessera.cases.models import Person
    from tessera.tenancy.context import org_context
    from tessera.tenancy.models import OrgScopedModel
    from tessera.tenancy.services import create_organisation

    class PlainPerson(OrgScopedModel):
        """The same identifying fields, unprotected: the baseline."""

        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        first_name = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)
        second_name = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)
        mobile_phone = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)
        identity_number = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)
        email = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)
        mailing_street = models.TextField(null=True)  # noqa: DJ001  (mirrors the sealed columns)

        class Meta(OrgScopedModel.Meta):
            app_label = "cases"

    with connection.schema_editor() as editor:
        editor.create_model(PlainPerson)

    org = create_organisation(slug="bench", name="Bench", shipping_country="GB")

    def values(index: int) -> dict[str, str]:
        return {
            "first_name": f"Given{index}",
            "second_name": f"Family{index}",
            "mobile_phone": f"+447700{index:06d}",
            "identity_number": f"ID{index:09d}",
            "email": f"person{index}@example.test",
            "mailing_street": f"{index} Example Street",
        }

    def write(model: type[models.Model]) -> tuple[float, list[object]]:
        ids = []
        started = time.perf_counter()
        with org_context(org), transaction.atomic():
            for index in range(args.rows):
                row = model(**values(index))
                row.save(force_insert=True)
                ids.append(row.pk)
        return time.perf_counter() - started, ids

    def read(model: type[models.Model], ids: list[object]) -> float:
        started = time.perf_counter()
        with org_context(org):
            for chunk_start in range(0, len(ids), 500):
                for row in model.objects.filter(pk__in=ids[chunk_start : chunk_start + 500]):
                    for field in FIELDS:
                        getattr(row, field)
        return time.perf_counter() - started

    plain_write, plain_ids = write(PlainPerson)
    sealed_write, sealed_ids = write(Person)
    from tessera.vault.keys import clear_key_caches

    clear_key_caches()
    plain_read = read(PlainPerson, plain_ids)
    sealed_cold = read(Person, sealed_ids)
    sealed_warm = read(Person, sealed_ids)

    print(f"database: {label}; machine: {machine()}")
    print(
        f"{args.rows:,} people, {len(FIELDS)} identifying fields each (sealed: + 6 blind indexes)"
    )
    print(f"{'':26} {'plain':>12} {'sealed':>12} {'overhead':>10}")
    for name, plain, sealed in (
        ("write (rows/s)", plain_write, sealed_write),
        ("read, cold keys (rows/s)", plain_read, sealed_cold),
        ("read, warm keys (rows/s)", plain_read, sealed_warm),
    ):
        print(
            f"{name:26} {args.rows / plain:12,.0f} {args.rows / sealed:12,.0f} {sealed / plain:9.2f}x"
        )


if __name__ == "__main__":
    main()
