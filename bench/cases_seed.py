"""Seeds `bench/cases.py`'s database: organisations, staff and tokens through the services; cases,
people, parties and events inside PostgreSQL (INSERT … SELECT generate_series, pgcrypto's hmac).

Every generated value is a function of (organisation, case number, salt) through
`hashint8extended`, so a case's denormalised filter tags agree with its parties and events, and the
same database comes out of every run. Each person carries the real blind indexes of their name,
phone, date of birth and document number under their organisation's index key (checked against
`vault.blind.blind_index` for every kind before loading); sealed columns hold stand-in ciphertext of
realistic length, except for the people of the sampled detail cases, which are sealed for real
(with subject keys) through the model, so that a request which opens them works as in production.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

TEAMS = ("north", "south", "east", "west")
CASEWORKERS_PER_TEAM = 3
PASSWORD = "bench-password-123456"  # noqa: S105 (throw-away bench users)
START = date(2019, 1, 1)

# Weights from the shape of published caseloads (CTDC): labour and sexual exploitation dominate.
EXPLOITATION = {
    "ForcedLabour": 0.38,
    "SexualExploitation": 0.32,
    "Servitude": 0.08,
    "ChildLabour": 0.06,
    "ForcedMarriage": 0.05,
    "ForcedBegging": 0.04,
    "OrganRemoval": 0.01,
    "Other": 0.06,
}
COUNTRIES = {
    "GB": 0.30,
    "RO": 0.10,
    "AL": 0.10,
    "VN": 0.10,
    "NG": 0.08,
    "IN": 0.06,
    "PH": 0.05,
    "TH": 0.05,
    "PL": 0.04,
    "CN": 0.04,
    "ER": 0.03,
    "SD": 0.03,
    "UA": 0.02,
}
GENDERS = {"Feminine": 0.55, "Masculine": 0.40, "NonSpecifiedUnknown": 0.04, "NonConforming": 0.01}


def _picklist(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    """Values and the cumulative bounds between them, for `values[1 + width_bucket(u, bounds)]`."""
    values = list(weights)
    bounds, total = [], 0.0
    for value in values[:-1]:
        total += weights[value]
        bounds.append(round(total, 6))
    return values, bounds


def _names(rng: random.Random, count: int, syllables: int) -> list[str]:
    onsets = [
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "j",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "y",
        "z",
        "ch",
        "sh",
        "th",
        "kh",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ei", "ia", "oa"]
    found: set[str] = set()
    while len(found) < count:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        found.add(word.capitalize())
    return sorted(found)


FIRST_NAMES = _names(random.Random(1), 400, 2)
SECOND_NAMES = _names(random.Random(2), 2000, 3)


@dataclass
class BenchOrg:
    org: object
    token: str
    member_id: int
    user_id: int
    supervisor_id: int
    owner_ids: list[int]
    owner_teams: list[str]


# --- SQL -------------------------------------------------------------------------------------------

FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.u(n bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(n, salt) >> 11) & 9007199254740991)::float8 / 9007199254740992.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.blind(kind text, normalised text, key bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN normalised IS NULL OR normalised = '' THEN '' ELSE
   encode(substring(hmac(convert_to(kind || chr(31) || normalised, 'UTF8'), key, 'sha256')
          from 1 for 16), 'hex') END $$;
CREATE OR REPLACE FUNCTION pg_temp.sealed(plain text) RETURNS bytea
LANGUAGE sql VOLATILE PARALLEL SAFE AS
$$ SELECT CASE WHEN plain IS NULL OR plain = '' THEN NULL
   ELSE gen_random_bytes(29 + octet_length(plain)) END $$;
"""

# Per organisation: its staff (owners of cases, by slot) and its blind-index key.
ORGS_SQL = """
CREATE UNLOGGED TABLE IF NOT EXISTS bench_orgs (
  org_id bigint PRIMARY KEY, owner_ids bigint[], owner_teams text[], index_key bytea,
  supervisor bigint, measured bigint);
INSERT INTO bench_orgs VALUES (%(org)s, %(owner_ids)s, %(owner_teams)s, %(key)s, %(supervisor)s,
                               %(measured)s);
"""

# One row per case with everything its rows are derived from. A case's place in its organisation's
# history (n of cases) fixes its opening date: more cases are opened every year, and old cases are
# mostly closed. Every table is then written in time order across organisations, as a shared
# database fills up, so no organisation's rows sit together on disk.
PLAN_SQL = """
DROP TABLE IF EXISTS bench_plan CASCADE;
CREATE UNLOGGED TABLE bench_plan AS
WITH base AS (
  SELECT n, o.org_id, o.owner_ids, o.owner_teams,
         md5('case-' || o.org_id || '-' || n)::uuid AS id,
         %(start)s::date + floor(%(span)s * sqrt(n::float8 / %(cases)s))::int AS opened_on,
         1 + floor(pg_temp.u(n * 16 + o.org_id, 4) * cardinality(o.owner_ids))::int AS owner_slot
  FROM bench_orgs AS o, generate_series(1, %(cases)s) AS n
)
SELECT n, org_id, id, opened_on, owner_slot,
  opened_on + make_interval(secs => 28800 + pg_temp.u(n * 16 + org_id, 15) * 36000) AS created_at,
  pg_temp.u(n * 16 + org_id, 2) < 0.04 + 0.9 * exp(-(current_date - opened_on) / 240.0) AS is_open,
  CASE WHEN pg_temp.u(n * 16 + org_id, 3) < 0.85 THEN 'standard'
       WHEN pg_temp.u(n * 16 + org_id, 3) < 0.97 THEN 'restricted'
       ELSE 'highly_restricted' END AS sensitivity,
  owner_ids[owner_slot] AS owner_id,
  owner_teams[owner_slot] AS team,
  owner_ids[owner_slot - (owner_slot - 1) %% 3 + owner_slot %% 3] AS colleague_id,
  (ARRAY[1, 2, 3, 4, 5])[1 + width_bucket(pg_temp.u(n * 16 + org_id, 5),
                                          ARRAY[0.15, 0.55, 0.85, 0.95])] AS parties,
  pg_temp.u(n * 16 + org_id, 6) < 0.9 AS has_types,
  (%(types)s::text[])[1 + width_bucket(pg_temp.u(n * 16 + org_id, 7), %(type_bounds)s::float8[])]
      AS type1,
  CASE WHEN pg_temp.u(n * 16 + org_id, 8) < 0.2 THEN
    (%(types)s::text[])[1 + width_bucket(pg_temp.u(n * 16 + org_id, 9), %(type_bounds)s::float8[])]
  END AS type2,
  (ARRAY[0, 1, 2, 3])[1 + width_bucket(pg_temp.u(n * 16 + org_id, 10), ARRAY[0.15, 0.6, 0.9])]
      AS events,
  ARRAY(SELECT (%(countries)s::text[])[1 + width_bucket(pg_temp.u(n * 16 + org_id, 10 + k),
                                                        %(country_bounds)s::float8[])]
        FROM generate_series(1, 3) AS k) AS event_countries
FROM base;
"""

CASES_SQL = """
INSERT INTO cases_case (
  id, org_id, reference, status, reason_for_case_closure, team, sensitivity, opened_on, closed_on,
  closure_requested_at, requested_status, referring_organisation, incoming_referral_date,
  referring_primary_case_worker, reason_for_incoming_referral, incoming_referral_details,
  exploitation_tags, country_tags, extensions, created_at, updated_at, closure_requested_by_id,
  owner_id)
SELECT id, org_id, extract(year FROM opened_on)::text || '-' || lpad(n::text, 6, '0'),
  CASE WHEN is_open THEN (CASE WHEN pg_temp.u(n * 16 + org_id, 12) < 0.7 THEN 'Active'
                               ELSE 'FollowUp' END)
       ELSE (CASE WHEN pg_temp.u(n * 16 + org_id, 12) < 0.85 THEN 'Closed'
                  ELSE 'ClosedReferred' END) END,
  CASE WHEN is_open THEN '' ELSE 'Support plan completed.' END,
  team, sensitivity, opened_on,
  CASE WHEN is_open THEN NULL
       ELSE least(current_date, opened_on + 30 + floor(pg_temp.u(n * 16 + org_id, 13) * 400)::int)
  END,
  NULL, '',
  CASE WHEN pg_temp.u(n * 16 + org_id, 14) < 0.3 THEN 'Police' ELSE '' END,
  CASE WHEN pg_temp.u(n * 16 + org_id, 14) < 0.3 THEN opened_on END,
  '', CASE WHEN pg_temp.u(n * 16 + org_id, 14) < 0.3 THEN 'SafetyConcern' ELSE '' END, '',
  CASE WHEN has_types THEN '|' || array_to_string(ARRAY(
      SELECT DISTINCT t COLLATE "C" FROM unnest(ARRAY[type1, type2]) AS t
      WHERE t IS NOT NULL ORDER BY 1), '|') || '|' ELSE '' END,
  CASE WHEN events > 0 THEN '|' || array_to_string(ARRAY(
      SELECT DISTINCT c COLLATE "C" FROM unnest(event_countries[1:events]) AS c ORDER BY 1), '|')
      || '|' ELSE '' END,
  '{}'::jsonb, created_at, created_at, NULL, owner_id
FROM bench_plan ORDER BY created_at;
"""

EVENTS_SQL = """
INSERT INTO cases_traffickingevent (
  id, org_id, case_id, type, date, end_date, country, state, city, street, postal_code, latitude,
  longitude, description, extensions, created_at)
SELECT md5('event-' || org_id || '-' || n || '-' || k)::uuid, org_id, id,
  CASE WHEN k = events THEN 'Exploitation' WHEN k = 1 THEN 'Recruitment' ELSE 'Transit' END,
  opened_on - (60 * (events - k + 1) + floor(pg_temp.u(n * 16 + org_id, 30 + k) * 300)::int),
  NULL, event_countries[k], '', '', '', '', NULL, NULL, '', '{}'::jsonb,
  created_at + make_interval(secs => 60 + k * 60)
FROM bench_plan, generate_series(1, events) AS k ORDER BY created_at, k;
"""

# Which person each party is: its own, or (for 20% of second parties that are perpetrators) one of
# a pool of recurring perpetrators, skewed so that a few of them appear in many cases.
PARTY_ROWS = """
CREATE OR REPLACE TEMP VIEW bench_party AS
SELECT p.*, k,
  CASE WHEN k = 1 THEN (CASE WHEN pg_temp.u(n * 16 + org_id, 21) < 0.6 THEN 'PotentialVictim'
                             ELSE 'Victim' END)
       WHEN pg_temp.u(n * 16 + org_id, 20 + k) < 0.45 THEN 'Perpetrator'
       WHEN pg_temp.u(n * 16 + org_id, 20 + k) < 0.70 THEN 'PotentialVictim'
       WHEN pg_temp.u(n * 16 + org_id, 20 + k) < 0.85 THEN 'Witness'
       ELSE 'Other' END AS role,
  (k = 2 AND pg_temp.u(n * 16 + org_id, 22) < 0.45 AND pg_temp.u(n * 16 + org_id, 41) < 0.2)
      AS is_recurring,
  floor(%(pool)s * pg_temp.u(n * 16 + org_id, 42) ^ 3)::int AS pool_slot
FROM bench_plan AS p, generate_series(1, p.parties) AS k;
"""

PEOPLE_PLAIN_SQL = """
DROP TABLE IF EXISTS bench_people;
CREATE UNLOGGED TABLE bench_people AS
WITH who AS (
  SELECT md5('person-' || org_id || '-' || n || '-' || k)::uuid AS id, org_id,
         n * 8 + k AS s, created_at
  FROM bench_party WHERE NOT is_recurring
  UNION ALL
  SELECT md5('perp-' || o.org_id || '-' || j)::uuid, o.org_id, -1 - j,
         %(start)s::date + interval '9 hours'
  FROM bench_orgs AS o, generate_series(0, %(pool)s - 1) AS j
)
SELECT id, org_id, s, created_at,
  (%(first)s::text[])[1 + floor(pg_temp.u(s * 16 + org_id, 101) ^ 2 * %(nfirst)s)::int] AS first,
  (%(second)s::text[])[1 + floor(pg_temp.u(s * 16 + org_id, 102) ^ 2 * %(nsecond)s)::int]
      AS second,
  CASE WHEN pg_temp.u(s * 16 + org_id, 103) < 0.6
       THEN date '1960-01-01' + floor(pg_temp.u(s * 16 + org_id, 104) * 16000)::int END AS dob,
  CASE WHEN pg_temp.u(s * 16 + org_id, 105) < 0.65
       THEN '+4477' || lpad(floor(pg_temp.u(s * 16 + org_id, 106) * %(phones)s)::text, 8, '0')
       END AS mobile,
  CASE WHEN pg_temp.u(s * 16 + org_id, 107) < 0.08
       THEN '+4420' || lpad(floor(pg_temp.u(s * 16 + org_id, 108) * 1e8)::text, 8, '0')
       END AS home,
  CASE WHEN pg_temp.u(s * 16 + org_id, 109) < 0.35
       THEN 'P' || lpad(floor(pg_temp.u(s * 16 + org_id, 110) * 1e8)::text, 8, '0') END AS document,
  pg_temp.u(s * 16 + org_id, 111) < 0.2 AS has_email,
  pg_temp.u(s * 16 + org_id, 112) < 0.25 AS has_address,
  (%(genders)s::text[])[1 + width_bucket(pg_temp.u(s * 16 + org_id, 113),
                                         %(gender_bounds)s::float8[])] AS gender,
  (%(countries)s::text[])[1 + width_bucket(pg_temp.u(s * 16 + org_id, 114),
                                           %(country_bounds)s::float8[])] AS citizenship
FROM who;
"""

PEOPLE_SQL = """
INSERT INTO cases_person (
  id, org_id, prs_salutation, prs_first_name, prs_middle_name, prs_second_name, prs_birthdate,
  prs_identity_number, prs_email, prs_home_phone, prs_mobile_phone, prs_mailing_street,
  prs_mailing_postal_code, prs_mailing_city, prs_title, prs_mailing_latitude,
  prs_mailing_longitude, first_name_index, second_name_index, birthdate_index,
  identity_number_index, mobile_phone_index, home_phone_index, gender, deceased, citizenship,
  mailing_state, mailing_country, marital_status, number_of_children, primary_language,
  secondary_language, highest_level_of_education, extensions, merged_into_id, created_at,
  updated_at)
SELECT id, p.org_id, NULL, pg_temp.sealed(first), NULL, pg_temp.sealed(second),
  pg_temp.sealed(dob::text), pg_temp.sealed(document),
  CASE WHEN has_email THEN pg_temp.sealed('someone.somewhere@example.org') END,
  pg_temp.sealed(home), pg_temp.sealed(mobile),
  CASE WHEN has_address THEN pg_temp.sealed('12 Harbour Road') END,
  CASE WHEN has_address THEN pg_temp.sealed('AB1 2CD') END,
  CASE WHEN has_address THEN pg_temp.sealed('Portsmouth') END,
  NULL, NULL, NULL,
  pg_temp.blind('name', lower(first), o.index_key),
  pg_temp.blind('name', lower(second), o.index_key),
  pg_temp.blind('dob', dob::text, o.index_key), pg_temp.blind('document', document, o.index_key),
  pg_temp.blind('phone', mobile, o.index_key), pg_temp.blind('phone', home, o.index_key),
  gender, false, jsonb_build_array(citizenship), '', '', '', NULL, '', '', '', '{}'::jsonb, NULL,
  created_at, created_at
FROM bench_people AS p JOIN bench_orgs AS o USING (org_id) ORDER BY created_at;
"""

PARTIES_SQL = """
INSERT INTO cases_caseparty (
  id, org_id, case_id, person_id, role, agreement_to_manage_personal_data, trafficking_status,
  trafficking_status_decision_making_org, relationship_to_trafficker, age_when_trafficked,
  recruitment_websites_and_apps, method_of_recruitment, location_of_recruitment,
  methods_of_control, type_of_exploitation, forced_labour_industry, type_of_sex_exploitation,
  location_of_exploitation, exploitation_websites_and_apps, vulnerabilities,
  details_of_vulnerabilities, role_in_process, role_details, extensions, created_at, updated_at)
SELECT md5('party-' || org_id || '-' || n || '-' || k)::uuid, org_id, id,
  CASE WHEN is_recurring THEN md5('perp-' || org_id || '-' || pool_slot)::uuid
       ELSE md5('person-' || org_id || '-' || n || '-' || k)::uuid END,
  role,
  CASE WHEN role IN ('PotentialVictim', 'Victim') THEN true END,
  CASE WHEN role = 'Victim' THEN 'ActualVictimOfTrafficking'
       WHEN role = 'PotentialVictim' THEN 'PossibleVictimOfTrafficking' ELSE '' END,
  '', '', NULL, '[]'::jsonb,
  CASE WHEN role IN ('PotentialVictim', 'Victim') THEN '["FalsePromises"]'::jsonb
       ELSE '[]'::jsonb END,
  '',
  CASE WHEN role IN ('PotentialVictim', 'Victim') THEN '["DebtBondage", "WithholdsDocuments"]'::jsonb
       ELSE '[]'::jsonb END,
  CASE WHEN role IN ('PotentialVictim', 'Victim') AND has_types THEN
       (CASE WHEN k = 1 THEN to_jsonb(ARRAY(SELECT DISTINCT t COLLATE "C"
                                            FROM unnest(ARRAY[type1, type2]) AS t
                                            WHERE t IS NOT NULL ORDER BY 1))
             ELSE jsonb_build_array(type1) END)
       ELSE '[]'::jsonb END,
  '', '[]'::jsonb, '', '[]'::jsonb, '[]'::jsonb, '',
  CASE WHEN role = 'Perpetrator' THEN '["RecruiterOrIntermediary"]'::jsonb ELSE '[]'::jsonb END,
  '', '{}'::jsonb,
  created_at + make_interval(secs => 60 + k * 60), created_at + make_interval(secs => 60 + k * 60)
FROM bench_party ORDER BY created_at, k;
"""

# Highly restricted cases name one colleague of the owner's team beside the owner; the measured
# caseworker also holds break-glass grants (expired but one) on restricted cases of other teams.
GRANTS_SQL = """
INSERT INTO cases_caseaccessgrant (id, org_id, case_id, user_id, granted_by_id, created_at)
SELECT md5('grant-' || p.org_id || '-' || n)::uuid, p.org_id, id, colleague_id, o.supervisor,
  created_at + interval '1 hour'
FROM bench_plan AS p JOIN bench_orgs AS o USING (org_id)
WHERE sensitivity = 'highly_restricted' ORDER BY created_at;
INSERT INTO cases_breakglassgrant (id, org_id, case_id, user_id, reason, created_at, expires_at)
SELECT md5('glass-' || org_id || '-' || n)::uuid, org_id, id, measured,
  'Survivor called the night line and the owner was away.', now() - (g * interval '1 day'),
  now() - (g * interval '1 day') + interval '1 hour'
FROM (SELECT p.*, o.measured, row_number() OVER (PARTITION BY p.org_id ORDER BY n) - 1 AS g
      FROM bench_plan AS p JOIN bench_orgs AS o USING (org_id)
      WHERE sensitivity = 'restricted' AND team <> 'north') AS chosen
WHERE g < 5;
"""

# The drop and re-creation of secondary indexes and foreign keys around the load, as pg_restore
# does: deferred foreign-key checks would queue one trigger event per inserted row.
LOADED_TABLES = ("cases_case", "cases_person", "cases_caseparty", "cases_traffickingevent")


def drop_secondary_structures() -> list[str]:
    """Drop foreign keys and non-primary indexes of the loaded tables; return how to restore them."""
    restore_indexes: list[str] = []
    restore_constraints: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype IN ('f', 'u') AND (conrelid::regclass::text = ANY(%s) "
            "OR confrelid::regclass::text = ANY(%s))",
            [list(LOADED_TABLES), list(LOADED_TABLES)],
        )
        for table, name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restore_constraints.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT LIKE '%%pkey'",
            [list(LOADED_TABLES)],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            restore_indexes.append(definition)
    # Unique constraints first (foreign keys may rest on them), then the remaining indexes.
    uniques = [c for c in restore_constraints if " UNIQUE " in c]
    foreign = [c for c in restore_constraints if " UNIQUE " not in c]
    return uniques + restore_indexes + foreign


def picklist_params() -> dict[str, object]:
    types, type_bounds = _picklist(EXPLOITATION)
    countries, country_bounds = _picklist(COUNTRIES)
    genders, gender_bounds = _picklist(GENDERS)
    return {
        "types": types,
        "type_bounds": type_bounds,
        "countries": countries,
        "country_bounds": country_bounds,
        "genders": genders,
        "gender_bounds": gender_bounds,
        "first": FIRST_NAMES,
        "nfirst": len(FIRST_NAMES),
        "second": SECOND_NAMES,
        "nsecond": len(SECOND_NAMES),
        "start": START,
        "span": (date.today() - START).days,
    }


def check_blind_indexes_match_the_vault(key: bytes) -> None:
    """pgcrypto's HMAC of each kind's normalised form equals the vault's own index."""
    from tessera.vault.blind import blind_index
    from tessera.vault.fields import index_for

    samples = [
        ("name", "Amira Chokai", "amira chokai"),
        ("phone", "+44 7700 123456", "+447700123456"),
        ("phone", "+4420 1234 5678", "+442012345678"),
        ("dob", "1984-02-29", "1984-02-29"),
        ("document", "P-0012 3456", "P00123456"),
    ]
    with connection.cursor() as cursor:
        for kind, typed, normalised in samples:
            cursor.execute("SELECT pg_temp.blind(%s, %s, %s)", [kind, normalised, key])
            in_sql = cursor.fetchone()[0]
            assert in_sql == blind_index(kind, normalised) == index_for(kind, typed), (kind, typed)


def setup_org(number: int) -> BenchOrg:
    """An organisation with four teams of caseworkers and a supervisor, through the services; the
    measured caseworker (team north) gets a second factor and an API token."""
    from tessera.accounts.models import User
    from tessera.accounts.services import create_user, enrol_totp
    from tessera.accounts.tokens import create_token
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import add_member, create_organisation

    org = create_organisation(slug=f"bench-{number}", name=f"Bench {number}", shipping_country="GB")
    owner_ids, owner_teams = [], []
    for team in TEAMS:
        for i in range(CASEWORKERS_PER_TEAM):
            user = create_user(email=f"cw-{team}-{i}@bench-{number}.test", password=PASSWORD)
            add_member(org=org, user=user, role="caseworker", team=team)
            owner_ids.append(user.pk)
            owner_teams.append(team)
    supervisor = create_user(email=f"sup@bench-{number}.test", password=PASSWORD)
    add_member(org=org, user=supervisor, role="supervisor")
    measured = User.objects.get(email=f"cw-north-0@bench-{number}.test")
    enrol_totp(user=measured)
    _token, raw = create_token(user=measured, org=org, name="bench")
    member = Membership.objects.get(user=measured, org=org)
    return BenchOrg(org, raw, member.pk, measured.pk, supervisor.pk, owner_ids, owner_teams)


def register_org(bench_org: BenchOrg) -> None:
    """Record the organisation's staff and index key for the generating statements."""
    from tessera.tenancy.context import org_context
    from tessera.vault.keys import org_keys

    with org_context(bench_org.org):  # type: ignore[arg-type]
        key = org_keys().index_key
        check_blind_indexes_match_the_vault(key)
    with connection.cursor() as cursor:
        cursor.execute(
            ORGS_SQL,
            {
                "org": bench_org.org.pk,  # type: ignore[attr-defined]
                "owner_ids": bench_org.owner_ids,
                "owner_teams": bench_org.owner_teams,
                "key": key,
                "supervisor": bench_org.supervisor_id,
                "measured": bench_org.user_id,
            },
        )


def load(cases_per_org: int, log: Any = print) -> None:
    """Every registered organisation's cases, events, people and parties, in time order."""
    params = {
        **picklist_params(),
        "cases": cases_per_org,
        "pool": max(10, cases_per_org // 50),
        "phones": int(cases_per_org * 2.5 * 0.65 * 0.9),
    }
    with connection.cursor() as cursor:
        for label, sql in (
            ("plan", PLAN_SQL),
            ("cases", CASES_SQL),
            ("events", EVENTS_SQL),
            ("party view", PARTY_ROWS),
            ("people (plain)", PEOPLE_PLAIN_SQL),
            ("people", PEOPLE_SQL),
            ("parties", PARTIES_SQL),
            ("grants", GRANTS_SQL),
        ):
            started = time.perf_counter()
            cursor.execute(sql, params)
            log(f"  {label}: {time.perf_counter() - started:.0f} s")


VISIBLE_TO_MEASURED = (
    "(sensitivity = 'standard' OR (sensitivity = 'restricted' AND team = 'north') "
    "OR owner_id = %(measured)s)"
)
SAMPLES_SQL = f"""
INSERT INTO {{table}} (org_id, kind, value)
(SELECT org_id, 'detail', id::text FROM bench_plan
 WHERE org_id = %(org)s AND {VISIBLE_TO_MEASURED}
 ORDER BY pg_temp.u(n, 900) LIMIT %(inputs)s)
UNION ALL
(SELECT pp.org_id, 'phone', '+44 ' || substr(mobile, 4, 4) || ' ' || substr(mobile, 8)
 FROM bench_people AS pp JOIN bench_party AS bp
   ON pp.org_id = bp.org_id AND pp.s = bp.n * 8 + bp.k AND NOT bp.is_recurring
 WHERE pp.org_id = %(org)s AND {VISIBLE_TO_MEASURED} AND mobile IS NOT NULL ORDER BY pg_temp.u(pp.s, 901) LIMIT %(inputs)s)
UNION ALL
(SELECT pp.org_id, 'name', first || ' ' || second
 FROM bench_people AS pp JOIN bench_party AS bp
   ON pp.org_id = bp.org_id AND pp.s = bp.n * 8 + bp.k AND NOT bp.is_recurring
 WHERE pp.org_id = %(org)s AND {VISIBLE_TO_MEASURED} ORDER BY pg_temp.u(pp.s, 902) LIMIT %(inputs)s)
"""
PLAIN_OF_DETAIL_PEOPLE = """
SELECT id, first, second, dob, document, mobile, home, has_email, has_address
FROM bench_people WHERE org_id = %(org)s AND id IN (
  SELECT person_id FROM cases_caseparty WHERE org_id = %(org)s AND case_id IN (
    SELECT value::uuid FROM {table} WHERE org_id = %(org)s AND kind = 'detail'))
"""
INDEX_ATTRS = (
    "first_name_index",
    "second_name_index",
    "birthdate_index",
    "identity_number_index",
    "mobile_phone_index",
    "home_phone_index",
)


def choose_samples(bench_org: BenchOrg, table: str, inputs: int = 30) -> None:
    """Store the inputs to measure (visible cases, phones and names of people in them), and seal
    the people of the sampled detail cases for real, through the model."""
    params = {"measured": bench_org.user_id, "inputs": inputs, "org": bench_org.org.pk}  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(SAMPLES_SQL.format(table=table), params)
        cursor.execute(PLAIN_OF_DETAIL_PEOPLE.format(table=table), params)
        people = cursor.fetchall()
    seal_people(bench_org, people)


def seal_people(bench_org: BenchOrg, people: list[tuple[Any, ...]]) -> None:
    from tessera.cases.models import Person
    from tessera.tenancy.context import org_context

    with org_context(bench_org.org):  # type: ignore[arg-type]
        for pk, first, second, dob, document, mobile, home, has_email, has_address in people:
            person = Person.objects.get(pk=pk)
            in_sql = [getattr(person, attr) for attr in INDEX_ATTRS]
            person.first_name, person.second_name = first, second
            person.birthdate, person.identity_number = dob, document
            person.mobile_phone, person.home_phone = mobile, home
            if has_email:
                person.email = "someone.somewhere@example.org"
            if has_address:
                person.mailing_street, person.mailing_postal_code = "12 Harbour Road", "AB1 2CD"
                person.mailing_city = "Portsmouth"
            person.save()
            by_vault = [getattr(person, attr) for attr in INDEX_ATTRS]
            assert in_sql == by_vault, (pk, in_sql, by_vault)
