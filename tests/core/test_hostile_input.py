"""A bounded fuzz: hostile values in every GET parameter and form field of every route.

The crawl walks every rule of the URL map as a visitor, a seller and an admin (path
arguments filled from a small world of real rows), records which query and form keys
the views read, and collects the forms the pages show. Then:

- every GET route gets each hostile value in every known query key at once, and one key
  at a time where the all-at-once request was refused early (an API's first 400);
- every form gets each hostile value in one field at a time, the other fields holding
  sensible values so that the value reaches the service behind the form;
- every POST route no page showed a form for gets the hostile values in the keys it read.

Any 5xx fails, with the request that caused it. Values are sent as raw bytes, so the
invalid UTF-8 of a lone surrogate (``%ED%A0%80``) and ``%ff`` arrive as a browser or a
script could send them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from marketplace.accounts.models import Role
from marketplace.catalog.models import ProductStatus
from marketplace.extensions import db
from marketplace.media.services import derivative_key
from marketplace.moderation import reports
from marketplace.moderation.models import ReportReason
from marketplace.shops.models import ShopStatus
from tests.factories import (
    DEFAULT_PASSWORD,
    leaf_category,
    log_in,
    make_image,
    make_product,
    make_shop,
    make_user,
)

# Percent-encoded as they go on the wire.
HOSTILE = [
    quote("²"),
    quote("①"),
    quote("١٢"),
    "%00",
    "%ED%A0%80",  # a lone surrogate in UTF-8
    "%ff",
    "x" * 10_240,
    "-1",
    "99999999999999999999",
    "0" * 5000 + "1",  # more digits than int() reads from a string
    "-99999999999999999999",
    "1e309",
    quote("150.000,00"),
    quote("http://["),
    quote("' OR 1=1 --"),
]
# What a field holds when it is not the one being fuzzed: values every form accepts.
SENSIBLE = {
    "name": "Khô cá lóc đồng",
    "full_name": "Nguyễn Văn An",
    "price_vnd": "150000",
    "compare_at_price_vnd": "",
    "stock": "5",
    "weight_grams": "500",
    "phone": "0912 345 678",
    "email": "fuzz@example.com",
    "password": DEFAULT_PASSWORD,
    "confirm": DEFAULT_PASSWORD,
    "current_password": DEFAULT_PASSWORD,
    "description": "Làm thủ công tại U Minh.",
    "description_md": "Làm thủ công tại U Minh.",
    "details": "Ảnh chưa rõ.",
    "note": "Đã xem.",
    "street": "Ấp 3",
    "tax_code": "2000123453",
    "origin": "U Minh",
    "traceability_url": "https://example.vn/truy-xuat",
    "accept_rules": "y",
}
# Query keys the search filters read from a plain copy of the arguments (not recorded).
SEARCH_KEYS = ["q", "page", "per_page", "sort", "category", "province", "shop", "ocop",
               "min_price", "max_price", "in_stock", "next", "status"]  # fmt: skip
# Log-out would end the fuzzing client's session for every later request.
SKIPPED_POSTS = {"accounts.logout", "admin.stop_assisting"}


class _RecordingArgs(ImmutableMultiDict):
    """Query and form data that note every key a view asks for."""

    seen: ClassVar[set[str]] = set()

    def get(self, key, default=None, type=None):
        self.seen.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        self.seen.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


@dataclass
class _Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """The POST forms of a page, each field with the value a person would leave in it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._form: _Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            is_post = a.get("method", "get").lower() == "post"
            self._form = _Form(action=a.get("action", "")) if is_post else None
            if self._form is not None:
                self.forms.append(self._form)
        form, name = self._form, a.get("name")
        if form is None:
            return
        if tag == "option" and self._select and a.get("value"):
            form.fields[self._select] = form.fields.get(self._select) or a["value"]
        elif not name:
            return
        elif tag == "input" and a.get("type") != "file":
            checkable = a.get("type") in ("checkbox", "radio")
            if not checkable or name not in form.fields:
                form.fields[name] = (a.get("value") or "y") if checkable else a.get("value", "")
        elif tag == "button" and a.get("value"):
            form.fields.setdefault(name, a["value"])
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            form.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _parse_forms(html: str, page_url: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urlsplit(urljoin(page_url, form.action or page_url)).path
    return parser.forms


@dataclass
class World:
    """Real rows for the path arguments, and the clients of each role."""

    ids: list[int]
    slugs: list[str]
    media_keys: list[str]
    clients: dict[str, Any]
    users: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        """The role's CSRF token (one per session, so read once per log-in)."""
        if role not in self.tokens:
            for page in ("/account/login", "/"):
                html = self.clients[role].get(page).get_data(as_text=True)
                if match := re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html):
                    self.tokens[role] = match.group(1)
                    break
        return self.tokens[role]


@pytest.fixture
def world(app: Flask) -> World:
    app.config.update(RATELIMIT_ENABLED=False, PAGE_CACHE_SECONDS=0)
    app.request_class = type(
        "RecordingRequest", (app.request_class,), {"parameter_storage_class": _RecordingArgs}
    )
    admin = make_user(email="admin@example.com", role=Role.ADMIN)
    seller = make_user(email="seller@example.com")
    image = make_image()
    shop = make_shop(owner=seller, name="Khô Cá Lóc Út Hiền")
    make_shop(name="Mật Ong Hai Lúa", status=ShopStatus.PENDING)
    honey = make_product(shop=shop, name="Mật ong rừng", images=[image])
    make_product(shop=shop, name="Tôm khô", status=ProductStatus.PENDING)
    reports.file_report(honey, reason=ReportReason.COUNTERFEIT, details="Nghi giả", reporter=None)
    db.session.commit()
    clients = {"visitor": app.test_client()}
    for role, user in (("seller", seller), ("admin", admin)):
        clients[role] = log_in(app.test_client(), user)
    return World(
        ids=[1, 2, 3],
        slugs=[shop.slug, honey.slug, leaf_category().slug, "vi", "en", "svg", "png"],
        media_keys=[derivative_key(image.sha256, 200), "public/none.webp"],
        clients=clients,
        users={"seller": seller, "admin": admin},
    )


def _paths(rule: Rule, world: World) -> Iterator[str]:
    """Every URL of ``rule`` with its arguments taken from the world's rows."""
    choices: dict[str, list[str]] = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        kind = type(converter).__name__
        if kind == "AnyConverter":
            choices[argument] = sorted(converter.items)  # type: ignore[attr-defined]
        elif kind == "IdConverter":
            choices[argument] = [str(i) for i in world.ids]
        elif kind == "PathConverter":
            choices[argument] = world.media_keys
        else:
            choices[argument] = world.slugs
    names = list(choices)
    for values in itertools.product(*(choices[name] for name in names)):
        yield rule.build(dict(zip(names, values, strict=True)), append_unknown=False)[1]


def _rules(app: Flask, method: str) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if method in (rule.methods or ()) and rule.endpoint != "static"
    ]


def _fail_on_5xx(response: Any, method: str, url: str, role: str) -> None:
    assert response.status_code < 500, f"{role} {method} {url[:300]} → {response.status_code}"


def _encode(fields: dict[str, str], raw: dict[str, str]) -> bytes:
    """A urlencoded body: ``fields`` quoted as browsers do, ``raw`` sent as given."""
    parts = [f"{quote(k)}={quote(v)}" for k, v in fields.items() if k not in raw]
    parts += [f"{quote(k)}={v}" for k, v in raw.items()]
    return "&".join(parts).encode("ascii")


def _crawl(app: Flask, world: World) -> tuple[dict[str, set[str]], list[tuple[str, _Form]]]:
    """GET every route as every role; return the keys read per rule and the forms shown."""
    keys: dict[str, set[str]] = {}
    forms: dict[tuple[str, str, tuple[str, ...]], tuple[str, _Form]] = {}
    for rule in _rules(app, "GET"):
        for path in _paths(rule, world):
            for role, client in world.clients.items():
                _RecordingArgs.seen = set()
                response = client.get(path)
                _fail_on_5xx(response, "GET", path, role)
                keys.setdefault(rule.rule, set()).update(_RecordingArgs.seen)
                if response.mimetype == "text/html":
                    for form in _parse_forms(response.get_data(as_text=True), path):
                        forms.setdefault((role, form.action, tuple(sorted(form.fields))),
                                         (role, form))  # fmt: skip
    return keys, list(forms.values())


def _fuzz_get(world: World, rule: Rule, paths: Iterable[str], names: set[str]) -> int:
    sent = 0
    for path, role, value in itertools.product(paths, ("visitor", "admin"), HOSTILE):
        client = world.clients[role]
        query = "&".join(f"{quote(name)}={value}" for name in sorted(names))
        response = client.get(f"{path}?{query}")
        sent += 1
        _fail_on_5xx(response, "GET", f"{path}?{query}", role)
        if response.status_code == 400 and len(names) > 1:
            for name in sorted(names):
                single = client.get(f"{path}?{quote(name)}={value}")
                sent += 1
                _fail_on_5xx(single, "GET", f"{path}?{name}={value}", role)
    return sent


def _post(world: World, role: str, action: str, fields: dict[str, str], raw: dict[str, str]):
    client = world.clients[role]
    response = client.post(
        action, data=_encode(fields, raw), content_type="application/x-www-form-urlencoded"
    )
    _fail_on_5xx(response, "POST", f"{action} {raw}"[:300], role)
    if response.status_code == 302 and "/account/login" in response.headers.get("Location", ""):
        world.clients[role] = log_in(client.application.test_client(), world.users[role])
        world.tokens.pop(role, None)
    return response


def test_no_hostile_value_in_any_parameter_or_field_is_a_server_error(app, world):
    keys, forms = _crawl(app, world)

    sent = 0
    for rule in _rules(app, "GET"):
        names = keys.get(rule.rule, set()) | set(SEARCH_KEYS)
        sent += _fuzz_get(world, rule, list(_paths(rule, world))[:2], names)

    posted_endpoints: set[str] = set()
    for role, form in forms:
        endpoint = app.url_map.bind("localhost").match(form.action, method="POST")[0]
        if endpoint in SKIPPED_POSTS:
            continue
        posted_endpoints.add(endpoint)
        base = {name: SENSIBLE.get(name, value) or value for name, value in form.fields.items()}
        for name, value in itertools.product(
            [n for n in form.fields if n != "csrf_token"], HOSTILE
        ):
            base["csrf_token"] = world.token(role)
            _post(world, role, form.action, base, {name: value})
            sent += 1

    for rule in _rules(app, "POST"):
        if rule.endpoint in posted_endpoints | SKIPPED_POSTS:
            continue
        names = (keys.get(rule.rule, set()) - {"csrf_token"}) or {"id"}
        for path, value in itertools.product(list(_paths(rule, world))[:2], HOSTILE):
            fields = {"csrf_token": world.token("admin")}
            _post(world, "admin", path, fields, dict.fromkeys(sorted(names), value))
            sent += 1

    assert posted_endpoints >= {
        "accounts.login",
        "accounts.register",
        "catalog.new_product",
        "shops.edit_shop",
        "admin.decide_product",
    }, sorted(posted_endpoints)
    print(f"{sent} hostile requests; forms posted to {len(posted_endpoints)} endpoints")
    assert sent > 1000
