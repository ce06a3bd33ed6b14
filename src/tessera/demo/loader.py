"""Three demo organisations with a user in every role; each user gets a TOTP secret to print.

Everything is seeded, so every run produces the same logins and secrets. The organisations and
people are fictional (".demo" domains, invented names in several scripts).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from tessera.accounts.models import User
from tessera.accounts.services import create_user
from tessera.demo.cases import load_demo_cases
from tessera.tenancy.models import Organisation, OrganisationType
from tessera.tenancy.roles import Role
from tessera.tenancy.services import add_member, create_organisation

DEMO_PASSWORD = "tessera-demo-password"  # noqa: S105  (printed for the demo; never in production)


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    country: str
    city: str
    org_type: str
    domain: str


DEMO_ORGS = (
    DemoOrg(
        "northstar",
        "Northstar Helpline (demo)",
        "GB",
        "Leeds",
        OrganisationType.NGO,
        "northstar.demo",
    ),
    DemoOrg(
        "harbour",
        "Harbour House Shelter (demo)",
        "TH",
        "Chiang Mai",
        OrganisationType.NGO,
        "harbour.demo",
    ),
    DemoOrg(
        "fairlaw",
        "Fairlaw Legal Aid (demo)",
        "RO",
        "Cluj-Napoca",
        OrganisationType.LEGAL,
        "fairlaw.demo",
    ),
)

# Invented names in several scripts, one per role, so the interface is exercised beyond ASCII.
DEMO_NAMES = {
    Role.ORG_ADMIN: ("Ada Quillfeather", "Ада Перовская-Тест", "अनिका काल्पनिक"),
    Role.SUPERVISOR: ("Bram Testwood", "سلمى الخيالية", "Борис Вымыслов"),
    Role.CASEWORKER: ("Cleo Placeholder", "कविता नमूना", "Casia Fictiva"),
    Role.HELPLINE_ADVISOR: ("Dev Sampleton", "ليلى التجريبية", "Дана Примерова"),
    Role.ANALYST: ("Esme Nullsworth", "Эмиль Образцов", "إيمان النموذجية"),
    Role.AUDITOR: ("Farah Mockridge", "फ़रहान उदाहरण", "Fane Demonstratu"),
}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    org: str
    role: str
    totp_secret: str


def demo_totp_secret(email: str) -> str:
    """A stable base32 secret per demo user (derived from the e-mail; demo only)."""
    digest = hashlib.sha256(f"tessera-demo-totp|{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def _ensure_user(email: str, display_name: str) -> User:
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    return create_user(email=email, password=DEMO_PASSWORD, display_name=display_name)


def _ensure_mfa(user: User, secret: str) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    """Create (or find) the demo organisations and users. Safe to run again."""
    logins: list[DemoLogin] = []
    for index, spec in enumerate(DEMO_ORGS):
        org = Organisation.objects.filter(slug=spec.slug).first() or create_organisation(
            slug=spec.slug,
            name=spec.name,
            shipping_country=spec.country,
            shipping_city=spec.city,
            org_type=spec.org_type,
        )
        for role in Role:
            email = f"{role.value.replace('_', '-')}@{spec.domain}"
            account = _ensure_user(email, DEMO_NAMES[role][index])
            secret = demo_totp_secret(email)
            _ensure_mfa(account, secret)
            add_member(org=org, user=account, role=role.value, team="Team A")
            logins.append(DemoLogin(email, spec.slug, role.value, secret))
        load_demo_cases(org, seed=index + 1)
    # A network coordinator who works for two organisations, to show the organisation switcher.
    coordinator_email = "coordinator@network.demo"
    coordinator = _ensure_user(coordinator_email, "Noor Networkson")
    _ensure_mfa(coordinator, demo_totp_secret(coordinator_email))
    for slug, role in (("northstar", Role.SUPERVISOR), ("harbour", Role.ANALYST)):
        org = Organisation.objects.get(slug=slug)
        add_member(org=org, user=coordinator, role=role.value, team="Network")
        logins.append(
            DemoLogin(coordinator_email, slug, role.value, demo_totp_secret(coordinator_email))
        )
    return logins


def print_logins(logins: list[DemoLogin], echo: Callable[[str], None]) -> None:
    echo("")
    echo("Demo logins (fictional organisations and people). Password for every user:")
    echo(f"  {DEMO_PASSWORD}")
    echo("Add the TOTP secret to an authenticator app (or: oathtool --totp -b SECRET).")
    echo("")
    echo(f"  {'e-mail':34} {'organisation':10} {'role':17} TOTP secret")
    for login in logins:
        echo(f"  {login.email:34} {login.org:10} {login.role:17} {login.totp_secret}")
    echo("")
