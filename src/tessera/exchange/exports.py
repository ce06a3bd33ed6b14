"""HTCDS exports of an organisation's cases (those the actor may see), audited with their purpose."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases.documents import export_case_document
from tessera.cases.fieldmap import IDENTITY_FIELDS
from tessera.cases.selectors import visible_cases
from tessera.cases.services.common import acting, require
from tessera.exchange.extension_columns import extension_columns
from tessera.exchange.writers import write_csv, write_json, write_xlsx
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

WRITERS = {"json": write_json, "csv": write_csv, "xlsx": write_xlsx}
FLAT = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _deidentified(document: dict[str, Any]) -> dict[str, Any]:
    document["people"] = [
        {k: v for k, v in person.items() if k not in IDENTITY_FIELDS}
        for person in document["people"]
    ]
    return document


def export_htcds(*, actor: Membership, fmt: str, identifying: bool, purpose: str = "") -> bytes:
    """Every case the actor can see, as HTCDS JSON, flat CSV or Excel.

    Identifying exports need Perm.EXPORT_IDENTIFYING and a stated purpose, which the audit keeps;
    other exports leave out every sealed identity field.
    """
    require(actor, Perm.VIEW_CASES)
    if fmt not in WRITERS:
        raise ValueError(_("Unknown export format %(format)s.") % {"format": fmt})
    purpose = purpose.strip()
    if identifying:
        require(actor, Perm.EXPORT_IDENTIFYING)
        if not purpose:
            raise PermissionDenied(_("State the purpose of an export of identifying data."))
    with acting(actor):
        extensions = extension_columns() if fmt in FLAT else []
        cases = list(visible_cases(actor=actor).order_by("reference"))
        documents = []
        for case in cases:
            document = export_case_document(actor=actor, case=case)
            documents.append(document if identifying else _deidentified(document))
        record(
            action="exchange.export_identifying" if identifying else "exchange.export",
            object_type="Organisation",
            object_id=actor.org_id,
            fields=sorted(IDENTITY_FIELDS) if identifying else (),
            reason=f"{fmt}, {len(cases)} cases; purpose: {purpose or '-'}"[:500],
        )
    if fmt in FLAT:
        return FLAT[fmt](documents, extensions)
    return write_json(documents)
