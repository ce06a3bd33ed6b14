"""Property-based API conformance: schemathesis generates requests for every operation in the
OpenAPI document and checks that none answers 5xx or a body that breaks its documented schema.

It runs in-process against the WSGI application (no server), as an organisation administrator with a
bearer token, seeded and bounded so that it takes well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tessera.accounts.tokens import create_token
from tessera.cases import services
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Role
from tessera.tenancy.services import create_organisation

from .cases_helpers import open_case_with_victim
from .conftest import make_member

pytestmark = [pytest.mark.schemathesis]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Calling the WSGI app directly fires request signals that close the database connection at the
    end of each request (and with it the test's transaction on PostgreSQL); Django's test client
    disconnects them in the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(db: None) -> dict[str, str]:
    """A bearer token of an organisation administrator, and some data for the operations to find.

    One organisation with two members (not the full `world`): this fixture runs once per operation.
    """
    org = create_organisation(slug="gamma", name="Gamma Network", shipping_country="KE")
    admin = make_member(org, Role.ORG_ADMIN)  # a token needs a second factor
    caseworker = make_member(org, Role.CASEWORKER, mfa=False)
    member = Membership.objects.select_related("org", "user").get(user=caseworker, org=org)
    with org_context(org):
        case, _party = open_case_with_victim(member)
        services.record_event(actor=member, case=case, data={"hte_Type": "Recruitment"})
        services.add_note(actor=member, case=case, body="Schemathesis fixture")
    _token, secret = create_token(user=admin, org=org)
    return {"Authorization": f"Bearer {secret}"}


def test_the_schema_documents_every_api_operation() -> None:
    operations = [op for op in schema.get_all_operations() if op.ok()]
    assert len(operations) >= 30
    assert all(result.ok() for result in schema.get_all_operations())


@schema.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_within_its_schema(
    case: Any, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
