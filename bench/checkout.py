"""200 concurrent shoppers checking out on PostgreSQL under gunicorn: checkouts/s, p95, oversold.

    .venv/bin/python bench/checkout.py                      # PostgreSQL bench_checkout
    .venv/bin/python bench/checkout.py --workers 4 --worker-class sync
    .venv/bin/python bench/checkout.py --database-url sqlite:////tmp/bench_checkout.db

The database named by ``--database-url`` is dropped and created again (PostgreSQL: the
database; SQLite: the file), so its name must start with "bench". Bulk inserts seed
``--shops`` approved shops with plenty of stock on each listing, ``--hot`` hot listings
of ``--hot-stock`` units, and ``--shoppers`` accounts sharing one argon2 hash made at the
app's own settings. Gunicorn serves ``wsgi:app`` on 127.0.0.1 (gthread workers by
default: a sync worker serves one request at a time, so 200 shoppers queue behind
``--workers`` requests whose database waits leave the CPU idle; threads overlap them),
sending its order mails to an SMTP sink in this process, as production does. Each
shopper logs in once over HTTP; then, in each of ``--rounds`` rounds, the hot listings
get their units back, every shopper fills the cart (1–3 lines, one of 1–3 units on a hot
listing for ``--hot-share`` of them) and loads the checkout form, and all of them POST
it at the same moment (a barrier), each on a fresh connection. Only those POSTs are timed.

It prints each round's checkouts per second (placed checkouts over the time from the
barrier to the last answer), p50/p95/max latency, placed versus sold-out answers (303
to /cart), the app's CPU time per POST (gunicorn's workers, mail threads included) and,
on PostgreSQL, how many backends wait for a row lock meanwhile; then errors (5xx, the
app's logged errors), one checkout's latency alone, the mails the sink got, and what the
database holds: checkouts, orders, and per listing whether units sold (order lines) +
stock left == units supplied, "oversold units" (sold beyond what was supplied), listings
below 0, and PostgreSQL's deadlock counter. Figures only: nothing here asserts. Needs
the dev extras (``make test`` installs them).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.handlers import Sink  # noqa: E402
from sqlalchemy import delete, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.accounts.passwords import hash_password  # noqa: E402
from marketplace.cart.models import CartItem  # noqa: E402
from marketplace.catalog import services as catalog  # noqa: E402
from marketplace.catalog.models import Category, Product  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.orders.models import Checkout, Order, OrderLine  # noqa: E402
from marketplace.search import services as search  # noqa: E402
from marketplace.shops import places  # noqa: E402
from marketplace.shops.models import Shop  # noqa: E402
from tests.conftest import csrf_token_from, free_port  # noqa: E402
from tests.factories import DEFAULT_PASSWORD as PASSWORD  # noqa: E402

SECRET_KEY = "bench-checkout-" + "k" * 40
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_checkout"
PLENTY = 1_000_000  # units of each ordinary listing: never runs out
PREPARE_THREADS = 16
SETUP_ERRORS: list[str] = []  # answers ≠ 2xx/3xx while logging in and filling carts
TOKEN_RE = re.compile(r'name="token" type="hidden" value="([^"]+)"')
CA_MAU = places.default_province_code()
COMMUNE = places.communes(CA_MAU)[1].code


# -- the database ------------------------------------------------------------------------


def recreate_database(url_string: str, scratch: str) -> str:
    """Drop and create the bench's database (or SQLite file); return the URL to use."""
    url = make_url(url_string)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or f"{scratch}/bench_checkout.db")
        if not path.name.startswith("bench"):
            sys.exit(f"refusing to delete {path}: the file's name must start with 'bench'")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = url.database or ""
    if not name.startswith("bench"):
        sys.exit(f"refusing to drop the database {name!r}: its name must start with 'bench'")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return url.render_as_string(hide_password=False)


@dataclass
class Catalog:
    hot: list[int]
    plenty: list[int]
    shoppers: list[str]
    supplied: dict[int, int]  # product id → every unit ever put on sale (initial + restocks)


def seed(app, args: argparse.Namespace) -> Catalog:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(args.seed)
    with app.app_context():
        db.create_all()
        catalog.ensure_default_categories()
        leaf = db.session.scalar(select(Category).where(Category.parent_id.is_not(None)))
        user = {"phone": "+84912345678", "created_at": now, "updated_at": now}
        db.session.execute(
            insert(User),
            [
                {**user, "email": f"seller{i}@example.com", "password_hash": "x",
                 "full_name": f"Người bán {i}", "role": "seller", "session_token": f"s{i}"}
                for i in range(args.shops)
            ],
        )  # fmt: skip
        owners = list(db.session.scalars(select(User.id).order_by(User.id)))
        commune = places.communes(CA_MAU)[0].code
        db.session.execute(
            insert(Shop),
            [
                {"owner_id": owner, "name": f"Gian hàng {i}", "slug": f"gian-hang-{i}",
                 "description": "", "phone": "+84912345678", "street": "Ấp 1",
                 "province_code": CA_MAU, "commune_code": commune,
                 "business_type": "household", "tax_code": "2000123453",
                 "rules_version": "2026-01", "rules_accepted_at": now, "status": "approved",
                 "trusted": True, "created_at": now, "updated_at": now}
                for i, owner in enumerate(owners)
            ],
        )  # fmt: skip
        shop_ids = list(db.session.scalars(select(Shop.id).order_by(Shop.id)))
        rows = []
        count = args.shops * args.listings_per_shop
        for index in range(count):
            hot = index < args.hot
            name = f"{'Tôm khô đặc biệt' if hot else 'Khô cá lóc'} {index}"
            rows.append(
                {"shop_id": shop_ids[index % len(shop_ids)], "category_id": leaf.id,
                 "root_category_id": leaf.parent_id, "name": name, "slug": f"san-pham-{index}",
                 "description_md": name, "description_html": f"<p>{name}</p>",
                 "price_vnd": rng.randrange(20, 500) * 1000,
                 "stock": args.hot_stock if hot else PLENTY, "unit": "kg", "origin": "Cà Mau",
                 "status": "published", "published_at": now, "created_at": now,
                 "updated_at": now}
            )  # fmt: skip
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(Product), rows[start : start + 2000])
        ids = list(db.session.scalars(select(Product.id).order_by(Product.id)))
        # One hash at the app's real argon2 settings: log-ins verify it without a rehash.
        password_hash = hash_password(PASSWORD)
        emails = [f"shopper{i}@example.com" for i in range(args.shoppers)]
        db.session.execute(
            insert(User),
            [
                {**user, "email": email, "password_hash": password_hash,
                 "full_name": f"Khách hàng {i}", "role": "shopper", "session_token": f"b{i}"}
                for i, email in enumerate(emails)
            ],
        )  # fmt: skip
        db.session.commit()
        search.rebuild_index()  # as `flask search ensure` would, before the workers start
        supplied = dict(db.session.execute(select(Product.id, Product.stock)).all())
        db.session.remove()
        db.engine.dispose()
    return Catalog(ids[: args.hot], ids[args.hot :], emails, supplied)


def restock_hot(app, stock: Catalog, units: int) -> None:
    """Put every hot listing back to ``units`` (counted as supplied), and empty the carts."""
    with app.app_context():
        for product_id in stock.hot:
            left = db.session.scalar(select(Product.stock).where(Product.id == product_id))
            db.session.execute(update(Product).where(Product.id == product_id).values(stock=units))
            stock.supplied[product_id] += units - left
        db.session.execute(delete(CartItem))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def placed_orders(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Order.id))) or 0
        db.session.remove()
    return count


def check_stock(app, stock: Catalog) -> dict[str, int]:
    with app.app_context():
        sold = dict(
            db.session.execute(
                select(OrderLine.product_id, func.sum(OrderLine.quantity)).group_by(
                    OrderLine.product_id
                )
            ).all()
        )
        left = dict(db.session.execute(select(Product.id, Product.stock)).all())
        figures = {
            "checkouts": db.session.scalar(select(func.count(Checkout.id))) or 0,
            "orders": db.session.scalar(select(func.count(Order.id))) or 0,
            "order lines": db.session.scalar(select(func.count(OrderLine.id))) or 0,
            "units sold": sum(sold.values()),
            "hot units sold": sum(sold.get(i, 0) for i in stock.hot),
            "hot units supplied": sum(stock.supplied[i] for i in stock.hot),
            "oversold units": sum(
                max(0, sold.get(i, 0) - supplied) for i, supplied in stock.supplied.items()
            ),
            "listings where sold + left != supplied": sum(
                1 for i, supplied in stock.supplied.items() if sold.get(i, 0) + left[i] != supplied
            ),
            "listings below 0": sum(1 for value in left.values() if value < 0),
        }
        if db.engine.dialect.name == "postgresql":
            row = db.session.execute(
                text(
                    "SELECT deadlocks, xact_rollback FROM pg_stat_database"
                    " WHERE datname = current_database()"
                )
            ).one()
            figures["deadlocks (pg_stat_database)"] = row.deadlocks
        db.session.remove()
        db.engine.dispose()
    return figures


# -- the server ----------------------------------------------------------------------------


class CountingSink(Sink):
    """The SMTP server the app sends its order mails to (production needs MAIL_SERVER)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


def serve(args: argparse.Namespace, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers),
               "-k", args.worker_class, "-b", f"127.0.0.1:{port}", "--backlog", "2048"]  # fmt: skip
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "wsgi:app"], cwd=ROOT, env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code < 500:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn did not start; see {log}")


# -- the shoppers --------------------------------------------------------------------------


@dataclass
class Shopper:
    email: str
    http: requests.Session = field(default_factory=requests.Session)
    form: dict[str, str] | None = None
    logged_in: bool = False


@dataclass
class Answer:
    status: int
    location: str
    started: float
    ended: float
    body: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def placed(self) -> bool:
        return self.status == 303 and "/account/orders" in self.location

    @property
    def sold_out(self) -> bool:
        return self.status == 303 and self.location.endswith("/cart")


def log_in(base: str, shopper: Shopper) -> None:
    page = shopper.http.get(f"{base}/account/login", timeout=60)
    answer = shopper.http.post(
        f"{base}/account/login",
        data={
            "email": shopper.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.text),
        },
        allow_redirects=False,
        timeout=60,
    )
    shopper.logged_in = answer.status_code == 302
    if not shopper.logged_in:
        SETUP_ERRORS.append(f"log-in of {shopper.email} answered {answer.status_code}")


def fill_cart(base: str, shopper: Shopper, stock: Catalog, rng: random.Random, share: float):
    lines = rng.randint(1, 3)
    wanted: list[tuple[int, int]] = []
    if rng.random() < share:
        wanted.append((rng.choice(stock.hot), rng.randint(1, 3)))
    wanted += [(product_id, rng.randint(1, 3)) for product_id in
               rng.sample(stock.plenty, lines - len(wanted))]  # fmt: skip
    for product_id, quantity in wanted:
        answer = shopper.http.post(
            f"{base}/cart/add/{product_id}",
            data={"quantity": str(quantity)},
            allow_redirects=False,
            timeout=60,
        )
        if answer.status_code >= 400:
            SETUP_ERRORS.append(f"adding {product_id} answered {answer.status_code}")
    page = shopper.http.get(f"{base}/checkout", allow_redirects=False, timeout=60)
    token = TOKEN_RE.search(page.text) if page.status_code == 200 else None
    if token is None:
        shopper.form = None  # sits this round out
        SETUP_ERRORS.append(f"GET /checkout answered {page.status_code}")
        return
    shopper.form = {
        "csrf_token": csrf_token_from(page.text), "token": token.group(1),
        "name": "Trần Văn Bình", "phone": "0987 654 321", "street": "12 Lý Thường Kiệt",
        "province_code": str(CA_MAU), "commune_code": str(COMMUNE), "note": "",
        "payment_method": "cod",
    }  # fmt: skip
    # The timed POST opens a connection of its own: one kept since, idle for the rest of
    # the preparation, may be closed by the server (keep-alive timeout) just as it is used.
    shopper.http.close()


def check_out_together(base: str, shoppers: list[Shopper]) -> tuple[float, list[Answer]]:
    """Every shopper POSTs the checkout at once; return the barrier's moment and answers."""
    ready = [shopper for shopper in shoppers if shopper.form]
    barrier = threading.Barrier(len(ready) + 1)
    answers: list[Answer | None] = [None] * len(ready)

    def buy(index: int, shopper: Shopper) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            response = shopper.http.post(
                f"{base}/checkout", data=shopper.form, allow_redirects=False, timeout=120
            )
        except requests.RequestException as error:
            answers[index] = Answer(0, "", started, time.perf_counter(), repr(error))
            return
        ended = time.perf_counter()
        body = response.text[:300] if response.status_code != 303 else ""
        answers[index] = Answer(
            response.status_code, response.headers.get("Location", ""), started, ended, body
        )

    threads = [threading.Thread(target=buy, args=pair) for pair in enumerate(ready)]
    for thread in threads:
        thread.start()
    barrier.wait()
    released = time.perf_counter()
    for thread in threads:
        thread.join()
    return released, [answer for answer in answers if answer is not None]


class LockWatch:
    """Sample PostgreSQL's backends of the bench database while the checkouts run:
    how many are running a statement, and how many of those wait for a row lock."""

    QUERY = text(
        "SELECT count(*) FILTER (WHERE state = 'active'),"
        " count(*) FILTER (WHERE wait_event_type = 'Lock')"
        " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def __init__(self, database_url: str) -> None:
        self.postgresql = make_url(database_url).get_backend_name() == "postgresql"
        self.engine = sa.create_engine(database_url) if self.postgresql else None
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()

    def __enter__(self) -> LockWatch:
        if self.engine is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.engine is not None
        with self.engine.connect() as connection:
            while not self._stop.wait(0.02):
                active, waiting = connection.execute(self.QUERY).one()
                connection.rollback()
                self.samples.append((active, waiting))

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self.engine is not None:
            self._thread.join()
            self.engine.dispose()

    def summary(self) -> str:
        if not self.samples:
            return ""
        active = [a for a, _w in self.samples]
        waiting = [w for _a, w in self.samples]
        return (
            f"; PostgreSQL backends running a statement: mean {statistics.mean(active):.1f}, "
            f"waiting for a lock: mean {statistics.mean(waiting):.1f}, max {max(waiting)}"
        )


def cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time used so far by gunicorn's workers (every thread, mail senders included)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(len(ordered) * share) - 1))]


def describe(
    label: str, released: float, answers: list[Answer], locks: str = ""
) -> tuple[int, float]:
    placed = sum(answer.placed for answer in answers)
    sold_out = sum(answer.sold_out for answer in answers)
    window = max(answer.ended for answer in answers) - released
    ms = [answer.seconds * 1000 for answer in answers]
    print(
        f"  {label}: {len(answers)} POSTs, {placed} placed, {sold_out} sold out, "
        f"{len(answers) - placed - sold_out} other; {placed / window:6.1f} checkouts/s over "
        f"{window:.2f} s; p50 {statistics.median(ms):5.0f} ms, p95 {percentile(ms, 0.95):5.0f} "
        f"ms, max {max(ms):5.0f} ms{locks}",
        flush=True,
    )
    return placed, window


def app_errors(log: Path) -> list[str]:
    """Lines of gunicorn's log about errors (the app logs tracebacks at ERROR)."""
    wanted = ("Traceback", "ERROR", "deadlock", "could not serialize", "WORKER TIMEOUT")
    return [line for line in log.read_text(errors="replace").splitlines()
            if any(word in line for word in wanted)]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hot", type=int, default=3, help="hot listings")
    parser.add_argument("--hot-stock", type=int, default=50, help="units of each, per round")
    parser.add_argument(
        "--hot-share", type=float, default=0.5, help="share of the carts with a hot line"
    )
    parser.add_argument("--shops", type=int, default=40)
    parser.add_argument("--listings-per-shop", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE),
        help=f"dropped and created again; default {DEFAULT_DATABASE}",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database_url = recreate_database(args.database_url, scratch)
        sink = CountingSink()
        smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
        smtp.start()
        env = {"DATABASE_URL": database_url, "INSTANCE_PATH": f"{scratch}/instance",
               "SEARCH_INDEX_DIR": f"{scratch}/search", "MEDIA_DIR": f"{scratch}/media",
               "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING", "MAIL_SERVER": "127.0.0.1",
               "MAIL_PORT": str(smtp.port), "MAIL_USE_TLS": "0"}  # fmt: skip
        app = create_app(
            {"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": database_url,
             "INSTANCE_PATH": env["INSTANCE_PATH"], "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"],
             "MEDIA_DIR": env["MEDIA_DIR"], "LOG_LEVEL": "WARNING"}
        )  # fmt: skip
        load = os.getloadavg()[0]
        started = time.perf_counter()
        stock = seed(app, args)
        server_kind = f"gunicorn -w {args.workers} -k {args.worker_class}" + (
            f" --threads {args.threads}" if args.worker_class == "gthread" else ""
        )
        print(
            f"{make_url(database_url).get_backend_name()}, {server_kind}; {args.shoppers} "
            f"shoppers, {args.shops} shops, {len(stock.plenty)} listings with plenty and "
            f"{args.hot} hot ones with {args.hot_stock} units each round; seeded in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(scratch) / "gunicorn.log"
        server = serve(args, port, env, log)
        print(f"  gunicorn up; its log: {log}", flush=True)
        rng = random.Random(args.seed)
        shoppers = [Shopper(email) for email in stock.shoppers]
        answers: list[Answer] = []
        placed_total, window_total, cpu_total = 0, 0.0, 0.0
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(PREPARE_THREADS) as pool:
                list(pool.map(lambda shopper: log_in(base, shopper), shoppers))
            print(f"  {len(shoppers)} log-ins in {time.perf_counter() - started:.1f} s")
            shoppers = [shopper for shopper in shoppers if shopper.logged_in]
            for round_number in range(1, args.rounds + 1):
                restock_hot(app, stock, args.hot_stock)
                seeds = [rng.random() for _ in shoppers]
                with ThreadPoolExecutor(PREPARE_THREADS) as pool:
                    list(pool.map(
                        lambda pair: fill_cart(base, pair[0], stock, random.Random(pair[1]),
                                               args.hot_share),
                        zip(shoppers, seeds, strict=True),
                    ))  # fmt: skip
                cpu = cpu_seconds(server)
                with LockWatch(database_url) as locks:
                    released, these = check_out_together(base, shoppers)
                time.sleep(1)  # the mails of the last checkouts go out meanwhile
                cpu = cpu_seconds(server) - cpu
                placed, window = describe(f"round {round_number}", released, these, locks.summary())
                print(f"    the app's CPU time per POST: {cpu / len(these) * 1000:.0f} ms")
                cpu_total += cpu
                placed_total += placed
                window_total += window
                answers += these
            alone = []  # for scale: one checkout with nothing else going on, ten in a row
            for number, shopper in enumerate(shoppers[:10]):
                fill_cart(base, shopper, stock, random.Random(number), 0.0)
                alone += check_out_together(base, [shopper])[1]
            if alone:
                ms = [answer.seconds * 1000 for answer in alone]
                print(f"  one checkout alone (10 in a row): p50 {statistics.median(ms):.0f} ms, "
                      f"max {max(ms):.0f} ms")  # fmt: skip
            deadline = time.monotonic() + 60  # the mails go out from threads, after the answer
            while sink.count < 2 * placed_orders(app) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
            smtp.stop()
        ms = [answer.seconds * 1000 for answer in answers]
        errors = [answer for answer in answers if answer.status >= 500 or answer.status == 0]
        others = [a for a in answers if not (a.placed or a.sold_out) and a not in errors]
        print(
            f"all rounds: {placed_total / window_total:.1f} checkouts/s; p50 "
            f"{statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, max "
            f"{max(ms):.0f} ms; {placed_total} placed, "
            f"{sum(a.sold_out for a in answers)} sold out; the app's CPU time per POST "
            f"{cpu_total / len(answers) * 1000:.0f} ms"
        )
        print(f"errors (5xx or no answer): {len(errors)}; while preparing: {len(SETUP_ERRORS)}")
        for error in SETUP_ERRORS[:5]:
            print(f"  {error}")
        for answer in errors[:5]:
            print(f"  {answer.status} {answer.body[:200]!r}")
        for answer in others[:5]:
            print(f"  other answer: {answer.status} {answer.location} {answer.body[:120]!r}")
        logged = app_errors(log)
        print(f"error lines in the app's log: {len(logged)}")
        for line in logged[:10]:
            print(f"  {line[:200]}")
        if logged:
            kept = Path(tempfile.gettempdir()) / "bench-checkout-gunicorn.log"
            kept.write_text(log.read_text(errors="replace"))
            print(f"  the whole log: {kept}")
        print(f"load average (1 min) at the start {load:.1f}, at the end {os.getloadavg()[0]:.1f}")
        print(f"mails received by the SMTP server: {sink.count} (2 per order)")
        figures = check_stock(app, stock)
        for name, value in figures.items():
            print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
