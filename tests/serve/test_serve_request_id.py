"""A well-formed incoming X-Request-ID is kept (so a proxy's id follows the request into our
log); anything else is replaced by a new id."""

import pytest


def test_well_formed_incoming_request_id_is_kept(client) -> None:
    response = client.get("/health", headers={"X-Request-ID": "proxy-1.2:abc_Z"})
    assert response.headers["x-request-id"] == "proxy-1.2:abc_Z"


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "id;drop", "идентификатор", "a\\nb"])
def test_malformed_incoming_request_id_is_replaced(client, bad) -> None:
    response = client.get("/health", headers={"X-Request-ID": bad.encode("utf-8")})
    got = response.headers["x-request-id"]
    assert got != bad and len(got) == 32 and all(c in "0123456789abcdef" for c in got)


def test_request_id_is_generated_when_absent(client) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert first != second and len(first) == 32
