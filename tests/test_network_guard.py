"""The suite itself must fail loudly if anything reaches past loopback."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkAccessDenied


def test_public_address_is_refused() -> None:
    with socket.socket() as s, pytest.raises(NetworkAccessDenied):
        s.connect(("93.184.216.34", 80))


def test_dns_lookup_of_public_name_is_refused() -> None:
    with pytest.raises(NetworkAccessDenied):
        socket.getaddrinfo("export.arxiv.org", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
