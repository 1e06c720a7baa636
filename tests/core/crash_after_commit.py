"""Make a change, commit it, and die (SIGKILL) before any after-commit handler runs.

    python -m tests.core.crash_after_commit DATABASE_URL INSTANCE_DIR ACTION PRODUCT_ID

ACTION is ``rename`` (a listing's new name: a ``search`` message) or ``approve`` (an
admin's decision: a ``search`` and a ``mail`` message). The listener that kills the
process is put first, so the commit is on disk and nothing after it has run.
"""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.moderation import services as moderation
from tests.conftest import process_config


def die(session: Session) -> None:
    if not session.in_nested_transaction():
        os.kill(os.getpid(), signal.SIGKILL)


def main(database_url: str, instance: str, action: str, product_id: str) -> None:
    app = create_app(process_config(database_url, instance))
    with app.app_context():
        product = db.session.get(Product, int(product_id))
        if action == "rename":
            product.name = "Khô cá lóc Cà Mau loại đặc biệt"
        else:
            moderation.decide_product(None, product.id, approve=True)
        event.listen(Session, "after_commit", die, insert=True)
        db.session.commit()
    raise SystemExit("still alive after the commit")


if __name__ == "__main__":
    main(*sys.argv[1:])
