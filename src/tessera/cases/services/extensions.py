"""Organisation-defined extension fields."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tessera.cases.models import ExtensionEntity, ExtensionField, ExtensionType
from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

_PICKLIST_TYPES = {ExtensionType.PICKLIST, ExtensionType.MULTISELECT}


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
    values = [c.strip() for c in choices or [] if isinstance(c, str) and c.strip()]
    if type in _PICKLIST_TYPES and not values:
        error.add("choices", _("A picklist needs at least one value."))
    if type not in _PICKLIST_TYPES and values:
        error.add("choices", _("Only picklists have values."))
    if not label.strip():
        error.add("label", _("Give the field a label."))
    with acting(actor):
        field = ExtensionField(
            entity=entity,
            name=name,
            label=label.strip()[:100],
            type=type,
            choices=list(dict.fromkeys(values)),
            is_required=is_required,
        )
        try:
            field.full_clean(exclude=["org"], validate_unique=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    error.add(key, message)
        if ExtensionField.objects.filter(entity=entity, name=name).exists():
            error.add("name", _("This organisation already has a field with that name."))
        if error.errors:
            raise error
        field.save()
        audit("extension.define", field, [name])
    return field
