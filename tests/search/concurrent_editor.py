"""A separate process editing listings, for the many-writers test.

python -m tests.search.concurrent_editor DB_URL INDEX_DIR MEDIA_DIR WORKER IDS...
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from marketplace import create_app
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.database import begin_write_transaction
from marketplace.extensions import db
from tests.conftest import make_test_config

ROUNDS = 6


def main(argv: list[str]) -> None:
    database_url, index_dir, media_dir, worker, *ids = argv
    config = make_test_config(Path(index_dir).parent / f"worker-{worker}", database_url)
    config.update(SEARCH_INDEX_DIR=index_dir, MEDIA_DIR=media_dir)
    app = create_app(config)
    with app.app_context():
        for round_number in range(ROUNDS):
            for product_id in map(int, ids):
                begin_write_transaction()
                product = db.session.get(Product, product_id)
                data = catalog.input_of(product)
                name = f"Sản phẩm {product_id} phiên {worker}-{round_number}"
                catalog.update_product(
                    product,
                    catalog.ProductInput(**{**asdict(data), "name": name}),
                    [item.image for item in product.images],
                    author=product.shop.owner,
                )
                if (product_id + round_number) % 3 == 0:
                    if product.status == ProductStatus.PUBLISHED:
                        catalog.hide_product(product, reason="thử")
                    else:
                        catalog.unhide_product(product)
                db.session.commit()
        db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
