"""A stand-in for postmart.vn or voso.vn on 127.0.0.1, serving the assumed contracts.

    flask sync simulate postmart --port 8081 [--latency-ms 50] [--error-rate 0.2]
        [--rate-429 0.1] [--rate-limit 200] [--applied-then-timeout 0.05] [--seed 1]

Faults are drawn per write request from one seeded generator: a 5xx before anything is
applied (``error_rate``), a 429 with Retry-After (``rate_429``, and whenever more than
``rate_limit`` requests arrive in one second), or the write applied and then no answer
until the client gives up (``applied_then_timeout``). ``GET /_sim/state`` tells what the
channel holds; a *duplicate* is a second creation for a reference it already holds,
which a correct client never causes. The state lives in memory, for the demo and tests.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from flask import Flask, Response, jsonify, request
from markupsafe import escape

CATEGORIES = {
    "postmart": [("pm-1", "Đặc sản vùng miền"), ("pm-101", "Thủy hải sản khô"),
                 ("pm-102", "Mật ong, sữa ong chúa"), ("pm-103", "Bánh kẹo, mứt")],
    "voso": [("10", "Đặc sản"), ("11", "Khô, mắm"), ("12", "Mật ong"), ("13", "Quà tặng")],
}  # fmt: skip


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_429: float = 0.0
    rate_limit: int = 0  # requests per second; 0: no limit
    applied_then_timeout: float = 0.0
    hang_seconds: float = 15.0  # how long an "applied, then timed out" answer is held back
    seed: int = 1


@dataclass
class _State:
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)  # by our reference
    # Our reference → the external ids holding it, oldest first: a lookup per request must
    # not scan every listing (at 10 000 listings that scan was most of a request's time).
    by_reference: dict[str, list[str]] = field(default_factory=dict)
    duplicates: int = 0
    requests: int = 0
    window: tuple[int, int] = (0, 0)  # (second, requests in it)


def create_simulator(kind: str, faults: Faults | None = None) -> Flask:
    """The simulator of channel ``kind`` (``postmart`` or ``voso``) as a WSGI app."""
    if kind not in CATEGORIES:
        raise ValueError(f"no simulator for {kind!r}")
    faults = faults or Faults()
    app = Flask(f"simulator-{kind}")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    state, lock = _State(), threading.Lock()
    rng = random.Random(faults.seed)  # noqa: S311 - faults, not secrets
    ids = itertools.count(100_001)
    known_categories = {category_id for category_id, _name in CATEGORIES[kind]}

    def draw() -> float:
        with lock:
            return rng.random()

    def over_rate_limit() -> bool:
        if not faults.rate_limit:
            return False
        second = int(time.monotonic())
        with lock:
            start, count = state.window
            count = count + 1 if start == second else 1
            state.window = (second, count)
        return count > faults.rate_limit

    def retry_after(seconds: int) -> str:
        # postmart says seconds; voso an HTTP date (docs/channels).
        return (
            str(seconds) if kind == "postmart" else formatdate(time.time() + seconds, usegmt=True)
        )

    def error(status: int, code: str, message: str, **extra: Any) -> Response:
        if kind == "postmart":
            body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
        else:
            body = {"status": "error", "error_code": code, "msg": message, **extra}
        response = jsonify(body)
        response.status_code = status
        return response

    @app.before_request
    def count_and_check() -> Response | None:
        if request.path.startswith("/sp/"):
            return None  # a shopper's page, not the API: neither counted nor checked
        with lock:
            state.requests += 1
        if request.path.startswith("/_sim") or request.path == "/":
            return None
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if kind == "postmart" and not request.headers.get("Authorization", "").startswith(
            "Bearer "
        ):
            return error(401, "unauthorized", "missing API key")
        if kind == "voso" and not request.headers.get("X-Voso-Signature"):
            return error(401, "AUTH_FAILED", "missing signature")
        if over_rate_limit():
            response = error(429, "rate_limited", "too many requests")
            response.headers["Retry-After"] = retry_after(1)
            return response
        if request.method != "GET":
            roll = draw()
            if roll < faults.error_rate:
                return error(503, "unavailable", "try again later")
            if roll < faults.error_rate + faults.rate_429:
                response = error(429, "rate_limited", "slow down")
                response.headers["Retry-After"] = retry_after(1)
                return response
        return None

    def maybe_hang() -> None:
        if faults.applied_then_timeout and draw() < faults.applied_then_timeout:
            time.sleep(faults.hang_seconds)  # applied: the answer arrives too late

    def create(reference: str, fields: dict[str, Any]) -> dict[str, Any]:
        with lock:
            held = state.by_reference.setdefault(reference, [])
            if held:
                state.duplicates += 1
            external_id = str(next(ids))
            item = {"reference": reference, "external_id": external_id, **fields}
            # A duplicate keeps its own row, as a marketplace without unique SKUs would.
            state.listings[external_id] = item
            held.append(external_id)
        return item

    def remove(external_id: str) -> dict[str, Any] | None:
        with lock:
            item = state.listings.pop(external_id, None)
            if item is not None:
                held = state.by_reference[item["reference"]]
                held.remove(external_id)
                if not held:
                    del state.by_reference[item["reference"]]
        return item

    def find(reference: str) -> dict[str, Any] | None:
        with lock:
            held = state.by_reference.get(reference)
            return state.listings[held[0]] if held else None

    def public(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "url": f"{request.host_url}sp/{item['external_id']}"}

    # -- postmart: PUT by seller SKU creates or updates ---------------------------------

    if kind == "postmart":

        @app.put("/products/<sku>")
        def pm_upsert(sku: str) -> Any:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or body.get("seller_sku") != sku:
                return error(400, "invalid_body", "seller_sku must match the path")
            missing = [n for n in ("name", "price", "category_id", "images") if not body.get(n)]
            if missing:
                return error(422, "invalid_field", "required", fields=dict.fromkeys(missing))
            if body["category_id"] not in known_categories:
                return error(422, "invalid_field", f"Danh mục {body['category_id']} không tồn tại",
                             fields={"category_id": "unknown"})  # fmt: skip
            existing = find(sku)
            fields = {k: v for k, v in body.items() if k != "seller_sku"}
            if existing is None:
                item, status = create(sku, fields), 201
            else:
                with lock:
                    existing.update(fields)
                item, status = existing, 200
            maybe_hang()
            return jsonify({"product_id": item["external_id"], "seller_sku": sku,
                            "status": "active", "url": public(item)["url"]}), status  # fmt: skip

        @app.get("/products/<sku>")
        def pm_get(sku: str) -> Any:
            item = find(sku)
            return jsonify(public(item)) if item else error(404, "not_found", "no such product")

        @app.delete("/products/<sku>")
        def pm_delete(sku: str) -> Any:
            item = find(sku)
            if item is None:
                return error(404, "not_found", "no such product")
            remove(item["external_id"])
            return Response(status=204)

        @app.get("/products")
        def pm_list() -> Any:
            page, per_page = int(request.args.get("page", 1)), 100
            with lock:
                items = sorted(state.listings.values(), key=lambda i: int(i["external_id"]))
            chunk = items[(page - 1) * per_page : page * per_page]
            return jsonify({"items": [public(i) for i in chunk], "page": page,
                            "total": len(items)})  # fmt: skip

        @app.get("/categories")
        def pm_categories() -> Any:
            return jsonify({"categories": [{"id": i, "name": n, "parent_id": None}
                                           for i, n in CATEGORIES[kind]]})  # fmt: skip

    # -- voso: POST creates (no unique SKU), PATCH/DELETE by voso's own id ----------------

    else:

        def ok(data: Any, status: int = 200) -> Any:
            return jsonify({"status": "ok", "data": data}), status

        @app.post("/v2/items")
        def voso_create() -> Any:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not body.get("sku"):
                return error(400, "INVALID_FIELD", "sku is required")
            missing = [n for n in ("title", "content", "cat_id", "image_urls") if not body.get(n)]
            if missing:
                # As voso's old API did: an error in a 200 body.
                return error(200, "INVALID_FIELD", f"required: {', '.join(missing)}")
            if str(body["cat_id"]) not in known_categories:
                return error(200, "INVALID_FIELD", f"Ngành hàng {body['cat_id']} không tồn tại")
            item = create(body["sku"], {k: v for k, v in body.items() if k != "sku"})
            maybe_hang()
            return ok({"item_id": item["external_id"], "sku": body["sku"],
                       "link": public(item)["url"]}, 201)  # fmt: skip

        @app.patch("/v2/items/<item_id>")
        def voso_update(item_id: str) -> Any:
            body = request.get_json(silent=True)
            with lock:
                item = state.listings.get(item_id)
                if item is None:
                    return error(404, "NOT_FOUND", "no such item")
                if isinstance(body, dict):
                    item.update({k: v for k, v in body.items() if k != "sku"})
            maybe_hang()
            return ok(public(item))

        @app.delete("/v2/items/<item_id>")
        def voso_delete(item_id: str) -> Any:
            item = remove(item_id)
            return ok({}) if item else error(404, "NOT_FOUND", "no such item")

        @app.get("/v2/items")
        def voso_list() -> Any:
            if sku := request.args.get("sku"):
                with lock:
                    found = [state.listings[e] for e in state.by_reference.get(sku, [])]
                return ok([public(i) for i in found])
            with lock:
                items = sorted(state.listings.values(), key=lambda i: int(i["external_id"]))
            page, per_page = int(request.args.get("page", 1)), 100
            chunk = items[(page - 1) * per_page : page * per_page]
            more = page * per_page < len(items)
            return jsonify({"status": "ok", "data": [public(i) for i in chunk],
                            "next_page": page + 1 if more else None})  # fmt: skip

        @app.get("/v2/categories")
        def voso_categories() -> Any:
            return ok([{"cat_id": i, "cat_name": n} for i, n in CATEGORIES[kind]])

    # -- what the channel holds, for tests and for people ---------------------------------

    def snapshot() -> dict[str, Any]:
        with lock:
            listings = sorted(state.listings.values(), key=lambda i: int(i["external_id"]))
            return {
                "listings": [dict(item) for item in listings],
                "categories": [{"id": i, "name": n} for i, n in CATEGORIES[kind]],
                "duplicates": state.duplicates,
                "requests": state.requests,
            }

    @app.get("/_sim/state")
    def sim_state() -> Any:
        return jsonify(snapshot())

    @app.get("/")
    def sim_page() -> Any:
        data = snapshot()
        rows = "".join(
            f"<tr><td>{escape(i['reference'])}</td><td>{escape(i['external_id'])}</td>"
            f"<td>{escape(str(i.get('name') or i.get('title')))}</td>"
            f"<td>{escape(str(i.get('price') or i.get('sale_price')))}</td></tr>"
            for i in data["listings"]
        )
        return Response(
            f"<!doctype html><meta charset=utf-8><title>{kind} simulator</title>"
            f"<h1>{kind} simulator</h1><p>{len(data['listings'])} listings, "
            f"{data['duplicates']} duplicates, {data['requests']} requests</p>"
            f"<table><tr><th>reference<th>id<th>name<th>price</tr>{rows}</table>",
            mimetype="text/html",
        )

    @app.get("/sp/<external_id>")
    def shopper_page(external_id: str) -> Any:
        """The listing as the channel's shoppers see it: where our "live" links lead."""
        with lock:
            item = dict(state.listings.get(external_id) or {})
        if not item:
            return Response("<!doctype html><meta charset=utf-8><h1>404</h1>", 404)
        name = escape(str(item.get("name") or item.get("title") or ""))
        price = item.get("price") or item.get("sale_price") or 0
        pictures = item.get("images") or item.get("image_urls") or []
        origin = str(item.get("source_url") or item.get("origin_url") or "")
        return Response(
            f"<!doctype html><meta charset=utf-8><title>{name} · {kind}</title>"
            f"<p>{kind} simulator</p><h1>{name}</h1>"
            f"<p>{int(price):,} ₫".replace(",", ".")
            + "</p>"
            + "".join(f'<img src="{escape(str(url))}" alt="" width="300">' for url in pictures[:1])
            + f"<p>{escape(str(item.get('brand') or item.get('brand_name') or ''))}</p>"
            + (f'<p><a href="{escape(origin)}">{escape(origin)}</a></p>' if origin else ""),
            mimetype="text/html",
        )

    return app
