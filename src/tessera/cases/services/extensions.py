"""Organisation-defined extension fields: defined, then changed only in ways that keep every value
already recorded valid (a new label, more picklist values, required or not, in use or retired).

A field's name, type and entity never change: exports carry values under the name, and values
already stored were validated against the type.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tessera.cases.models import ExtensionEntity, ExtensionField, ExtensionType
from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

PICKLIST_TYPES = frozenset({ExtensionType.PICKLIST, ExtensionType.MULTISELECT})
# A person's own fields and their fields in one case are exported side by side (one entry per
# person in an HTCDS document), so the two share one set of names.
_SHARED_NAMES: dict[str, str] = {
    ExtensionEntity.PERSON.value: ExtensionEntity.PARTY.value,
    ExtensionEntity.PARTY.value: ExtensionEntity.PERSON.value,
}
MAX_CHOICES = 200


def _clean_choices(raw: list[str] | None, error: CaseRuleError) -> list[str]:
    values = [c.strip() for c in raw or [] if isinstance(c, str) and c.strip()]
    if any(len(value) > 100 for value in values):
        error.add("choices", _("Picklist values have at most 100 characters."))
    if len(set(values)) > MAX_CHOICES:
        error.add("choices", _("A picklist has at most %(n)s values.") % {"n": MAX_CHOICES})
    return list(dict.fromkeys(values))


def define_extension_field(
    *,
    actor: Membership,
    entity: str,
    name: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    is_required: bool = False,
) -> ExtensionField:
    require(actor, Perm.MANAGE_EXTENSIONS)
    error = CaseRuleError()
    if entity not in ExtensionEntity.values:
        error.add("entity", _("%(value)s is not a value of entity.") % {"value": repr(entity)})
    if type not in ExtensionType.values:
        error.add("type", _("%(value)s is not a value of type.") % {"value": repr(type)})
    values = _clean_choices(choices, error)
    if type in PICKLIST_TYPES and not values:
        error.add("choices", _("A picklist needs at least one value."))
    if type not in PICKLIST_TYPES and values:
        error.add("choices", _("Only picklists have values."))
    if not label.strip():
        error.add("label", _("Give the field a label."))
    with acting(actor):
        field = ExtensionField(
            entity=entity,
            name=name,
            label=label.strip()[:100],
            type=type,
            choices=values,
            is_required=is_required,
        )
        try:
            field.full_clean(exclude=["org"], validate_unique=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    error.add(key, message)
        same_names = [entity, *([_SHARED_NAMES[entity]] if entity in _SHARED_NAMES else [])]
        if ExtensionField.objects.filter(entity__in=same_names, name=name).exists():
            error.add("name", _("This organisation already has a field with that name."))
        if error.errors:
            raise error
        field.save()
        audit("extension.define", field, [name])
    return field


def update_extension_field(
    *,
    actor: Membership,
    field: ExtensionField,
    label: str | None = None,
    add_choices: list[str] | None = None,
    is_required: bool | None = None,
    is_active: bool | None = None,
) -> ExtensionField:
    """Change what can change without making a recorded value invalid; picklist values can be
    added, never removed (retire the field instead)."""
    require(actor, Perm.MANAGE_EXTENSIONS)
    error = CaseRuleError()
    changed = []
    if label is not None:
        if not label.strip():
            error.add("label", _("Give the field a label."))
        elif label.strip()[:100] != field.label:
            field.label = label.strip()[:100]
            changed.append("label")
    added = [c for c in _clean_choices(add_choices, error) if c not in field.choices]
    if added:
        if field.type not in PICKLIST_TYPES:
            error.add("choices", _("Only picklists have values."))
        elif len(field.choices) + len(added) > MAX_CHOICES:
            error.add("choices", _("A picklist has at most %(n)s values.") % {"n": MAX_CHOICES})
        else:
            field.choices = [*field.choices, *added]
            changed.append("choices")
    for attr, value in (("is_required", is_required), ("is_active", is_active)):
        if value is not None and value != getattr(field, attr):
            setattr(field, attr, value)
            changed.append(attr)
    if error.errors:
        raise error
    if changed:
        with acting(actor):
            field.save(update_fields=changed)
            audit("extension.update", field, changed)
    return field
