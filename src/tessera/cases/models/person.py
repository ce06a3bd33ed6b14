"""People (HTCDS prs_ fields). Identifying fields are sealed by the vault and searchable only through
keyed blind indexes; descriptive fields (gender, citizenship, languages) stay in clear for statistics."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.models import OrgScopedModel
from tessera.vault.fields import BlindIndexField, EncryptedDateField, EncryptedTextField


class Gender(models.TextChoices):
    """HTCDS prs_Gender picklist."""

    FEMININE = "Feminine", _("Feminine")
    MASCULINE = "Masculine", _("Masculine")
    TRANSGENDER_FEMININE = "TransgenderFeminine", _("Transgender Feminine")
    TRANSGENDER_MASCULINE = "TransgenderMasculine", _("Transgender Masculine")
    NON_CONFORMING = "NonConforming", _("Non-conforming")
    NON_SPECIFIED = "NonSpecifiedUnknown", _("Non-specified / Unknown")


class Person(OrgScopedModel):
    """A person known to the organisation: potential victim, perpetrator, witness or other."""

    # The id is known before the first save: it is part of every ciphertext's associated data and
    # names the person's own key (erasing the person destroys that key).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    salutation = EncryptedTextField(_("Salutation"), db_column="prs_salutation")
    first_name = EncryptedTextField(_("First name"), db_column="prs_first_name")
    middle_name = EncryptedTextField(_("Middle name"), db_column="prs_middle_name")
    second_name = EncryptedTextField(_("Second name"), db_column="prs_second_name")
    birthdate = EncryptedDateField(_("Date of birth"), db_column="prs_birthdate")
    identity_number = EncryptedTextField(_("Identity number"), db_column="prs_identity_number")
    email = EncryptedTextField(_("E-mail"), db_column="prs_email")
    home_phone = EncryptedTextField(_("Home phone"), db_column="prs_home_phone")
    mobile_phone = EncryptedTextField(_("Mobile phone"), db_column="prs_mobile_phone")
    mailing_street = EncryptedTextField(_("Street"), db_column="prs_mailing_street")
    mailing_postal_code = EncryptedTextField(_("Postal code"), db_column="prs_mailing_postal_code")
    mailing_city = EncryptedTextField(_("City"), db_column="prs_mailing_city")
    title = EncryptedTextField(_("Title"), db_column="prs_title")

    first_name_index = BlindIndexField(source="first_name", kind="name")
    second_name_index = BlindIndexField(source="second_name", kind="name")
    birthdate_index = BlindIndexField(source="birthdate", kind="dob")
    identity_number_index = BlindIndexField(source="identity_number", kind="document")
    mobile_phone_index = BlindIndexField(source="mobile_phone", kind="phone")
    home_phone_index = BlindIndexField(source="home_phone", kind="phone")

    gender = models.CharField(_("Gender"), max_length=32, choices=Gender.choices, blank=True)
    deceased = models.BooleanField(_("Deceased"), default=False)
    citizenship = models.JSONField(_("Citizenship"), default=list, blank=True)
    mailing_state = models.CharField(_("State/Province"), max_length=100, blank=True)
    mailing_country = models.CharField(_("Country"), max_length=2, blank=True)
    # Coarse descriptive fields stay in clear for statistics; precise coordinates of a home are
    # identifying, so they are sealed like the address they locate.
    marital_status = models.CharField(_("Marital status"), max_length=32, blank=True)
    number_of_children = models.PositiveSmallIntegerField(
        _("Number of children"), null=True, blank=True
    )
    primary_language = models.CharField(_("Primary language"), max_length=8, blank=True)
    secondary_language = models.CharField(_("Secondary language"), max_length=8, blank=True)
    highest_level_of_education = models.CharField(
        _("Highest level of education"), max_length=48, blank=True
    )
    mailing_latitude = EncryptedTextField(_("Latitude"), db_column="prs_mailing_latitude")
    mailing_longitude = EncryptedTextField(_("Longitude"), db_column="prs_mailing_longitude")
    extensions = models.JSONField(_("Extension fields"), default=dict, blank=True)
    # A duplicate merged into another record keeps its row (and audit history) but is hidden.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # Plain B-trees: blind indexes are compared for equality only (see BlindIndexField).
        indexes = [
            models.Index(fields=["first_name_index"], name="person_first_name_index"),
            models.Index(fields=["second_name_index"], name="person_second_name_index"),
            models.Index(fields=["birthdate_index"], name="person_birthdate_index"),
            models.Index(fields=["identity_number_index"], name="person_identity_number_index"),
            models.Index(fields=["mobile_phone_index"], name="person_mobile_phone_index"),
            models.Index(fields=["home_phone_index"], name="person_home_phone_index"),
        ]

    def __str__(self) -> str:
        return f"Person {self.pk}"

    @property
    def display_name(self) -> str:
        """Opens sealed fields: call only where identity may be shown (and the read is audited)."""
        parts = [self.first_name, self.second_name]
        return " ".join(str(p) for p in parts if p) or str(_("(no name)"))
