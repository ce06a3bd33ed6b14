"""Start-up check: every Tessera model is tenant-scoped, or on the explicit global allow-list."""

from __future__ import annotations

from typing import Any

from django.core import checks

from tessera.tenancy.scoping import RLS_POLICIES, model_label, tenant_models


@checks.register(checks.Tags.models)
def check_models_are_org_scoped(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in tenant_models():
        label = model_label(model)
        field_names = {field.name for field in model._meta.get_fields()}
        policy = getattr(model, "tessera_rls", None)
        manager = model._default_manager
        problems = []
        if "org" not in field_names:
            problems.append("it has no `org` field")
        if policy not in RLS_POLICIES:
            problems.append("it declares no row-level security policy (`tessera_rls`)")
        if not getattr(manager, "is_org_scoped", False):
            problems.append("its default manager is not org-scoped")
        if model._base_manager is not manager:
            problems.append("its base manager is not its org-scoped default manager")
        if problems:
            errors.append(
                checks.Error(
                    f"{label} is not tenant-scoped: {'; '.join(problems)}.",
                    hint="Subclass tessera.tenancy.models.OrgScopedModel, or add the model to "
                    "tessera.tenancy.scoping.GLOBAL_MODELS with a reason.",
                    obj=model,
                    id="tessera.E001",
                )
            )
    return errors
