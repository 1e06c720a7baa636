"""Serve the app from a process of its own, as one gunicorn worker would, for limit tests.

    python -m tests.accounts.login_server DATABASE_URL INSTANCE_DIR PORT [JSON_SETTINGS]

One request at a time, like a sync worker. Two of these on two ports stand for
``make run``'s two workers, with each request sent to a chosen one (the kernel's choice
between gunicorn's workers would make the test depend on luck).
"""

from __future__ import annotations

import json
import sys

from werkzeug.serving import make_server

from marketplace import create_app
from tests.conftest import process_config


def main(database_url: str, instance: str, port: str, settings: str = "{}") -> None:
    app = create_app(process_config(database_url, instance, **json.loads(settings)))
    server = make_server("127.0.0.1", int(port), app)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
