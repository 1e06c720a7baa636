"""Measure the category and product pages under gunicorn, beside a bare Flask ceiling.

    .venv/bin/python bench/catalog_pages.py                 # 100 000 products
    .venv/bin/python bench/catalog_pages.py --products 1000 100000 --seconds 10

For each catalog size it seeds a fresh SQLite database (or DATABASE_URL's PostgreSQL,
emptied first) with bulk inserts, serves the app with `gunicorn -w 2` on 127.0.0.1, and
drives the category page, the product page and a bare Flask page of the same byte size
(the ceiling) with keep-alive HTTP clients for a fixed time: once as anonymous visitors
served from the page cache, once with the cache off (every request renders). It prints
median and p95 latency and requests per second of each.

Then, with the cache on, it drives a 50/50 mix of the category pages and the product pages
of the listings they show, once alone and once beside a checkout every 100 ms: a thread
of this process takes one unit of stock from one of those listings (picked at random)
through ``catalog.stock.take_stock`` in its own app context and commits, which is what a
sale does to the catalog. It prints the share of responses served from the cache (the
``X-Cache`` header) and the pages per second of both runs, and how many sales sold a
listing out. Last, the time to turn one 12-megapixel JPEG into its WebP derivatives.
Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import http.client
import io
import itertools
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image as PILImage  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.catalog import queries, stock  # noqa: E402
from marketplace.catalog import services as catalog  # noqa: E402
from marketplace.catalog.models import Category, Product, ProductImage  # noqa: E402
from marketplace.catalog.views import CATEGORY_PAGE_SIZE  # noqa: E402
from marketplace.core import pagecache  # noqa: E402
from marketplace.core.database import begin_write_transaction  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.media import services as media  # noqa: E402
from marketplace.search import services as search  # noqa: E402
from marketplace.shops import places  # noqa: E402
from marketplace.shops.models import Shop  # noqa: E402

PRODUCTS_PER_SHOP = 50
CLIENT_THREADS = 4
CHECKOUT_EVERY = 0.1  # seconds
WORDS = [
    "khô",
    "cá",
    "lóc",
    "tôm",
    "đất",
    "mật",
    "ong",
    "rừng",
    "U",
    "Minh",
    "ba",
    "khía",
    "muối",
    "cua",
    "gạch",
    "Năm",
    "Căn",
    "đặc",
    "sản",
    "Cà",
    "Mau",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(app, products: int) -> tuple[list[int], str]:
    """Bulk-insert ``products`` published listings; return their ids and a category slug."""
    rng = random.Random(products)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        db.drop_all()
        db.create_all()
        # An empty search index, written before the listings: without one, each worker's
        # first request would rebuild it from 100 000 listings (minutes of one worker's
        # time, in the middle of the measurements). Search is not measured here.
        search.rebuild_index()
        catalog.ensure_default_categories()
        leaves = list(db.session.scalars(select(Category).where(Category.parent_id.is_not(None))))
        pictures = []
        for shade in range(8):
            buffer = io.BytesIO()
            PILImage.new("RGB", (800, 800), (30 * shade, 120, 90)).save(buffer, "JPEG")
            pictures.append(media.ingest_image(buffer.getvalue()))
        shops = max(1, products // PRODUCTS_PER_SHOP)
        commune = places.communes(places.default_province_code())[0].code
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"seller{i}@example.com",
                    "password_hash": "x",
                    "full_name": f"Người bán {i}",
                    "phone": "+84912345678",
                    "role": "seller",
                    "session_token": f"t{i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(shops)
            ],
        )
        user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        db.session.execute(
            insert(Shop),
            [
                {
                    "owner_id": user_id,
                    "name": f"Gian hàng {i}",
                    "slug": f"gian-hang-{i}",
                    "description": "",
                    "phone": "+84912345678",
                    "street": "Ấp 1",
                    "province_code": places.default_province_code(),
                    "commune_code": commune,
                    "business_type": "household",
                    "tax_code": "2000123453",
                    "rules_version": "2026-01",
                    "rules_accepted_at": now,
                    "status": "approved",
                    "trusted": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, user_id in enumerate(user_ids)
            ],
        )
        shop_ids = list(db.session.scalars(select(Shop.id).order_by(Shop.id)))
        batch = 5000
        for start in range(0, products, batch):
            rows = []
            for index in range(start, min(products, start + batch)):
                name = " ".join(rng.sample(WORDS, 6)).capitalize() + f" {index}"
                published = now - timedelta(minutes=index)
                rows.append(
                    {
                        "shop_id": shop_ids[index % len(shop_ids)],
                        "category_id": leaves[index % len(leaves)].id,
                        "root_category_id": leaves[index % len(leaves)].parent_id,
                        "name": name,
                        "slug": f"san-pham-{index}",
                        "description_md": name,
                        "description_html": f"<p>{name}</p>",
                        "price_vnd": rng.randrange(10, 2000) * 1000,
                        "stock": rng.randrange(0, 50),
                        "unit": "kg",
                        "origin": "Cà Mau",
                        "status": "published",
                        "published_at": published,
                        "created_at": published,
                        "updated_at": published,
                    }
                )
            db.session.execute(insert(Product), rows)
        product_ids = list(db.session.scalars(select(Product.id)))
        db.session.execute(
            insert(ProductImage),
            [
                {"product_id": pid, "image_id": pictures[pid % len(pictures)].id, "position": 0}
                for pid in product_ids
            ],
        )
        db.session.commit()
        top = leaves[0].parent.slug
        db.engine.dispose()
    return product_ids, top


def serve(module: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", module],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{module} did not start")


@dataclass
class Figures:
    p50: float  # ms
    p95: float  # ms
    rps: float
    size: int  # bytes of the last page
    hit_rate: float  # share of responses that said X-Cache: hit


def drive(port: int, paths: list[str], seconds: float, *, rounds: int = 0) -> Figures:
    """Request ``paths`` round-robin from several threads for ``seconds`` (or, with
    ``rounds``, until each thread has gone through them that many times)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    size = hits = 0

    def worker(offset: int) -> None:
        nonlocal size, hits
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, index, my_hits = [], offset, 0
        while time.monotonic() < deadline or index < rounds * len(paths):
            path = paths[index % len(paths)]
            index += CLIENT_THREADS
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            my_hits += response.getheader("X-Cache") == "hit"
            size = len(body)
        connection.close()
        with lock:
            latencies.extend(mine)
            hits += my_hits

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENT_THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return Figures(
        p50=statistics.median(latencies) * 1000,
        p95=p95 * 1000,
        rps=len(latencies) / elapsed,
        size=size,
        hit_rate=hits / len(latencies),
    )


def warm(port: int, paths: list[str]) -> None:
    """Request ``paths`` until a whole round is served from the cache (each worker has
    its own), at most five rounds (all five with the cache off)."""
    for _round in range(5):
        if drive(port, paths, 0, rounds=2).hit_rate == 1:
            return


@dataclass
class Sales:
    sold: int = 0
    sold_out: int = 0  # sales that took the last unit
    refused: int = 0  # nothing left to take


def checkouts(
    app, product_ids: list[int], stop: threading.Event, sales: Sales, *, sweeping: bool = False
) -> None:
    """Every 100 ms take one unit of a random listing of ``product_ids`` and commit
    (``sweeping``: and invalidate every cached page, as one global generation did)."""
    rng = random.Random(7)
    due = time.monotonic()
    while not stop.is_set():
        product_id = rng.choice(product_ids)
        with app.app_context():
            begin_write_transaction()
            try:
                stock.take_stock(db.session, {product_id: 1})
            except stock.OutOfStock:
                db.session.rollback()
                sales.refused += 1
            else:
                sales.sold_out += stock.stock_changes(db.session)[product_id][1] == 0
                if sweeping:
                    pagecache.bump_catalog(db.session)
                db.session.commit()
                sales.sold += 1
        due += CHECKOUT_EVERY
        stop.wait(max(0.0, due - time.monotonic()))


def bench_pages(products: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as instance:
        database = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
        env = {
            "INSTANCE_PATH": instance,
            "DATABASE_URL": database,
            "SECRET_KEY": "b" * 40,
            "SEARCH_INDEX_DIR": f"{instance}/search",
            "MEDIA_DIR": f"{instance}/media",
        }
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database,
                "INSTANCE_PATH": instance,
                "MEDIA_DIR": env["MEDIA_DIR"],
                "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"],
                "SECRET_KEY": env["SECRET_KEY"],
                # The sales' re-indexing waits in the outbox (no search index is built here).
                "OUTBOX_HANDLE_AFTER_COMMIT": False,
            }
        )
        started = time.perf_counter()
        product_ids, top = seed(app, products)
        print(f"\n{products:,} products seeded in {time.perf_counter() - started:.1f} s")
        rng = random.Random(1)
        sample = rng.sample(product_ids, min(500, len(product_ids)))
        category_paths = [f"/danh-muc/{top}?page={page}" for page in range(1, 6)]
        shown = _listed(app, category_paths)  # the listings of those five pages
        results = {}
        sales = {"checkouts": Sales(), "sweeping": Sales()}
        for cache_seconds in ("300", "0"):
            port = free_port()
            server = serve("wsgi:app", port, {**env, "PAGE_CACHE_SECONDS": cache_seconds})
            try:
                # Take the slugs from the redirects of the short addresses, then warm up.
                product_paths = [_canonical(port, f"/san-pham/{pid}") for pid in sample[:100]]
                warm(port, category_paths + product_paths)
                results[cache_seconds] = (
                    drive(port, category_paths, seconds),
                    drive(port, product_paths, seconds),
                )
                if cache_seconds != "0":
                    shown_paths = [_canonical(port, f"/san-pham/{pid}") for pid in shown]
                    mix = [path for pair in zip(itertools.cycle(category_paths), shown_paths,
                                                strict=False) for path in pair]  # fmt: skip
                    warm(port, mix)
                    results["mix"] = drive(port, mix, seconds)
                    for key, sweeping in (("checkouts", False), ("sweeping", True)):
                        warm(port, mix)
                        stop = threading.Event()
                        seller = threading.Thread(
                            target=checkouts,
                            args=(app, shown, stop, sales[key]),
                            kwargs={"sweeping": sweeping},
                        )
                        seller.start()
                        try:
                            results[key] = drive(port, mix, seconds)
                        finally:
                            stop.set()
                            seller.join()
            finally:
                server.terminate()
                server.wait()
        for index, name in enumerate(("category page", "product page")):
            cached, uncached = results["300"][index], results["0"][index]
            ceiling_port = free_port()
            ceiling = serve(
                "bench.ceiling_app:app", ceiling_port, {"CEILING_BYTES": str(cached.size)}
            )
            try:
                drive(ceiling_port, ["/"], 1)
                bare = drive(ceiling_port, ["/"], seconds)
            finally:
                ceiling.terminate()
                ceiling.wait()
            print(f"  {name} ({cached.size / 1024:.1f} KB): ceiling {bare.rps:.0f} req/s")
            for label, figures in (("cached", cached), ("uncached", uncached)):
                print(
                    f"    {label:9} p50 {figures.p50:6.1f} ms  p95 {figures.p95:6.1f} ms  "
                    f"{figures.rps:6.0f} req/s  ({figures.rps / bare.rps:.0%} of the ceiling, "
                    f"{figures.hit_rate:.0%} cache hits)"
                )
        print(
            f"  category pages 1-5 and the product pages of their {len(shown)} listings, "
            "half and half, cache on:"
        )
        runs = (
            ("no checkouts", "mix"),
            ("a checkout every 100 ms", "checkouts"),
            ("… each emptying the cache", "sweeping"),
        )
        for label, key in runs:
            figures = results[key]
            sold = ""
            if key in sales:
                sold = f"  ({sales[key].sold} sales, {sales[key].sold_out} took the last unit)"
            print(
                f"    {label:26} cache hits {figures.hit_rate:6.1%}  {figures.rps:5.0f} req/s  "
                f"p50 {figures.p50:5.1f} ms  p95 {figures.p95:5.1f} ms{sold}"
            )
        print("    (the last run is the old behaviour: one generation for the whole catalog)")


def _listed(app, paths: list[str]) -> list[int]:
    """The ids of the listings the category pages at ``paths`` show, in order."""
    ids = []
    with app.test_request_context():
        for path in paths:
            slug, page = path.removeprefix("/danh-muc/").split("?page=")
            category = queries.public_category(slug)
            listed = queries.products_in_category(
                category, sort=queries.Sort.NEWEST, page=int(page), per_page=CATEGORY_PAGE_SIZE
            )
            ids.extend(product.id for product in listed.items)
        db.session.remove()
    return ids


def _canonical(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheader("Location") or path


def bench_upload() -> None:
    """Process one 12-megapixel JPEG (4000×3000) into the 1200/600/200 px WebP set."""
    picture = PILImage.effect_noise((4000, 3000), 40).convert("RGB")
    overlay = PILImage.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    picture = PILImage.blend(picture, overlay, 0.6)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    del picture, overlay
    app = create_app({"SECRET_KEY": "b" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        media.process_image(data)  # warm up the codecs
        timings = []
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(5):
            started = time.perf_counter()
            media.process_image(data)
            timings.append((time.perf_counter() - started) * 1000)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"\n12 MP JPEG ({len(data) / 1e6:.1f} MB) → WebP 1200/600/200: "
        f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms; "
        f"peak RSS grew {max(0, after - before) / 1024:.0f} MB (process peak {after / 1024:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--skip-upload", action="store_true")
    args = parser.parse_args()
    print(
        f"gunicorn -w 2 on 127.0.0.1, {CLIENT_THREADS} keep-alive client threads, "
        f"{args.seconds:.0f} s per page"
    )
    for products in args.products:
        bench_pages(products, args.seconds)
    if not args.skip_upload:
        bench_upload()


if __name__ == "__main__":
    main()
