"""Which models are tenant tables, and which are deliberately global."""

from __future__ import annotations

from django.apps import apps
from django.db import models

# Global models: they describe the tenants and the people who log in, not the data of a tenant.
# Adding to this list needs a reason in docs/decisions/0002-tenancy.md.
GLOBAL_MODELS = frozenset(
    {
        "tenancy.Organisation",
        "tenancy.Membership",
        "accounts.User",
        "accounts.ApiToken",
    }
)

RLS_POLICIES = frozenset({"org", "org_or_system"})


def model_label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def tessera_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("tessera.") and not model._meta.proxy
    ]


def tenant_models() -> list[type[models.Model]]:
    """Every model whose rows belong to one organisation (and so carry row-level security)."""
    return [model for model in tessera_models() if model_label(model) not in GLOBAL_MODELS]
