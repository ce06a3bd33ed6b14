"""The path every API request takes: bearer token, membership, organisation transaction, audit.

It is on the telephony lookup's critical path, so it is kept to few round trips; these tests pin
both the walls (every change of access applies to the very next request) and the round trips.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tessera.accounts.models import ApiToken, User
from tessera.accounts.tokens import create_token, resolve_token, revoke_token
from tessera.cases import services as case_services
from tessera.cases.models import Sensitivity
from tessera.helpline import services
from tessera.helpline.models import Contact
from tessera.tenancy.context import (
    CrossOrgWriteError,
    OrgChosenByStatement,
    current_org,
    org_context,
    org_context_chosen_by_statement,
)
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Perm, Role, role_has_perm
from tessera.tenancy.services import add_member, deactivate_member
from tessera.vault.keys import clear_key_caches

from .conftest import ON_POSTGRES, World, make_member, membership
from .helpline_helpers import contact_from, member, post_json

LOOKUP = "/api/v1/helpline/lookup"


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def lookup(client: Client, phone: str) -> object:
    return post_json(client, LOOKUP, {"phone": phone})


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL sent, without the savepoints that the test's own transaction adds around nesting."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


# --- The token resolves in one query, and access changes apply to the next request ---------------


def test_a_token_resolves_its_user_membership_and_organisation_in_one_query(world: World) -> None:
    user = world.user(world.a, Role.HELPLINE_ADVISOR)
    _token, secret = create_token(user=user, org=world.a)
    resolve_token(secret)  # the first use writes last_used_at
    with CaptureQueriesContext(connection) as captured:
        grant = resolve_token(secret)
    assert len(captured.captured_queries) == 1
    assert grant is not None
    assert (grant.token.user, grant.token.org) == (user, world.a)
    assert grant.membership == membership(user, world.a)
    assert (grant.membership.user, grant.membership.org) == (user, world.a)
    assert grant.membership.role == Role.HELPLINE_ADVISOR
    assert grant.membership.has_perm(Perm.HANDLE_CONTACTS)


def test_a_resolved_token_carries_values_of_the_right_types(world: World) -> None:
    """The row is loaded with the database's converters (SQLite returns text and integers)."""
    Organisation.objects.filter(pk=world.a.pk).update(shipping_latitude=Decimal("51.507222"))
    user = world.user(world.a, Role.HELPLINE_ADVISOR)
    token, secret = create_token(user=user, org=world.a)
    grant = resolve_token(secret)
    assert grant is not None
    expected = {
        grant.token: ApiToken.objects.get(pk=token.pk),
        grant.token.user: User.objects.get(pk=user.pk),
        grant.token.org: Organisation.objects.get(pk=world.a.pk),
        grant.membership: membership(user, world.a),
    }
    for loaded, stored in expected.items():
        for field in type(stored)._meta.concrete_fields:
            mine, theirs = getattr(loaded, field.attname), getattr(stored, field.attname)
            assert (mine, type(mine)) == (theirs, type(theirs)), field
    assert grant.token.org.shipping_latitude == Decimal("51.507222")
    assert grant.token.user.is_active is True and grant.membership.is_active is True


@pytest.mark.parametrize("secret", ["", "tsr_", "tsr_unknown", "not-a-token"])
def test_unknown_secrets_resolve_to_nothing(world: World, secret: str) -> None:
    assert resolve_token(secret) is None


@pytest.mark.parametrize(
    "change",
    ["revoked", "membership deactivated", "user deactivated", "org deactivated"],
)
def test_every_way_of_losing_access_applies_to_the_next_token_request(
    world: World, change: str
) -> None:
    user = world.user(world.a, Role.HELPLINE_ADVISOR)
    token, secret = create_token(user=user, org=world.a)
    client = bearer(secret)
    assert lookup(client, "+447700900123").status_code == 200
    if change == "revoked":
        revoke_token(token=token)
    elif change == "membership deactivated":
        deactivate_member(membership=membership(user, world.a))
    elif change == "user deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        Organisation.objects.filter(pk=world.a.pk).update(is_active=False)
    assert resolve_token(secret) is None
    assert lookup(client, "+447700900123").status_code == 401


@pytest.mark.parametrize("new_role", list(Role))
def test_a_role_change_applies_to_the_next_token_request(world: World, new_role: Role) -> None:
    user = make_member(world.a, Role.HELPLINE_ADVISOR, email="switching@alpha.test")
    client = bearer(create_token(user=user, org=world.a)[1])
    assert lookup(client, "+447700900123").status_code == 200
    add_member(org=world.a, user=user, role=new_role)
    expected = 200 if role_has_perm(new_role, Perm.HANDLE_CONTACTS) else 403
    assert lookup(client, "+447700900123").status_code == expected


def test_a_team_change_applies_to_the_next_token_request(world: World) -> None:
    """Restricted cases are open to their team: the token acts with the membership's team as it is
    now, not as it was when the token was made."""
    supervisor = member(world, world.a, Role.SUPERVISOR)
    user = make_member(world.a, Role.HELPLINE_ADVISOR, email="teamed@alpha.test")
    add_member(org=world.a, user=user, role=Role.HELPLINE_ADVISOR, team="north")
    contact = contact_from(world, world.a, "+447700900444")
    with org_context(world.a):
        case = case_services.open_case(
            actor=supervisor, data={"sensitivity": Sensitivity.RESTRICTED, "team": "north"}
        )
        services.link_contact_to_case(actor=supervisor, contact=contact, case=case)
    client = bearer(create_token(user=user, org=world.a)[1])
    body = lookup(client, "+447700900444").json()
    assert [c["id"] for c in body["contacts"]] == [str(contact.pk)]
    assert [c["id"] for c in body["open_cases"]] == [str(case.pk)]
    add_member(org=world.a, user=user, role=Role.HELPLINE_ADVISOR, team="south")
    body = lookup(client, "+447700900444").json()
    assert (body["contacts"], body["open_cases"], body["hidden_contacts"]) == ([], [], 1)


@pytest.mark.parametrize("role", list(Role))
def test_a_token_of_another_organisation_never_looks_up_this_ones_callers(
    world: World, role: Role
) -> None:
    """Every role of B, through a bearer token: A's caller is unknown, B's own is found."""
    mine = contact_from(world, world.a, "+447700900111", safety_flags=["do_not_call_back"])
    theirs = contact_from(world, world.b, "+447700900111", safety_flags=["text_only"])
    response = lookup(
        bearer(create_token(user=world.user(world.b, role), org=world.b)[1]), "+447700900111"
    )
    if not role_has_perm(role, Perm.HANDLE_CONTACTS):
        assert response.status_code == 403
        return
    body = response.json()
    assert [c["id"] for c in body["contacts"]] == [str(theirs.pk)]
    assert str(mine.pk) not in response.content.decode()
    assert body["safety_flags"] == ["text_only"]


# --- Round trips ----------------------------------------------------------------------------------


def test_a_lookup_costs_a_fixed_handful_of_statements(world: World) -> None:
    """Token (one query), organisation setting, contacts, cases, audit: not one per contact."""
    for _ in range(25):
        contact_from(world, world.a, "+447700900123", safety_flags=["no_voicemail"])
    client = bearer(create_token(user=world.user(world.a, Role.HELPLINE_ADVISOR), org=world.a)[1])
    lookup(client, "+447700900123")
    with CaptureQueriesContext(connection) as captured:
        body = lookup(client, "+447700900123").json()
    assert len(body["contacts"]) == 20
    sent = statements(captured)
    if ON_POSTGRES:
        # Inside the test's transaction the organisation setting is restored on the way out; a
        # real request opens the transaction itself and skips that (see the transactional test).
        assert len(sent) == 5, sent
        assert "audit_auditchainhead" in sent[-2] and "INSERT INTO audit_auditevent" in sent[-2]
    else:
        # SQLite: the same, with the audit append as lock, insert and head update (no RLS setting).
        assert len(sent) == 6, sent
    assert not any("vault_subjectkey" in sql for sql in sent), "nothing sealed is read"


def test_rows_read_without_sealed_columns_unwrap_no_keys(world: World) -> None:
    for number in range(3):
        contact_from(world, world.a, f"+44770090012{number}", summary=f"call {number}")
    clear_key_caches()
    with org_context(world.a):
        with CaptureQueriesContext(connection) as plain:
            rows = list(Contact.objects.only("channel", "started_at"))
        with CaptureQueriesContext(connection) as sealed:
            summaries = sorted(c.summary for c in Contact.objects.all())
    assert len(rows) == 3 and len(plain.captured_queries) == 1
    assert summaries == ["call 0", "call 1", "call 2"]
    keys = [q for q in sealed.captured_queries if "vault_subjectkey" in q["sql"]]
    assert len(keys) == 1, "sealed columns still unwrap every row's key in one query"


# --- PostgreSQL: the real transaction, and appends racing for one chain ---------------------------

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs TESSERA_TEST_POSTGRES")


@postgres_only
def test_a_lookup_request_is_one_transaction_of_four_statements(
    transactional_db: None, world: World
) -> None:
    contact_from(world, world.a, "+447700900123")
    client = bearer(create_token(user=world.user(world.a, Role.HELPLINE_ADVISOR), org=world.a)[1])
    lookup(client, "+447700900123")
    with CaptureQueriesContext(connection) as captured:
        assert lookup(client, "+447700900123").status_code == 200
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 6, sent
    assert (sent[0], sent[-1]) == ("BEGIN", "COMMIT")
    # The token's lookup sets the transaction's organisation in the same statement.
    assert "accounts_apitoken" in sent[1] and "tenancy_membership" in sent[1]
    assert "set_config('tessera.org_id'" in sent[1]
    assert "helpline_contact" in sent[2]
    # The contact names no case: only whether a person with the number is in one is asked.
    assert "cases_caseparty" in sent[3] and "cases_caseaccessgrant" not in sent[3]
    assert "FOR UPDATE" in sent[4] and "INSERT INTO audit_auditevent" in sent[4]


@postgres_only
def test_nested_organisation_contexts_restore_the_database_setting(world: World) -> None:
    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('tessera.org_id', true)")
            return str(cursor.fetchone()[0])

    with org_context(world.a):
        with org_context(world.b):
            assert setting() == str(world.b.pk)
        assert setting() == str(world.a.pk)
        assert Contact.objects.count() == 0  # and the org-scoped manager agrees
    assert setting() == ""


@postgres_only
def test_the_outermost_organisation_context_ends_with_its_transaction(
    transactional_db: None, world: World
) -> None:
    with org_context(world.a):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('tessera.org_id', true), '')")
        assert cursor.fetchone()[0] == ""


@postgres_only
def test_a_statement_chosen_organisation_must_be_the_one_the_database_set(world: World) -> None:
    """The token's lookup sets the organisation itself; tenancy adopts an organisation only if the
    value the database reports having set is that organisation's id."""

    def set_by_statement(chosen: OrgChosenByStatement, org_id: int) -> str | None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {chosen.setting('%s')}", [org_id])
            return cursor.fetchone()[0]  # type: ignore[no-any-return]

    with org_context_chosen_by_statement() as chosen:
        applied = set_by_statement(chosen, world.b.pk)
        for claimed, value in ((world.a, applied), (world.b, None), (world.b, "")):
            with pytest.raises(CrossOrgWriteError):
                chosen.enter(claimed, value)
            assert current_org() is None
        chosen.enter(world.b, applied)
        assert current_org() == world.b
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('tessera.org_id', true)")
            assert cursor.fetchone()[0] == str(world.b.pk)
        with pytest.raises(CrossOrgWriteError):
            chosen.enter(world.b, applied)  # once per transaction
    assert current_org() is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('tessera.org_id', true), '')")
        assert cursor.fetchone()[0] == ""  # restored inside the test's own transaction
