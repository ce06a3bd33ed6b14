"""The API instance: every app adds its router here."""

from ninja import NinjaAPI

from tessera.api.core import router as core_router
from tessera.tenancy.views import public

api = NinjaAPI(
    title="Tessera API",
    version="1",
    description="Case management and data collaboration against human trafficking.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    # The API's shape is public (the code is open source); the data behind it is not.
    docs_decorator=public,
)
api.add_router("/", core_router)
