"""The test servers' own plumbing (``tests/fixtures/services.py``): ports that nothing else
can take between choosing and binding, and a PostgreSQL start that survives a taken port."""

from __future__ import annotations

import socket

import pytest
from fixtures.services import PostgresServer, _ephemeral_range, free_port


def test_free_port_is_bindable_and_below_the_kernels_own_ports() -> None:
    low, high = _ephemeral_range()
    assert 1024 <= low <= high
    ports = {free_port() for _ in range(20)}
    for port in ports:
        # never one the kernel could hand to an outgoing connection or a bind(0) meanwhile
        assert 1024 <= port < low
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
    assert len(ports) > 1, "free_port drew the same port 20 times: it is not drawing at random"


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_server_moves_to_another_port_when_its_port_is_taken(postgres_server) -> None:
    import psycopg

    second = PostgresServer(postgres_server.bindir)
    taken = postgres_server.port
    second.port = taken  # the session's server holds it: the first start cannot bind
    try:
        second.start()
        assert second.port != taken
        assert "could not bind" in second.log.read_text(errors="replace")
        with psycopg.connect(host="127.0.0.1", port=second.port, user="postgres",
                             dbname="postgres") as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        second.stop()
