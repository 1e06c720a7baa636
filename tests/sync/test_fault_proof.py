"""Proof under faults: 1 000 listings, a faulty channel, two workers, one killed midway.

The simulator answers 20 % of writes with a 503, 10 % with a 429, and applies 5 % before
answering too late; two `flask sync run` processes share the queue, one is killed with
SIGKILL while working and started again. Meanwhile listings are edited and hidden. At
the end every public listing is live exactly once with its latest content, every hidden
one is gone, and the simulator saw no duplicate creation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductImage
from marketplace.core import outbox
from marketplace.core.database import begin_write_transaction
from marketplace.extensions import db
from marketplace.sync import services
from marketplace.sync.simulator import Faults, create_simulator
from tests.conftest import TEST_SECRET_KEY, free_port
from tests.factories import make_image, make_product, make_shop

ROOT = Path(__file__).resolve().parents[2]
LISTINGS = 1000


def _worker(app, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        "MEDIA_DIR": app.config["MEDIA_DIR"],
        "SECRET_KEY": TEST_SECRET_KEY,
        "SYNC_HTTP_TIMEOUT": "1",
        "SYNC_RETRY_BASE_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "sync", "run", "--interval", "0.2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _many_listings(shop, count: int) -> list[int]:
    """``count`` published listings in one go (the factory's service calls are slow)."""
    template = make_product(shop=shop, name="Khô cá mẫu", images=[make_image()],
                            weight_grams=500)  # fmt: skip
    image_id = template.images[0].image_id
    columns = {c.name: getattr(template, c.name) for c in Product.__table__.columns}
    rows = []
    for n in range(count - 1):
        row = {**columns, "name": f"Khô cá {n}", "slug": f"kho-ca-{n}"}
        row.pop("id")
        rows.append(row)
    db.session.execute(insert(Product), rows)
    db.session.flush()
    ids = list(db.session.scalars(select(Product.id).where(Product.shop_id == shop.id)))
    db.session.execute(
        insert(ProductImage),
        [{"product_id": i, "image_id": image_id, "position": 0} for i in ids if i != template.id],
    )
    db.session.commit()
    return sorted(ids)


def test_a_thousand_listings_through_faults_and_a_killed_worker_end_live_exactly_once(
    app, tmp_path
):
    port = free_port()
    faults = Faults(error_rate=0.2, rate_429=0.1, applied_then_timeout=0.05, hang_seconds=1.3,
                    seed=11)  # fmt: skip
    server = make_server("127.0.0.1", port, create_simulator("voso", faults), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    shop = make_shop()
    ids = _many_listings(shop, LISTINGS)
    channel = services.add_channel(code="voso", name="Voso", connector="voso", base_url=base,
                                   credentials="camau:bi-mat", requests_per_second=400)  # fmt: skip
    services.opt_in(shop, channel)
    db.session.commit()
    services.enable_channel(channel, map_rest="10")
    db.session.commit()

    first, second = _worker(app, tmp_path, "a"), _worker(app, tmp_path, "b")
    try:
        deadline = time.monotonic() + 120
        while len(requests.get(f"{base}/_sim/state", timeout=5).json()["listings"]) < 300:
            assert time.monotonic() < deadline, (tmp_path / "a.log").read_text()[-2000:]
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)  # in the middle of its work
        first.wait(timeout=10)
        db.session.rollback()
        begin_write_transaction()  # as a request would: the workers write meanwhile
        for product_id in ids[:50]:  # edits and removals while the workers run
            catalog.set_price_and_stock(db.session.get(Product, product_id),
                                        price_vnd=222_000, stock=9)  # fmt: skip
        for product_id in ids[-50:]:
            catalog.hide_product(db.session.get(Product, product_id), reason="Báo cáo")
        db.session.commit()
        first = _worker(app, tmp_path, "a2")
        deadline = time.monotonic() + 300
        while outbox.depth(services.TOPIC).waiting:
            assert time.monotonic() < deadline, outbox.depth(services.TOPIC)
            time.sleep(0.5)
        state = requests.get(f"{base}/_sim/state", timeout=5).json()
    finally:
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        for process in (first, second):
            process.wait(timeout=30)
        server.shutdown()

    by_reference = {item["reference"]: item for item in state["listings"]}
    public = {f"cm-{i}" for i in ids[:-50]}
    assert state["duplicates"] == 0
    assert set(by_reference) == public
    assert len(state["listings"]) == len(public)  # each exactly once
    assert {by_reference[f"cm-{i}"]["sale_price"] for i in ids[:50]} == {222_000}
    assert outbox.depth(services.TOPIC).dead == 0
