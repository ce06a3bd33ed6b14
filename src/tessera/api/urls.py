"""The API instance: every app adds its router here."""

from ninja import NinjaAPI

from tessera.api.core import router as core_router
from tessera.cases.api import install_error_handlers
from tessera.cases.api import router as cases_router
from tessera.exchange.api import router as exchange_router

api = NinjaAPI(
    title="Tessera API",
    version="1",
    description="Case management and data collaboration against human trafficking.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/", core_router)
api.add_router("/", cases_router)
api.add_router("/", exchange_router)
install_error_handlers(api)
