"""The channel simulators, served over real HTTP on 127.0.0.1 for the sync tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.serving import make_server

from marketplace.sync.simulator import Faults, create_simulator
from tests.conftest import free_port


@pytest.fixture
def simulator() -> Iterator[Callable[..., str]]:
    """Start a channel simulator; return its base URL."""
    servers = []

    def start(kind: str, **faults: float) -> str:
        port = free_port()
        server = make_server("127.0.0.1", port, create_simulator(kind, Faults(**faults)),
                             threaded=True)  # fmt: skip
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.shutdown()
