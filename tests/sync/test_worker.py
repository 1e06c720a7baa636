"""The sync worker against the channel simulators, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select
from sqlalchemy import text as sa_text

from marketplace.catalog import services as catalog
from marketplace.extensions import db
from marketplace.sync import services
from marketplace.sync import worker as worker_module
from marketplace.sync.connectors import PostmartConnector
from marketplace.sync.models import ChannelListing, ListingStatus
from tests.factories import make_image, make_product, make_shop

SECRET = "pm-live-8f3a2c9d7e"


def state(base: str) -> dict:
    return requests.get(f"{base}/_sim/state", timeout=5).json()


def channel_on(app, base: str, kind: str, shop):
    app.config.update(SYNC_RETRY_BASE_SECONDS=0.02, SYNC_HTTP_TIMEOUT=1.0)
    credentials = SECRET if kind == "postmart" else f"camau:{SECRET}"
    channel = services.add_channel(code=kind, name=kind, connector=kind, base_url=base,
                                   credentials=credentials, requests_per_second=200)  # fmt: skip
    services.opt_in(shop, channel)
    db.session.commit()
    services.enable_channel(channel, map_rest="pm-1" if kind == "postmart" else "10")
    db.session.commit()
    return channel


def listing(shop, **fields):
    return make_product(shop=shop, images=[make_image()], weight_grams=500,
                        description_md="Làm thủ công tại U Minh.", **fields)  # fmt: skip


def run_once(app) -> str:
    result = app.test_cli_runner().invoke(args=["sync", "run", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def bindings() -> dict[int, ChannelListing]:
    db.session.rollback()
    return {b.product_id: b for b in db.session.scalars(select(ChannelListing))}


@pytest.mark.parametrize("kind", ["postmart", "voso"])
def test_a_listing_goes_live_then_follows_every_change_then_leaves(app, simulator, kind):
    base = simulator(kind)
    shop = make_shop(name="Mật Ong Hai Lúa")
    honey = listing(shop, name="Mật ong rừng U Minh", price_vnd=150_000)
    channel_on(app, base, kind, shop)

    run_once(app)
    [held] = state(base)["listings"]
    binding = bindings()[honey.id]
    assert held["reference"] == f"cm-{honey.id}"
    assert (held.get("price") or held.get("sale_price")) == 150_000
    assert (binding.status, binding.external_id) == (ListingStatus.LIVE, held["external_id"])

    requests_before = state(base)["requests"]
    run_once(app)  # nothing changed: nothing sent
    assert state(base)["requests"] == requests_before + 1  # the state read itself

    for price in (151_000, 152_000, 153_000):
        catalog.set_price_and_stock(db.session.get(type(honey), honey.id), price_vnd=price,
                                    stock=3)  # fmt: skip
        db.session.commit()
    run_once(app)
    [held] = state(base)["listings"]
    assert (held.get("price") or held.get("sale_price")) == 153_000

    catalog.hide_product(db.session.get(type(honey), honey.id), reason="Báo cáo")
    db.session.commit()
    run_once(app)
    assert state(base)["listings"] == []
    assert bindings()[honey.id].status == ListingStatus.DELISTED
    assert state(base)["duplicates"] == 0


def test_the_simulator_serves_the_page_a_live_link_leads_to(app, simulator):
    base = simulator("postmart")
    shop = make_shop(name="Mật Ong Hai Lúa")
    listing(shop, name="Mật ong rừng U Minh", price_vnd=150_000)
    channel_on(app, base, "postmart", shop)
    run_once(app)
    link = bindings()[next(iter(bindings()))].external_url
    requests_before = state(base)["requests"]

    page = requests.get(link, timeout=5)

    assert page.status_code == 200 and "Mật ong rừng U Minh" in page.text
    assert "150.000 ₫" in page.text
    assert state(base)["requests"] == requests_before + 1  # the state read, not the page


def test_errors_and_429s_are_retried_until_every_listing_is_live_once(app, simulator):
    base = simulator("voso", error_rate=0.3, rate_429=0.2, applied_then_timeout=0.2,
                     hang_seconds=1.5, seed=7)  # fmt: skip
    shop = make_shop()
    products = [listing(shop, name=f"Khô cá {n}") for n in range(12)]
    channel_on(app, base, "voso", shop)

    run_once(app)

    held = state(base)
    assert sorted(item["reference"] for item in held["listings"]) == sorted(
        f"cm-{p.id}" for p in products
    )
    assert held["duplicates"] == 0
    assert {b.status for b in bindings().values()} == {ListingStatus.LIVE}


def test_the_status_counts_listings_and_the_queue(app, simulator):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop)
    channel = channel_on(app, base, "postmart", shop)
    before = json.loads(app.test_cli_runner().invoke(args=["sync", "status", "--json"]).output)

    run_once(app)
    after = json.loads(
        app.test_cli_runner().invoke(args=["sync", "status", channel.code, "--json"]).output
    )

    assert before["queue_depth"] == 1 and before["live"] == 0
    assert set(after) == {"live", "pending", "failed", "delisted", "excluded", "dead",
                          "queue_depth", "oldest_pending_s"}  # fmt: skip
    assert (after["live"], after["queue_depth"]) == (1, 0)


def test_a_failing_channel_never_shows_its_secret_in_the_log(app, simulator, caplog):
    base = simulator("postmart", error_rate=1.0)
    shop = make_shop()
    listing(shop)
    channel_on(app, base, "postmart", shop)
    app.config["SYNC_RETRY_BASE_SECONDS"] = 0.001

    with caplog.at_level("DEBUG"):
        output = run_once(app)

    assert "1 dead letters" in output
    assert "503" in caplog.text
    assert SECRET not in caplog.text and SECRET not in output
    [binding] = bindings().values()
    assert binding.status == ListingStatus.FAILED


@pytest.mark.parametrize("kind", ["postmart", "voso"])
def test_the_reconciler_repairs_what_the_channel_holds(app, simulator, kind):
    base = simulator(kind)
    shop = make_shop()
    kept, changed, removed = (listing(shop, name=f"Khô cá {n}") for n in range(3))
    channel_on(app, base, kind, shop)
    run_once(app)
    held = {i["reference"]: i for i in state(base)["listings"]}
    auth = {"Authorization": "Bearer x"} if kind == "postmart" else {"X-Voso-Signature": "x"}
    # Behind our back: one copy changed, one deleted, one stray copy of ours added.
    if kind == "postmart":
        copy = {k: v for k, v in held[f"cm-{changed.id}"].items()
                if k not in ("reference", "external_id")}  # fmt: skip
        requests.put(f"{base}/products/cm-{changed.id}", headers=auth, timeout=5,
                     json={**copy, "seller_sku": f"cm-{changed.id}", "price": 1_000})  # fmt: skip
        requests.delete(f"{base}/products/cm-{removed.id}", headers=auth, timeout=5)
        requests.put(f"{base}/products/cm-999999", headers=auth, timeout=5, json={
            "seller_sku": "cm-999999", "name": "Lạ", "price": 1, "category_id": "pm-1",
            "images": ["x"]})  # fmt: skip
    else:
        item = held[f"cm-{changed.id}"]["external_id"]
        requests.patch(f"{base}/v2/items/{item}", headers=auth, json={"sale_price": 1_000},
                       timeout=5)  # fmt: skip
        gone = held[f"cm-{removed.id}"]["external_id"]
        requests.delete(f"{base}/v2/items/{gone}", headers=auth, timeout=5)
        requests.post(f"{base}/v2/items", headers=auth, timeout=5, json={
            "sku": "cm-999999", "title": "Lạ", "content": "x", "cat_id": "10",
            "image_urls": ["x"]})  # fmt: skip

    result = app.test_cli_runner().invoke(args=["sync", "reconcile", kind])

    assert result.exit_code == 0, result.output
    assert f"updated cm-{changed.id}" in result.output
    assert f"created cm-{removed.id}" in result.output
    assert "deleted cm-999999" in result.output
    after = {i["reference"]: i for i in state(base)["listings"]}
    assert set(after) == {f"cm-{p.id}" for p in (kept, changed, removed)}
    price = "price" if kind == "postmart" else "sale_price"
    assert after[f"cm-{changed.id}"][price] == held[f"cm-{kept.id}"][price]
    again = app.test_cli_runner().invoke(args=["sync", "reconcile", kind])
    assert "0 repairs" in again.output


def test_every_request_takes_a_slot_of_the_rate_limit_also_vosos_look_up(app, simulator):
    """voso creates with two requests (a look-up by SKU, then the create): each takes a
    slot, so at 5 a second the simulator, which answers 429 above 6, never refuses one."""
    base = simulator("voso", rate_limit=6)
    shop = make_shop()
    for n in range(8):
        listing(shop, name=f"Khô cá {n}")
    channel = channel_on(app, base, "voso", shop)
    channel.requests_per_second = 5
    db.session.commit()

    run_once(app)

    seen = state(base)
    assert len(seen["listings"]) == 8 and seen["duplicates"] == 0
    assert seen["requests"] == 8 * 2 + 1  # look-up and create each, and this state read


def test_a_live_listing_that_can_no_longer_be_sent_is_taken_off_the_channel(app, simulator):
    """Its copy there would keep an old price and stock: removed, and its seller told why."""
    base = simulator("postmart")
    shop = make_shop()
    fish = listing(shop, name="Khô cá lóc")
    channel = channel_on(app, base, "postmart", shop)
    run_once(app)
    assert len(state(base)["listings"]) == 1

    services.set_category_map(channel, {fish.category_id: ""})  # an admin unmaps it
    db.session.commit()
    run_once(app)

    assert state(base)["listings"] == []
    binding = bindings()[fish.id]
    assert (binding.status, binding.external_id) == (ListingStatus.FAILED, None)
    assert binding.details["missing"] == ["category_id"]


def test_on_postgresql_the_sync_worker_commits_without_waiting_for_the_disk(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's durability is set per database, not per process")
    from marketplace.sync import worker

    worker.commit_without_waiting_for_disk()
    worker.commit_without_waiting_for_disk()  # twice: one listener, not two

    db.session.rollback()
    assert db.session.scalar(sa_text("SHOW synchronous_commit")) == "off"


def test_a_create_whose_answer_was_lost_is_withdrawn_too_when_it_can_no_longer_be_sent(
    app, simulator
):
    base = simulator("postmart", applied_then_timeout=1.0, hang_seconds=1.5)
    shop = make_shop()
    fish = listing(shop, name="Khô cá lóc")
    channel = channel_on(app, base, "postmart", shop)
    app.config.update(SYNC_HTTP_TIMEOUT=0.5)
    db.session.commit()
    worker_module.drain_sync()  # the create lands, its answer is lost: the binding pending
    assert len(state(base)["listings"]) == 1
    db.session.rollback()
    services.set_category_map(db.session.get(type(channel), channel.id), {fish.category_id: ""})
    db.session.commit()

    run_once(app)

    assert state(base)["listings"] == []
    assert bindings()[fish.id].status == ListingStatus.FAILED


def test_an_answer_the_worker_cannot_read_ends_as_a_dead_letter(app, simulator, monkeypatch):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop, name="Khô cá lóc")
    channel_on(app, base, "postmart", shop)

    def unreadable(self, payload, external_id):
        raise KeyError("product_id")  # a 200 without the id its contract promises

    monkeypatch.setattr(PostmartConnector, "upsert", unreadable)
    output = run_once(app)  # ends: the message does not come back for ever

    assert "1 dead letters" in output
    [binding] = bindings().values()
    assert (binding.status, binding.details["problem"]) == (ListingStatus.FAILED, "unreachable")


def test_only_a_web_address_from_the_channel_is_kept_as_the_listings_link():
    assert worker_module._link("https://postmart.vn/sp/1") == "https://postmart.vn/sp/1"
    assert worker_module._link("javascript:alert(document.cookie)") is None
    assert worker_module._link("data:text/html,<script>") is None
    assert worker_module._link(None) is None
