"""Two saves of a live shop's name or legal details at the same moment: one change waits
for review, the other save is told to reload (never a server error)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from marketplace.core.models import RevisionStatus
from marketplace.extensions import db
from marketplace.shops import services
from marketplace.shops.models import ShopRevision
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_shop, shop_details
from tests.shops.test_views import shop_form

SAVED_ELSEWHERE = "Gian hàng vừa được lưu ở nơi khác. Vui lòng tải lại trang và thử lại."


def pending_revisions() -> list[ShopRevision]:
    db.session.rollback()
    query = select(ShopRevision).where(ShopRevision.status == RevisionStatus.PENDING)
    return list(db.session.scalars(query))


def test_a_change_staged_meanwhile_is_a_clear_error_not_a_second_waiting_one(app, monkeypatch):
    """The look for a waiting change misses one committed just after (read committed)."""
    shop = make_shop(name="Khô Cá Lóc Út Hiền")
    services.update_shop(shop, shop_details(name="Khô Cá Út Hiền"), author=shop.owner)
    db.session.commit()
    monkeypatch.setattr(services, "pending_shop_revision", lambda shop: None)

    with pytest.raises(services.RevisionConflict, match=re.escape(SAVED_ELSEWHERE)):
        services.update_shop(shop, shop_details(name="Đặc Sản Út Hiền"), author=shop.owner)

    assert [r.content["name"] for r in pending_revisions()] == ["Khô Cá Út Hiền"]


def test_two_saves_of_a_live_shops_name_at_once_stage_one_change(app, monkeypatch):
    """PostgreSQL: two requests, each in its own transaction, both find no waiting change
    before either stages one; the second insert waits for the first to commit, then hits
    the one-waiting-change index."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a save starts after the other ends")
    shop = make_shop(name="Khô Cá Lóc Út Hiền")
    clients = [log_in(app.test_client(), shop.owner) for _ in range(2)]
    tokens = [csrf_token_from(c.get("/seller/shop/edit").get_data(as_text=True)) for c in clients]
    names = ["Khô Cá Út Hiền Cà Mau", "Đặc Sản Út Hiền"]
    forms = [
        shop_form(csrf_token=t, name=n, slug=shop.slug) for t, n in zip(tokens, names, strict=True)
    ]

    both_looked = threading.Barrier(2, timeout=10)
    look = services.pending_shop_revision

    def look_then_wait(shop):
        found = look(shop)
        both_looked.wait()  # neither stages its change before the other has looked
        return found

    monkeypatch.setattr(services, "pending_shop_revision", look_then_wait)
    responses: list = [None, None]

    def save(index: int) -> None:
        try:
            responses[index] = clients[index].post("/seller/shop/edit", data=forms[index])
        except Exception as error:  # the test client re-raises what a request did not catch
            responses[index] = error

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(getattr(response, "status_code", repr(response)) for response in responses)
    assert statuses == [302, 400]
    [refused] = [r for r in responses if r.status_code == 400]
    assert SAVED_ELSEWHERE in refused.get_data(as_text=True)
    [accepted] = [i for i, r in enumerate(responses) if r.status_code == 302]
    assert [r.content["name"] for r in pending_revisions()] == [names[accepted]]
