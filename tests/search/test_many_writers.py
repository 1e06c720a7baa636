"""Several processes edit listings at once; the index ends up agreeing with the database."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.search import services
from tests.factories import make_product, make_shop

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


def test_four_processes_editing_at_once_lose_no_index_update(app):
    shop = make_shop(trusted=True)
    products = [make_product(shop=shop, name=f"Sản phẩm {i}") for i in range(12)]
    ids = [product.id for product in products]
    db.session.commit()

    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.search.concurrent_editor",
                app.config["SQLALCHEMY_DATABASE_URI"],
                app.config["SEARCH_INDEX_DIR"],
                app.config["MEDIA_DIR"],
                str(worker),
                *map(str, ids[worker::WORKERS] + ids[(worker + 1) % WORKERS :: WORKERS]),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
        )
        for worker in range(WORKERS)
    ]
    for process in processes:
        _out, errors = process.communicate(timeout=240)
        assert process.returncode == 0, errors.decode()[-3000:]

    db.session.expire_all()
    check = services.check_index()
    assert check.pending == 0
    assert check.ok, check
    indexed = services.backend().document_ids()
    for product in db.session.scalars(select(Product)):
        if product.id in indexed:
            hits = services.search_products(
                product.name,
                services.SearchFilters(),
                services.Sort.RELEVANCE,
                page=1,
                per_page=5,
                locale="vi",
            )
            assert product.id in [item.id for item in hits.items], product.name
