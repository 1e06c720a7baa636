"""Push listings to the postmart simulator at its rate limit; print time, requests, memory.

    .venv/bin/python bench/sync.py                    # 10 000 listings, 200 requests/s
    .venv/bin/python bench/sync.py --listings 2000 --rate 100 --workers 2
    .venv/bin/python bench/sync.py --database-url postgresql+psycopg://postgres@127.0.0.1/x

A temporary SQLite database (or ``--database-url``, an empty PostgreSQL database that
is emptied again at the end) gets the listings (bulk inserts), a channel limited to
``--rate`` requests per second, and the simulator (`flask sync simulate postmart
--rate-limit RATE`) in a process of its own; then ``--workers`` processes of `flask sync
run --once` push everything. It prints the time beside the rate-limit bound (listings ÷
rate), the requests the simulator saw per listing, and each worker's peak memory.
Figures only: nothing here asserts. Needs the dev extras (``make test`` installs them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.catalog.models import Product, ProductImage  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.shops.models import Shop  # noqa: E402
from marketplace.sync import services  # noqa: E402
from tests.conftest import FAST_ARGON2, free_port  # noqa: E402
from tests.factories import make_image, make_product, make_shop  # noqa: E402

SECRET_KEY = "bench-sync-" + "k" * 40


def seed(count: int) -> Shop:
    shop = make_shop()
    template = make_product(shop=shop, name="Khô cá mẫu", images=[make_image()],
                            weight_grams=500)  # fmt: skip
    columns = {c.name: getattr(template, c.name) for c in Product.__table__.columns}
    image_id = template.images[0].image_id
    for start in range(0, count - 1, 2000):
        rows = []
        for n in range(start, min(start + 2000, count - 1)):
            row = {**columns, "name": f"Khô cá {n}", "slug": f"kho-ca-{n}"}
            row.pop("id")
            rows.append(row)
        db.session.execute(insert(Product), rows)
    ids = db.session.scalars(select(Product.id).where(Product.id != template.id))
    db.session.execute(
        insert(ProductImage), [{"product_id": i, "image_id": image_id, "position": 0} for i in ids]
    )
    db.session.commit()
    return shop


def watch_peak_memory(workers: list[subprocess.Popen]) -> list[float]:
    """Wait for the workers; return each one's peak resident memory in MB.

    Read from /proc while they run: a child's ``ru_maxrss`` starts from its parent's size
    at the fork (this script's, with its 10 000 seeded listings), not from what it uses.
    """
    peaks = [0.0] * len(workers)
    while any(worker.poll() is None for worker in workers):
        for n, worker in enumerate(workers):
            try:
                status = Path(f"/proc/{worker.pid}/status").read_text()
            except OSError:
                continue  # ended meanwhile
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[n] = max(peaks[n], int(line.split()[1]) / 1024)
        time.sleep(0.2)
    return peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FLASK_APP": "wsgi",
               "DATABASE_URL": database_url, "INSTANCE_PATH": f"{tmp}/instance",
               "SEARCH_INDEX_DIR": f"{tmp}/search", "MEDIA_DIR": f"{tmp}/media",
               "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING"}  # fmt: skip
        app = create_app(
            {
                "SECRET_KEY": SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                "INSTANCE_PATH": env["INSTANCE_PATH"],
                "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"],
                "MEDIA_DIR": env["MEDIA_DIR"],
                "RATELIMIT_STORAGE_URI": "memory://",
                "OUTBOX_HANDLE_AFTER_COMMIT": False,
                **FAST_ARGON2,
            }
        )
        port = free_port()
        simulator = subprocess.Popen(
            [sys.executable, "-m", "flask", "sync", "simulate", "postmart", "--port", str(port),
             "--rate-limit", str(int(args.rate))],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with app.app_context():
            db.create_all()
            print(f"seeding {args.listings} listings…", flush=True)
            shop = seed(args.listings)
            channel = services.add_channel(
                code="postmart", name="Postmart", connector="postmart",
                base_url=f"http://127.0.0.1:{port}", credentials="bench-key",
                requests_per_second=args.rate,
            )  # fmt: skip
            services.opt_in(shop, channel)
            db.session.commit()
            services.enable_channel(channel, map_rest="pm-1")
            db.session.commit()
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                requests.get(f"{base}/_sim/state", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        started = time.monotonic()
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "sync", "run", "--once"], cwd=ROOT, env=env
            )
            for _ in range(args.workers)
        ]
        peaks = watch_peak_memory(workers)
        elapsed = time.monotonic() - started
        state = requests.get(f"{base}/_sim/state", timeout=10).json()
        simulator.terminate()
        simulator.wait(timeout=10)
        if args.database_url:
            with app.app_context():
                db.drop_all()
    bound = args.listings / args.rate
    print(
        f"{len(state['listings'])} listings live on the simulator, {state['duplicates']} duplicates"
    )
    print(f"time: {elapsed:.1f} s; rate-limit bound: {bound:.1f} s ({elapsed / bound:.2f}×)")
    print(f"requests per listing: {(state['requests'] - 2) / args.listings:.2f}")
    print(f"peak memory of each worker: {', '.join(f'{mb:.0f} MB' for mb in peaks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
