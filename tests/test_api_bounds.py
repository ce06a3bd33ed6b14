"""Integers beyond the database's 64-bit range are refused by the API's schema (4xx), never passed
to a query that overflows (a 500 before: `?owner=10**37` on /api/v1/cases)."""

from __future__ import annotations

import uuid

from tessera.api.urls import api
from tessera.tenancy.roles import Role

from .conftest import World

TOO_LARGE = str(2**70)


def _integer_parameters() -> list[tuple[str, str, str]]:
    """(method, path, name) of every integer path or query parameter in the OpenAPI document."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("schema", {}).get("type") == "integer" or any(
                    option.get("type") == "integer"
                    for option in parameter.get("schema", {}).get("anyOf", [])
                ):
                    found.append((method, path, parameter["name"]))
    return found


def _fill(path: str, integer_name: str | None) -> str:
    """The path with every parameter filled: the one under test too large, the rest valid-looking."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            parts.append(TOO_LARGE if name == integer_name else str(uuid.uuid4()))
        else:
            parts.append(part)
    return "/".join(parts)


def test_the_api_has_integer_parameters_to_check() -> None:
    names = {name for _method, _path, name in _integer_parameters()}
    assert {"limit", "offset", "owner"} <= names


def test_every_integer_parameter_refuses_values_beyond_64_bits(world: World) -> None:
    client = world.client_for(world.a, Role.ORG_ADMIN)
    checked = 0
    for method, path, name in _integer_parameters():
        operation = api.get_openapi_schema()["paths"][path][method]
        location = next(p["in"] for p in operation["parameters"] if p["name"] == name)
        url = _fill(path, name if location == "path" else None)
        if location == "query":
            url += f"?{name}={TOO_LARGE}"
        response = client.generic(method.upper(), url, "{}", content_type="application/json")
        assert 400 <= response.status_code < 500, (method, url, response.status_code)
        checked += 1
    assert checked >= 5
