"""The tenant (Organisation, with the HTCDS org_ fields), memberships, and the org-scoped base model."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.context import CrossOrgWriteError, require_org
from tessera.tenancy.managers import OrgScopedManager
from tessera.tenancy.roles import Perm, Role, role_has_perm


class OrganisationType(models.TextChoices):
    """HTCDS org_Type picklist."""

    NGO = "NGO", _("NGO")
    LAW_ENFORCEMENT = "LawEnforcement", _("Law Enforcement")
    HEALTH_SERVICE = "HealthServiceOrganisation", _("Health Service Organisation")
    CENTRAL_GOVERNMENT = "CentralGovernmentOrganisation", _("Central Government Organisation")
    LOCAL_GOVERNMENT = "LocalGovernmentOrganisation", _("Local Government Organisation")
    IMMIGRATION = "ImmigrationService", _("Immigration Service")
    LEGAL = "LegalService", _("Legal Service")
    CORPORATE = "CorporateBusiness", _("Corporate Business")
    SCHOOL = "SchoolOrCollege", _("School or College")


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lower-case letters, digits and hyphens, not starting or ending with a hyphen."),
)


class Organisation(models.Model):
    """A tenant. Field names follow HTCDS 2.0 (org_Name → name, org_ShippingCity → shipping_city …)."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(_("Organisation name"), max_length=200)
    org_type = models.CharField(
        _("Type"), max_length=40, choices=OrganisationType.choices, default=OrganisationType.NGO
    )
    shipping_street = models.CharField(_("Street"), max_length=200, blank=True)
    shipping_city = models.CharField(_("City"), max_length=100, blank=True)
    shipping_state = models.CharField(_("State/Province"), max_length=100, blank=True)
    shipping_postal_code = models.CharField(_("Postal code"), max_length=20, blank=True)
    shipping_country = models.CharField(
        _("Country (ISO 3166-1 alpha-2)"),
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use an ISO 3166-1 alpha-2 code."))],
    )
    shipping_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    shipping_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    phone = models.CharField(_("Phone"), max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation. A user may hold memberships in several organisations."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    team = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "org"], name="one_membership_per_user_and_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org.slug} ({self.role})"

    def has_perm(self, perm: Perm) -> bool:
        return self.is_active and role_has_perm(self.role, perm)


class OrgScopedModel(models.Model):
    """Base for every domain row: it belongs to one organisation and is reachable only inside it.

    The default manager filters by the organisation of the current context; saving outside a context,
    or into another organisation than the current one, raises. On PostgreSQL, row-level security
    applies the same rule a second time in the database.
    """

    org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects: ClassVar[OrgScopedManager[Any]] = OrgScopedManager()
    # Which row-level security policy protects the table on PostgreSQL (see tenancy.rls).
    tessera_rls: ClassVar[str] = "org"

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        org = require_org()
        if self.org_id is None:
            self.org = org
        elif self.org_id != org.pk:
            raise CrossOrgWriteError(
                f"{type(self).__name__} belongs to organisation {self.org_id}, "
                f"not to the current organisation {org.pk}."
            )
        self._check_related_rows_share_org()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        org = require_org()
        if self.org_id != org.pk:
            raise CrossOrgWriteError("Cannot delete a row of another organisation.")
        return super().delete(*args, **kwargs)

    def _check_related_rows_share_org(self) -> None:
        for field in self._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey) or field.name == "org":
                continue
            related_model = field.related_model
            if isinstance(related_model, type) and issubclass(related_model, OrgScopedModel):
                related = getattr(self, field.name, None)
                if related is not None and related.org_id != self.org_id:
                    raise CrossOrgWriteError(
                        f"{type(self).__name__}.{field.name} points to another organisation's row."
                    )
