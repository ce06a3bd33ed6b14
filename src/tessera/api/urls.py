"""The API instance: every app adds its router here."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from tessera.api.core import router as core_router
from tessera.cases.api import install_error_handlers
from tessera.cases.api import router as cases_router
from tessera.exchange.api import router as exchange_router
from tessera.helpline.api import public_router as helpline_public_router
from tessera.helpline.api import router as helpline_router
from tessera.releases.api import router as releases_router
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
api.add_router("/", cases_router)
api.add_router("/", exchange_router)
api.add_router("/", releases_router)
api.add_router("/", helpline_router)
api.add_router("/", helpline_public_router)
install_error_handlers(api)


def _on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    detail = "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=400)


api.add_exception_handler(ValidationError, _on_validation_error)  # type: ignore[arg-type]
