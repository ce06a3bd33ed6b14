"""The organisation's own fields (beyond HTCDS): an org admin defines, changes and retires them."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from tessera.cases import selectors, services
from tessera.cases.models import ExtensionEntity, ExtensionField, ExtensionType
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _form_context(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "entities": ExtensionEntity.choices,
        "types": ExtensionType.choices,
    }


@requires_perm(Perm.MANAGE_EXTENSIONS)
@require_http_methods(["GET", "POST"])
def extension_fields(request: OrgRequest) -> HttpResponse:
    values: dict[str, Any] = {"entity": "case", "type": "text"}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        values = {
            "entity": post.get("entity", ""),
            "name": post.get("name", "").strip(),
            "label": post.get("label", ""),
            "type": post.get("type", ""),
            "choices": post.get("choices", ""),
            "is_required": post.get("is_required") == "on",
        }
        try:
            field = services.define_extension_field(
                actor=request.membership,
                entity=values["entity"],
                name=values["name"],
                label=values["label"],
                type=values["type"],
                choices=_lines(values["choices"]),
                is_required=values["is_required"],
            )
        except HtcdsValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Field %(name)s added.") % {"name": field.name})
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(reverse("cases:extension_fields"))
            return redirect("cases:extension_fields")
    if errors and request.htmx:  # type: ignore[attr-defined]
        # htmx swaps only 2xx answers: the form comes back with its errors in place.
        return render(request, "cases/_extension_form.html", _form_context(values, errors))
    fields = selectors.extension_fields(active_only=False)
    groups = [
        (label, [f for f in fields if f.entity == entity])
        for entity, label in ExtensionEntity.choices
    ]
    context = {"groups": groups, **_form_context(values, errors)}
    return render(request, "cases/extension_fields.html", context, status=400 if errors else 200)


@requires_perm(Perm.MANAGE_EXTENSIONS)
@require_http_methods(["GET", "POST"])
def extension_field_edit(request: OrgRequest, field_id: uuid.UUID) -> HttpResponse:
    field: ExtensionField = selectors.get_extension_field(
        actor=request.membership, field_id=field_id
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        try:
            services.update_extension_field(
                actor=request.membership,
                field=field,
                label=post.get("label", ""),
                add_choices=_lines(post.get("add_choices", "")),
                is_required=post.get("is_required") == "on",
                is_active=post.get("is_active") == "on",
            )
        except HtcdsValidationError as exc:
            errors = exc.errors
            field.refresh_from_db()
        else:
            messages.success(request, _("Field %(name)s saved.") % {"name": field.name})
            return redirect("cases:extension_fields")
    return render(
        request,
        "cases/extension_field_edit.html",
        {"field": field, "errors": errors, "is_picklist": field.type in services.PICKLIST_TYPES},
        status=400 if errors else 200,
    )
