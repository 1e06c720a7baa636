"""Storage keys and backends, the public media route, private documents."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from marketplace.media import init_media
from marketplace.media.services import (
    FileTooLarge,
    MediaError,
    UnsupportedDocument,
    image_url,
    ingest_image,
    open_document,
    store_document,
)
from marketplace.media.storage import (
    InvalidKey,
    KeyNotFound,
    LocalStorage,
    check_key,
    get_storage,
    register_storage,
)
from tests.media import pictures

UNSAFE_KEYS = [
    "../secret.txt",
    "images/../../secret.txt",
    "images/..",
    "/etc/passwd",
    "images\\..\\secret.txt",
    "images//x.webp",
    "images/./x.webp",
    "images/.hidden",
    "images/x\x00.webp",
    "images/x\n.webp",
    "",
    "a" * 201,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_storage_refuses_keys_that_could_leave_its_directory(tmp_path, key):
    storage = LocalStorage(tmp_path / "media")

    with pytest.raises(InvalidKey):
        check_key(key)
    with pytest.raises(InvalidKey):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(InvalidKey):
        storage.open(key)
    with pytest.raises(InvalidKey):
        storage.exists(key)
    with pytest.raises(InvalidKey):
        storage.delete(key)


def test_storage_refuses_a_symlink_out_of_its_directory(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"secret")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "images").symlink_to(tmp_path / "outside")
    storage = LocalStorage(tmp_path / "media")

    with pytest.raises(InvalidKey):
        storage.open("images/secret.txt")


def test_local_storage_puts_opens_and_deletes_whole_files(tmp_path):
    storage = LocalStorage(tmp_path / "media")
    key = "images/ab/abc-600.webp"

    storage.put(key, b"first", "image/webp")
    storage.put(key, b"second", "image/webp")

    assert storage.exists(key)
    assert storage.open(key) == b"second"
    assert [p.name for p in (tmp_path / "media" / "images" / "ab").iterdir()] == ["abc-600.webp"]
    storage.delete(key)
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(KeyNotFound):
        storage.open(key)


def test_private_files_are_readable_by_their_owner_only(tmp_path):
    storage = LocalStorage(tmp_path)

    storage.put("private/documents/a.pdf", pictures.PDF, "application/pdf")
    storage.put("images/aa/a-200.webp", b"webp", "image/webp")

    assert (tmp_path / "private/documents/a.pdf").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "images/aa/a-200.webp").stat().st_mode & 0o777 == 0o644


def test_the_backend_is_chosen_by_config(app_config, build_app, tmp_path):
    register_storage("elsewhere", lambda app: LocalStorage(tmp_path / "elsewhere"))
    media_app = build_app({**app_config, "MEDIA_STORAGE": "elsewhere"})
    init_media(media_app)

    with media_app.app_context():
        storage = get_storage()

    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "elsewhere").resolve()


def test_an_unknown_backend_stops_the_app(tmp_path):
    app = Flask(__name__)
    app.config.update(MEDIA_STORAGE="nowhere", MEDIA_DIR=str(tmp_path))

    with pytest.raises(RuntimeError, match="nowhere"):
        init_media(app)


def test_the_media_route_serves_derivatives_for_a_year(app, client):
    image = ingest_image(pictures.jpeg((1600, 1200)))
    with app.test_request_context():
        url = image_url(image, 1200)

    response = client.get(url)

    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data.startswith(b"RIFF")
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_media_route_404s_for_unknown_keys(client):
    response = client.get("/media/images/ab/" + "ab" * 32 + "-600.webp")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.txt",
        "/media/images/../../secret.txt",
        "/media/images/..%2F..%2Fsecret.txt",
        "/media/images%2F..%2F..%2Fsecret.txt",
        "/media/images/%5C..%5C..%5Csecret.txt",
        "/media/%2Fetc%2Fpasswd",
        "/media/secret.txt",
    ],
)
def test_the_media_route_404s_for_traversal(app, client, tmp_path, path):
    # The media directory is tmp_path / "media": "../secret.txt" would reach this file.
    (tmp_path / "secret.txt").write_bytes(b"TOP-SECRET-CONTENT")

    response = client.get(path, follow_redirects=True)

    assert response.status_code == 404
    assert b"TOP-SECRET-CONTENT" not in response.data


def test_the_media_route_never_serves_private_documents(app, client):
    document = store_document(pictures.PDF, "giay-phep.pdf")
    stored_png = store_document(pictures.png(), "scan.png")

    for key in (document.storage_key, stored_png.storage_key):
        assert get_storage().exists(key)
        assert client.get(f"/media/{key}").status_code == 404


def test_a_pdf_document_is_kept_privately_as_uploaded(app):
    upload = FileStorage(io.BytesIO(pictures.PDF), filename="../../Giấy phép kinh doanh.pdf")

    document = store_document(upload, upload.filename)

    assert document.id is not None
    assert document.storage_key.startswith("private/documents/")
    assert document.filename == "Giấy phép kinh doanh.pdf"
    assert document.content_type == "application/pdf"
    assert document.size_bytes == len(pictures.PDF)
    assert len(document.sha256) == 64
    assert open_document(document) == pictures.PDF


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "stored_name"),
    [
        (pictures.jpeg(), "scan.JPG", "image/jpeg", "scan.jpg"),
        (pictures.png(), "scan.pdf", "image/png", "scan.pdf.png"),
        (pictures.PDF, "C:\\Users\\an\\dkkd", "application/pdf", "dkkd.pdf"),
        (pictures.PDF, "  ", "application/pdf", "document.pdf"),
    ],
)
def test_scans_are_accepted_by_content_and_named_to_match(
    app, data, filename, content_type, stored_name
):
    document = store_document(data, filename)

    assert document.content_type == content_type
    assert document.filename == stored_name


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("scan.pdf", pictures.PDF)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120,
        zip_file(),
        pictures.SVG,
        pictures.webp(),
        pictures.encode(pictures.picture((20, 20)), "GIF"),
        b"plain text",
    ],
    ids=["exe", "zip", "svg", "webp", "gif", "text"],
)
def test_other_documents_are_refused(app, media_dir, data):
    with pytest.raises(UnsupportedDocument):
        store_document(data, "giay-phep.pdf")

    assert not media_dir.exists() or not any(media_dir.rglob("*.*"))


def test_a_document_over_the_limit_is_refused(app):
    too_big = pictures.PDF + b"0" * (10 * 1024 * 1024)

    with pytest.raises(FileTooLarge) as caught:
        store_document(io.BytesIO(too_big), "big.pdf")

    assert isinstance(caught.value, MediaError)
