"""Form fields generated from the HTCDS catalogue (labels, picklists, types), and POST parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

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
