"""`flask media prune`: files a failed commit left behind go; everything else stays."""

import io
import os
import time
from pathlib import Path

from PIL import Image as PILImage

from marketplace.extensions import db
from marketplace.media import services as media


def picture(color):
    buffer = io.BytesIO()
    PILImage.new("RGB", (300, 200), color).save(buffer, "PNG")
    return buffer.getvalue()


def _all(root):
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def age(app, keys, days=2):
    then = time.time() - days * 86400
    for key in keys:
        os.utime(Path(app.config["MEDIA_DIR"]) / key, (then, then))


def test_prune_deletes_old_files_without_rows_and_keeps_the_rest(app):
    root = Path(app.config["MEDIA_DIR"])
    kept = media.ingest_image(picture((10, 120, 60)))
    papers = media.store_document(b"%PDF-1.4 giay phep", "giay-phep.pdf")
    db.session.commit()
    before_orphans = _all(root)
    media.ingest_image(picture((200, 40, 40)))
    media.store_document(b"%PDF-1.4 ban nhap", "nhap.pdf")
    db.session.rollback()  # the request failed after storing its files
    orphans = _all(root) - before_orphans
    age(app, _all(root))
    media.ingest_image(picture((40, 40, 200)))
    db.session.rollback()  # a request that may still be running: too young to judge
    young = _all(root) - before_orphans - orphans

    dry = app.test_cli_runner().invoke(args=["media", "prune", "--dry-run"])
    assert dry.exit_code == 0 and _all(root) >= orphans
    result = app.test_cli_runner().invoke(args=["media", "prune"])

    assert result.exit_code == 0, result.output
    assert len(orphans) == 4 and all(key in result.output for key in orphans)
    assert f"{len(orphans)} files deleted." in result.output
    remaining = _all(root)
    assert not orphans & remaining
    assert young and young <= remaining
    assert papers.storage_key in remaining
    assert any(kept.sha256 in key for key in remaining)
