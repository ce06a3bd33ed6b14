"""Import jobs and the source keys that make imports idempotent and resumable."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.models import OrgScopedModel
from tessera.vault.fields import EncryptedField


class EncryptedBytesField(EncryptedField):
    """An uploaded file, sealed under the job's own key (destroyed when the job is purged)."""

    def to_plain_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_plain_bytes(self, raw: bytes) -> bytes:
        return raw


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to validate")
    VALIDATING = "validating", _("Validating")
    INVALID = "invalid", _("Has errors")
    VALIDATED = "validated", _("Ready to import")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(OrgScopedModel):
    """One uploaded file: its dry-run report, then its committed batches.

    Progress (`processed`) is saved in the same transaction as each committed batch, so after a
    crash the job resumes exactly after the last batch that committed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=16)
    filename = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    content = EncryptedBytesField()
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_cases = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the retention purge destroyed the uploaded file of an import that did not finish
    # (exchange/retention.py): such a job can never be committed or resumed.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0

    @property
    def is_upload_purged(self) -> bool:
        return self.purged_at is not None

    @property
    def is_running(self) -> bool:
        return self.status in (
            ImportStatus.PENDING,
            ImportStatus.VALIDATING,
            ImportStatus.IMPORTING,
        )


class ImportedRecord(OrgScopedModel):
    """A source record (by its content key) already imported, and the case it became."""

    source_key = models.CharField(max_length=64)
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["org", "source_key"], name="source_key_once_per_org")
        ]

    def __str__(self) -> str:
        return self.source_key


class CtdcRecord(OrgScopedModel):
    """One row of a CTDC dataset (global, synthetic, victim-perpetrator) for analytics. These are
    de-identified statistical records, not people: they never become cases."""

    dataset = models.CharField(max_length=40)
    source_key = models.CharField(max_length=64)
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, related_name="+")
    year = models.CharField(max_length=16, blank=True)
    gender = models.CharField(max_length=40, blank=True)
    is_forced_labour = models.BooleanField(null=True)
    is_sexual_exploit = models.BooleanField(null=True)
    values = models.JSONField(default=dict)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["org", "source_key"], name="ctdc_source_key_once_per_org"
            )
        ]
        indexes = [models.Index(fields=["org", "dataset", "year"], name="ctdc_org_dataset_year")]

    def __str__(self) -> str:
        return f"{self.dataset} {self.source_key}"


class StagedBatch(OrgScopedModel):
    """Rows of a validated bulk import, built and sealed by the dry run so that the commit does
    not build them again (exchange/staging.py). The payload is sealed under the job's own key, as
    the uploaded file is: shredding the job's key when the import finishes destroys it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    first_unit = models.PositiveIntegerField()
    unit_count = models.PositiveIntegerField()
    # What building the rows depended on besides the file; the commit rebuilds when it differs.
    fingerprint = models.CharField(max_length=64)
    payload = EncryptedBytesField(subject_field="job_id")

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["job", "first_unit"], name="staged_batch_once_per_job")
        ]

    def __str__(self) -> str:
        return f"units {self.first_unit}+{self.unit_count} of {self.job_id}"
