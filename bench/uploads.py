"""Time the worst upload requests a seller (or an attacker) can send to the new-listing form.

    .venv/bin/python bench/uploads.py
    .venv/bin/python bench/uploads.py --repeat 3

It builds its data with the test factories, so it needs the dev extras (``make test``
installs them into .venv).

Each case is one POST of /seller/products/new with up to eight pictures, through the real
app on a temporary SQLite database: the shapes that cost most to decode within the limits
(square and long 40 MP PNGs, 12 MP phone JPEGs) and those refused from their header
(1 × 20 000 000 px and other narrow strips). It prints the time of each request and the
worst. gunicorn kills a worker after 30 s; the target is well under that for any request,
and well under a second for a refused picture. Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image as PILImage  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from tests.conftest import FAST_ARGON2, csrf_token_from  # noqa: E402
from tests.factories import leaf_category, log_in, make_shop  # noqa: E402


def png(width: int, height: int) -> bytes:
    """A PNG of noise-free colour: small on disk, full cost to decode."""
    picture = PILImage.new("RGB", (width, height), (200, 120, 40))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def jpeg(width: int, height: int) -> bytes:
    picture = PILImage.effect_noise((width // 8, height // 8), 60).convert("RGB")
    picture = picture.resize((width, height))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def refusal(page: str) -> str:
    """The first error message on the form page."""
    match = re.search(r'class="(?:errors|form-errors)"[^>]*>\s*(?:<[a-z]+>)?([^<]+)', page)
    return html.unescape(match.group(1).strip()) if match else "(no message found)"


def cases() -> list[tuple[str, list[bytes]]]:
    square_40mp = png(6324, 6324)
    long_40mp = png(16000, 2500)
    strip = png(1, 20_000_000)
    phone = jpeg(4032, 3024)
    return [
        ("6 × PNG 1 × 20 000 000 (refused from the header)", [strip] * 6),
        ("8 × PNG 6 324 × 6 324, 40 MP (over the request's budget)", [square_40mp] * 8),
        ("3 × PNG 6 324 × 6 324, 40 MP (the whole budget)", [square_40mp] * 3),
        ("3 × PNG 16 000 × 2 500, 40 MP (the whole budget)", [long_40mp] * 3),
        ("4 × PNG 16 000 × 1 600, aspect 10", [png(16000, 1600)] * 4),
        ("7 × PNG 1 300 × 13 000, tall strips", [png(1300, 13000)] * 7),
        ("4 × PNG 1 600 × 16 000, the tallest allowed", [png(1600, 16000)] * 4),
        # Eight would pass MAX_CONTENT_LENGTH (16 MiB) at 2–3 MB each.
        ("6 × JPEG 4 032 × 3 024, 12 MP phone photos", [phone] * 6),
        ("1 × PNG 6 324 × 6 324, 40 MP", [square_40mp]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="requests per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench-" + "x" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "INSTANCE_PATH": f"{tmp}/instance",
                "SEARCH_INDEX_DIR": f"{tmp}/search",
                "MEDIA_DIR": f"{tmp}/media",
                "RATELIMIT_STORAGE_URI": "memory://",
                **FAST_ARGON2,
            }
        )
        with app.app_context():
            db.create_all()
            leaf = leaf_category("kho-ca")
            shop = make_shop()
            client = app.test_client()
            log_in(client, shop.owner)
            worst = 0.0
            for label, pictures in cases():
                for _ in range(args.repeat):
                    page = client.get("/seller/products/new").get_data(as_text=True)
                    form = {
                        "csrf_token": csrf_token_from(page),
                        "name": "Khô cá lóc",
                        "category_id": str(leaf.id),
                        "price_vnd": "150000",
                        "stock": "5",
                        "unit": "kg",
                        "ocop_stars": "",
                        "ocop_level": "",
                        "photos": [(io.BytesIO(p), f"p{i}.png") for i, p in enumerate(pictures)],
                    }
                    started = time.perf_counter()
                    response = client.post(
                        "/seller/products/new", data=form, content_type="multipart/form-data"
                    )
                    elapsed = time.perf_counter() - started
                    worst = max(worst, elapsed)
                    outcome = "saved" if response.status_code == 302 else "refused"
                    if outcome == "refused":
                        outcome += ": " + refusal(response.get_data(as_text=True))
                    size_mb = sum(len(p) for p in pictures) / 1e6
                    print(f"{elapsed:6.2f} s  {size_mb:5.1f} MB  {label}\n         {outcome}")
            print(f"worst request: {worst:.2f} s (gunicorn's worker timeout: 30 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
