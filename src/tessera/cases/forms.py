"""Form fields generated from the HTCDS catalogue (labels, picklists, types) and from the
organisation's extension fields, and POST parsing for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext

from tessera.cases.models import ExtensionField, ExtensionType
from tessera.htcds.catalogue import choices_for, field


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, date, number, checkbox, select, multiselect
    choices: list[tuple[str, str]]
    value: Any
    errors: list[str]
    is_core: bool
    help_text: str
    is_required: bool = False

    @property
    def id(self) -> str:
        return f"f-{self.name}"


def _widget(name: str) -> str:
    spec = field(name)
    if choices_for(name):
        return "multiselect" if spec.is_multiselect else "select"
    return {
        "Long Text": "textarea",
        "Date": "date",
        "Checkbox": "checkbox",
        "Number": "number",
        "Geolocation": "number",
    }.get(spec.type, "text")


def form_fields(
    names: list[str],
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[FormField]:
    values = values or {}
    errors = errors or {}
    out = []
    for name in names:
        spec = field(name)
        out.append(
            FormField(
                name=name,
                label=spec.translated_label,
                widget=_widget(name),
                choices=choices_for(name),
                value=values.get(name),
                errors=errors.get(name, []),
                is_core=spec.core,
                help_text="ISO 3166-1 alpha-2, e.g. GB"
                if name.endswith(("Country", "Citizenship"))
                else "",
            )
        )
    return out


def parse_post(post: QueryDict, names: list[str]) -> dict[str, Any]:
    """Values typed as the services expect them; empty inputs are left out."""
    data: dict[str, Any] = {}
    for name in names:
        widget = _widget(name)
        if widget == "multiselect" or name == "prs_Citizenship":
            values = [v for raw in post.getlist(name) for v in raw.split(",") if v.strip()]
            if values:
                data[name] = [v.strip() for v in values]
        elif widget == "checkbox":
            if name in post:
                data[name] = post.get(name) in ("on", "true", "1")
        else:
            raw = post.get(name, "").strip()
            if raw:
                data[name] = (
                    int(raw)
                    if widget == "number"
                    and raw.isdigit()
                    and "Lat" not in name
                    and "Long" not in name
                    else raw
                )
    return data


EXTENSION_PREFIX = "extensions."
_EXTENSION_WIDGETS = {
    ExtensionType.TEXT: "text",
    ExtensionType.LONG_TEXT: "textarea",
    ExtensionType.NUMBER: "number",
    ExtensionType.DATE: "date",
    ExtensionType.CHECKBOX: "checkbox",
    ExtensionType.PICKLIST: "select",
    ExtensionType.MULTISELECT: "multiselect",
}


def extension_form_fields(
    definitions: list[ExtensionField],
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[FormField]:
    """Inputs named "extensions.<name>", as the services name their errors."""
    values = values or {}
    errors = errors or {}
    return [
        FormField(
            name=EXTENSION_PREFIX + d.name,
            label=d.label,
            widget=_EXTENSION_WIDGETS[ExtensionType(d.type)],
            choices=[(c, c) for c in d.choices],
            value=values.get(d.name),
            errors=errors.get(EXTENSION_PREFIX + d.name, []),
            is_core=False,
            help_text="",
            is_required=d.is_required,
        )
        for d in definitions
    ]


def parse_extensions(post: QueryDict, definitions: list[ExtensionField]) -> dict[str, Any]:
    """Every definition's value (None for an empty input, so that an edit can clear it)."""
    data: dict[str, Any] = {}
    for d in definitions:
        key = EXTENSION_PREFIX + d.name
        if d.type == ExtensionType.CHECKBOX:
            data[d.name] = key in post
        elif d.type == ExtensionType.MULTISELECT:
            data[d.name] = [v for v in post.getlist(key) if v.strip()] or None
        else:
            data[d.name] = post.get(key, "").strip() or None
    return data


def display_value(value: Any) -> str:
    """An extension value as the case page shows it."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
