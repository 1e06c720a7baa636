"""The Whoosh backend reads postings, columns and lengths as arrays through Whoosh
internals (whoosh3 is pinned); these tests hold those reads to Whoosh's own answers."""

from collections import Counter

import pytest

from marketplace.search.backend import SearchDocument, SearchFilters, Sort
from marketplace.search.whoosh_backend import (
    COLUMNS,
    WhooshBackend,
    _open_snapshot,
    _postings,
)


def document(number: int) -> SearchDocument:
    kind = ["Khô cá lóc", "Mật ong rừng", "Tôm khô"][number % 3]
    return SearchDocument(
        id=number,
        name=f"{kind} {'loại đặc biệt ' * (number % 4)}số {number}",
        description=f"{kind} ngon, đặc sản Cà Mau " * (1 + number % 5),
        shop_name=f"Cơ sở {number % 7}",
        category_names="Đặc sản",
        origin="Cà Mau",
        shop_id=number % 7 + 1,
        category_id=10 + number % 3,
        root_category_id=1,
        province_code=96,
        ocop_stars=number % 6,
        price_vnd=1000 * number,
        in_stock=number % 2 == 0,
        published_at=1_700_000_000 + number,
    )


@pytest.fixture
def backend(tmp_path):
    backend = WhooshBackend(tmp_path)
    backend.rebuild(document(number) for number in range(1, 400))
    # More segments, a deletion and a replaced document, as live updates leave them.
    backend.index(document(number) for number in range(400, 450))
    backend.index([document(7)])
    backend.remove([11, 402])
    return backend


def whoosh_postings(searcher, name, word):
    ids, weights = [], []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if reader.doc_frequency(name, word):
            matcher = reader.postings(name, word)
            while matcher.is_active():
                ids.append(matcher.id() + offset)
                weights.append(matcher.weight())
                matcher.next()
    return ids, weights


def test_arrays_agree_with_what_whoosh_reads_one_value_at_a_time(backend):
    searcher = backend.open_index().searcher()
    reader = searcher.reader()
    snapshot = _open_snapshot("test", searcher)

    assert len(searcher.leaf_searchers()) > 1
    assert snapshot.live.tolist() == [not reader.is_deleted(n) for n in range(snapshot.size)]
    for name in COLUMNS:
        expected = list(reader.column_reader(name, translate=False))
        assert snapshot.columns[name].tolist() == expected, name
    for name in ("name", "description"):
        expected = [reader.doc_field_length(n, name, 0) for n in range(snapshot.size)]
        assert snapshot._lengths(name).tolist() == expected, name
    # Long lists span many blocks; "so 123" appears once (Whoosh inlines such lists).
    for name, word in [("description", "mau"), ("name", "loai"), ("name", "123")]:
        docnums, weights = _postings(snapshot.leaves(), name, word)
        expected_ids, expected_weights = whoosh_postings(searcher, name, word)
        assert docnums.tolist() == expected_ids, word
        assert weights.tolist() == pytest.approx(expected_weights), word
    assert len(whoosh_postings(searcher, "description", "mau")[0]) > 128 * 2


def test_filters_sorts_and_facets_read_the_columns(backend):
    live = [document(n) for n in range(1, 450) if n not in (11, 402)]
    shrimp = [d for d in live if d.name.startswith("Tôm khô") and d.ocop_stars >= 4]
    expected = sorted(shrimp, key=lambda d: -d.price_vnd)

    hits = backend.query("tom kho", SearchFilters(min_ocop_stars=4), Sort.PRICE_DESC, 1, 3)

    assert hits.ids == [d.id for d in expected[:3]]
    assert hits.total == len(expected)
    assert hits.facets["ocop_stars"] == Counter(d.ocop_stars for d in expected)
    in_stock = backend.query(
        "tom kho", SearchFilters(in_stock=True, min_ocop_stars=4), Sort.NEWEST, 1, 99
    )
    assert in_stock.ids == [d.id for d in sorted(shrimp, key=lambda d: -d.id) if d.in_stock]


def test_opening_while_another_process_commits_opens_the_newer_contents(backend, monkeypatch):
    from whoosh import index as whoosh_index

    real_open_dir = whoosh_index.open_dir
    calls = []

    def commit_elsewhere_meanwhile(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:  # the table of contents listed was deleted by a commit
            raise FileNotFoundError("_MAIN_9.toc")
        return real_open_dir(*args, **kwargs)

    monkeypatch.setattr(whoosh_index, "open_dir", commit_elsewhere_meanwhile)
    folders = sorted(path.name for path in backend.root.glob("index-*"))

    assert backend.open_index().doc_count() == 447
    assert sorted(path.name for path in backend.root.glob("index-*")) == folders


def test_opening_as_a_rebuild_prunes_the_folder_just_named_keeps_the_live_index(backend):
    live = backend._current_folder()
    named = iter([backend.root / "index-0"])  # a rebuild's prune deleted it meanwhile
    real_current_folder = backend._current_folder
    backend._current_folder = lambda: next(named, None) or real_current_folder()

    assert backend.open_index().doc_count() == 447
    assert real_current_folder() == live
    assert sorted(path.name for path in backend.root.glob("index-*")) == [live.name]
