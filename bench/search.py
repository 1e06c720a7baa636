"""Search speed: the Whoosh backend beside SQLite FTS5 on the same synthetic corpus.

    .venv/bin/python bench/search.py                 # 10 000 and 100 000 listings
    .venv/bin/python bench/search.py --sizes 10000

The corpus is shaped like a province's catalog: most listings say "Cà Mau" and "đặc sản",
names are short, descriptions about 50 words. For each size it prints the index build
rate and size, then page-1 latency (p50/p95/p99) of diacritic-less, diacritic, filtered
and faceted queries, the first time (cold) and asked again (repeated), the first search
after a write (the index reopened, nothing read yet), and the same queries on an FTS5
table of folded text for reference. Figures only: nothing asserts.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.core.text import fold  # noqa: E402
from marketplace.search.backend import SearchDocument, SearchFilters, Sort  # noqa: E402
from marketplace.search.whoosh_backend import WhooshBackend  # noqa: E402

KINDS = [
    ("Khô cá lóc", 10), ("Khô cá sặc", 11), ("Khô cá đù", 11), ("Tôm khô", 12),
    ("Khô mực", 13), ("Ba khía muối", 14), ("Mắm tôm chà", 14), ("Bánh phồng tôm", 15),
    ("Mật ong rừng", 20), ("Mật ong hoa tràm", 20), ("Tinh dầu tràm", 22), ("Cua gạch", 30),
    ("Cua thịt", 30), ("Tôm sú", 31), ("Gạo Một Bụi Đỏ", 40), ("Gạo ST25", 40),
    ("Giỏ lác", 50), ("Túi đan bàng", 51), ("Rượu nếp", 60), ("Nước mắm cá cơm", 70),
]  # fmt: skip
PLACES = ["U Minh", "Rạch Gốc", "Năm Căn", "Sông Đốc", "Đầm Dơi", "Thới Bình", "Ngọc Hiển",
          "Trần Văn Thời", "Cái Nước", "Đất Mũi", "Bạc Liêu", "Gành Hào"]  # fmt: skip
GRADES = ["loại 1", "loại 2", "đặc biệt", "1 nắng", "hộp quà", "túi 500 g", "nguyên chất", ""]
FILLER = [
    "đặc",
    "sản",
    "Cà",
    "Mau",
    "ngon",
    "sạch",
    "giao",
    "hàng",
    "toàn",
    "quốc",
    "đóng",
    "gói",
    "cẩn",
    "thận",
    "hút",
    "chân",
    "không",
    "bảo",
    "quản",
    "nơi",
    "khô",
    "ráo",
    "thoáng",
    "mát",
    "sản",
    "phẩm",
    "của",
    "bà",
    "con",
    "nông",
    "dân",
    "địa",
    "phương",
    "chất",
    "lượng",
    "cao",
    "giá",
    "tốt",
    "làm",
    "thủ",
    "công",
    "theo",
    "cách",
    "truyền",
    "thống",
    "không",
    "chất",
    "bảo",
    "quản",
    "an",
    "toàn",
]
QUERIES = {
    "no diacritics": [
        "kho ca loc", "tom kho rach goc", "mat ong rung", "ba khia", "cua gach nam can",
    ],
    "diacritics": ["khô cá lóc", "tôm khô", "mật ong rừng u minh", "bánh phồng tôm", "gạo st25"],
    "filtered": ["kho ca", "mat ong", "tom", "gao", "cua"],
    "faceted": ["dac san ca mau", "ca mau", "dac san", "ngon", "giao hang"],
}  # fmt: skip


def corpus(size: int) -> list[SearchDocument]:
    rng = random.Random(size)
    documents = []
    for index in range(size):
        kind, category = rng.choice(KINDS)
        place = rng.choice(PLACES)
        name = f"{kind} {place} {rng.choice(GRADES)}".strip()
        words = [*rng.choices(FILLER, k=45), kind.lower(), place]
        documents.append(
            SearchDocument(
                id=index + 1, name=name, description=" ".join(words),
                shop_name=f"Cơ sở {rng.choice(PLACES)} {index % 400}",
                category_names=f"Đặc sản {kind.split()[0]}", origin=f"{place}, Cà Mau",
                shop_id=index % 400 + 1, category_id=category, root_category_id=category // 10,
                province_code=rng.choice([96, 96, 96, 94, 95]),
                ocop_stars=rng.choice([0, 0, 0, 0, 3, 4, 5]),
                price_vnd=rng.randrange(20, 2000) * 1000, in_stock=rng.random() > 0.1,
                published_at=1_700_000_000 + index,
            )
        )  # fmt: skip
    return documents


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    return f"p50 {statistics.median(ordered):6.1f}  p95 {at(0.95):6.1f}  p99 {at(0.99):6.1f} ms"


def whoosh_figures(documents: list[SearchDocument], folder: Path) -> None:
    backend = WhooshBackend(folder)
    started = time.perf_counter()
    backend.rebuild(documents)
    elapsed = time.perf_counter() - started
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    rate = len(documents) / elapsed
    print(f"  Whoosh build: {rate:7.0f} listings/s, index {size / 1e6:.1f} MB")
    backend.query("warm up", SearchFilters(), Sort.RELEVANCE, 1, 24)
    for label, queries in QUERIES.items():
        filters = SearchFilters()
        if label == "filtered":
            filters = SearchFilters(min_ocop_stars=3, max_price_vnd=800_000, in_stock=True)
        cold, repeated = [], []
        for round_number in range(4):
            for text in queries:
                variant = f"{text} {'x' * round_number}".strip() if round_number else text
                started = time.perf_counter()
                backend.query(variant, filters, Sort.RELEVANCE, 1, 24)
                cold.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                backend.query(variant, filters, Sort.RELEVANCE, 1, 24)
                repeated.append((time.perf_counter() - started) * 1000)
        print(f"  Whoosh {label:14} cold {percentiles(cold)} | repeated {percentiles(repeated)}")
    # The worst case a live site meets: a seller's edit has just changed the index, so the
    # next search reopens it and reads every column and posting list afresh.
    after_write = []
    for round_number, text in enumerate(QUERIES["faceted"] * 2):
        backend.index([documents[round_number]])
        started = time.perf_counter()
        backend.query(text, SearchFilters(), Sort.RELEVANCE, 1, 24)
        after_write.append((time.perf_counter() - started) * 1000)
    print(f"  Whoosh faceted, first search after a write {percentiles(after_write)}")
    snapshot = backend._snapshot()
    kept = [*snapshot.columns.values(), *snapshot.lengths.values(), snapshot.live]
    kept += [array for arrays in snapshot.terms.values() for array in arrays]
    print(f"  arrays kept by a searching process: {sum(a.nbytes for a in kept) / 1e6:.0f} MB")


def fts5_figures(documents: list[SearchDocument]) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(name, shop, origin, description, "
        "id UNINDEXED, category UNINDEXED, province UNINDEXED, stars UNINDEXED)"
    )
    started = time.perf_counter()
    connection.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (fold(d.name), fold(d.shop_name), fold(d.origin), fold(d.description), d.id,
             d.root_category_id, d.province_code, d.ocop_stars)
            for d in documents
        ],
    )  # fmt: skip
    print(f"  FTS5 build:   {len(documents) / (time.perf_counter() - started):7.0f} listings/s")
    for label, queries in QUERIES.items():
        samples = []
        for text in queries * 4:
            match = " AND ".join(f'"{word}"' for word in fold(text).split())
            started = time.perf_counter()
            rows = connection.execute(
                "SELECT id, category, province, stars FROM docs WHERE docs MATCH ? "
                "ORDER BY bm25(docs, 4.0, 2.0, 1.5, 0.6)",
                (match,),
            ).fetchall()
            Counter(row[1] for row in rows)
            Counter(row[2] for row in rows)
            Counter(row[3] for row in rows)
            samples.append((time.perf_counter() - started) * 1000)
        print(f"  FTS5   {label:14} {percentiles(samples)} (total + three facets)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for size in args.sizes:
        print(f"\n{size:,} listings")
        documents = corpus(size)
        with tempfile.TemporaryDirectory() as folder:
            whoosh_figures(documents, Path(folder))
        fts5_figures(documents)


if __name__ == "__main__":
    main()
