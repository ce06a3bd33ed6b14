"""Organisation-defined fields beyond HTCDS, defined by an org admin without code."""

from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.models import OrgScopedModel


class ExtensionEntity(models.TextChoices):
    CASE = "case", _("Case")
    PERSON = "person", _("Person")
    PARTY = "party", _("Person in a case")
    EVENT = "event", _("Trafficking event")
    PLAN = "plan", _("Support plan")


class ExtensionType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHECKBOX = "checkbox", _("Checkbox")
    PICKLIST = "picklist", _("Picklist")
    MULTISELECT = "multiselect", _("Multiselect picklist")


# Extension names must not look like HTCDS names (no prefix_), so exports never collide with them.
extension_name_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{0,39}$",
    _("Use lower-case letters, digits and hyphens, starting with a letter (no underscores)."),
)


class ExtensionField(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity = models.CharField(_("Applies to"), max_length=16, choices=ExtensionEntity.choices)
    name = models.CharField(_("Name"), max_length=40, validators=[extension_name_validator])
    label = models.CharField(_("Label"), max_length=100)
    type = models.CharField(_("Type"), max_length=16, choices=ExtensionType.choices)
    choices = models.JSONField(_("Picklist values"), default=list, blank=True)
    is_required = models.BooleanField(_("Required"), default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["entity", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "entity", "name"], name="extension_name_unique_per_entity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.name}"
