"""The image pipeline: what is accepted, what is refused, what the derivatives look like."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from PIL import ExifTags
from PIL import Image as PILImage
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from marketplace.extensions import db
from marketplace.media.models import Image
from marketplace.media.services import (
    DERIVATIVE_WIDTHS,
    CorruptImage,
    ImageTooLarge,
    MediaError,
    UnsupportedImage,
    derivative_key,
    image_url,
    ingest_image,
    process_image,
    process_images,
)
from tests.media import pictures


def open_webp(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    assert image.format == "WEBP"
    return image


def count_images() -> int:
    return db.session.scalar(select(func.count()).select_from(Image))


def files_under(directory) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(root, name), directory)
        for root, _, names in os.walk(directory)
        for name in names
    )


@pytest.mark.parametrize(
    ("data", "fmt"),
    [(pictures.jpeg(), "JPEG"), (pictures.png(), "PNG"), (pictures.webp(), "WEBP")],
    ids=["jpeg", "png", "webp"],
)
def test_jpeg_png_and_webp_are_accepted(data, fmt):
    processed = process_image(data)

    assert processed.format == fmt
    assert (processed.width, processed.height) == (800, 600)
    assert processed.size_bytes == len(data)
    assert set(processed.derivatives) == set(DERIVATIVE_WIDTHS)
    assert len(processed.sha256) == 64


def test_a_png_named_jpg_is_accepted_by_its_content(app):
    upload = FileStorage(io.BytesIO(pictures.png()), filename="photo.jpg")

    image = ingest_image(upload)

    assert image.format == "PNG"


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, not a picture\n",
        pictures.SVG,
        pictures.encode(pictures.picture((40, 30)), "GIF"),
        pictures.encode(pictures.picture((40, 30)), "BMP"),
        pictures.encode(pictures.picture((40, 30)), "TIFF"),
        b"",
    ],
    ids=["text", "svg", "gif", "bmp", "tiff", "empty"],
)
def test_other_files_are_refused_whatever_their_name(app, data):
    upload = FileStorage(io.BytesIO(data), filename="photo.jpg")

    with pytest.raises(UnsupportedImage):
        ingest_image(upload)

    assert count_images() == 0


def test_a_file_over_10_mb_is_refused_before_it_is_read_whole():
    data = pictures.png()
    too_big = data + b"\x00" * (10 * 1024 * 1024 + 1 - len(data))

    with pytest.raises(ImageTooLarge):
        process_image(too_big)
    with pytest.raises(ImageTooLarge):
        process_image(io.BytesIO(too_big))


def test_the_upload_limit_comes_from_the_config(app):
    app.config["MEDIA_MAX_UPLOAD_BYTES"] = 1000

    with pytest.raises(ImageTooLarge):
        process_image(pictures.noisy_jpeg((100, 100)))


@pytest.mark.parametrize(
    "size", [(8000, 6000), (20000, 20000), (1, 40_000_001)], ids=["48mp", "bomb", "one-column"]
)
def test_images_over_40_megapixels_are_refused_from_the_header(size):
    with pytest.raises(ImageTooLarge):
        process_image(pictures.png_header_only(*size))


@pytest.mark.parametrize(
    "size",
    [(1, 20_000_000), (2, 10_000_000), (20_000, 100), (16_001, 1_600), (1_001, 100)],
    ids=["1x20M", "2x10M", "wide-strip", "side-over-16000", "aspect-over-10"],
)
def test_narrow_and_overlong_pictures_are_refused_from_the_header(size):
    # The file holds no pixel data: had it been decoded, it would be reported as damaged.
    with pytest.raises(ImageTooLarge, match="shape"):
        process_image(pictures.png_header_only(*size))


def test_a_picture_ten_times_longer_than_wide_is_still_accepted():
    processed = process_image(pictures.png((1000, 100)))

    assert (processed.width, processed.height) == (1000, 100)


def test_one_request_decodes_at_most_its_pixel_budget_checked_before_decoding(app):
    uploads = [(f"anh-{i}.png", pictures.png_header_only(6324, 6324)) for i in range(4)]

    with app.test_request_context(), pytest.raises(ImageTooLarge, match="cùng lúc"):
        process_images(uploads)  # 160 MP against 120: refused before any is decoded


def test_the_pixel_budget_counts_every_picture_of_the_request(app):
    app.config["MEDIA_MAX_REQUEST_PIXELS"] = 2 * 100 * 100

    with app.test_request_context():
        process_image(pictures.png((100, 100)))
        process_image(pictures.png((100, 100)))
        with pytest.raises(ImageTooLarge, match="cùng lúc"):
            process_image(pictures.png((100, 100)))
    with app.test_request_context():
        process_image(pictures.png((100, 100)))  # a new request has a new budget


def test_a_jpeg_counts_at_the_size_it_is_decoded_at(app):
    # 2400 x 2400 decodes at half size (1200 x 1200) for the 1200 px derivative.
    app.config["MEDIA_MAX_REQUEST_PIXELS"] = 1200 * 1200

    with app.test_request_context():
        process_image(pictures.jpeg((2400, 2400)))


def test_the_pixel_limit_comes_from_the_config(app):
    app.config["MEDIA_MAX_PIXELS"] = 100 * 100 - 1

    with pytest.raises(ImageTooLarge):
        process_image(pictures.png((100, 100)))


@pytest.mark.parametrize(
    "data",
    [pictures.noisy_jpeg(), pictures.encode(PILImage.effect_noise((300, 300), 80), "PNG")],
    ids=["jpeg", "png"],
)
def test_a_truncated_image_is_refused_and_leaves_nothing_behind(app, media_dir, data):
    with pytest.raises(CorruptImage):
        ingest_image(data[: len(data) // 2])

    assert count_images() == 0
    assert files_under(media_dir) == []


def test_a_damaged_header_is_reported_as_corrupt_not_as_another_format():
    data = bytearray(pictures.png())
    data[12:16] = b"zzzz"  # overwrite the IHDR chunk name: a PNG with a damaged header

    with pytest.raises(CorruptImage):
        process_image(bytes(data))


def test_every_error_is_a_media_error_with_a_message():
    with pytest.raises(MediaError, match="JPEG, PNG or WebP"):
        process_image(pictures.SVG)


def test_exif_and_gps_are_gone_from_every_derivative():
    data = pictures.encode(pictures.picture((1600, 1200)), "JPEG", exif=pictures.exif_with_gps())
    source_gps = PILImage.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert source_gps[ExifTags.GPS.GPSLatitude] == pictures.GPS_LATITUDE

    processed = process_image(data)

    for derivative in processed.derivatives.values():
        image = open_webp(derivative)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(image.info)
        assert b"EXIF" not in derivative
        assert b"XMP " not in derivative
        assert b"ICCP" not in derivative


def test_exif_orientation_is_applied():
    # Stored 1600 wide x 800 tall with a red top-left corner; Orientation 6 means "turn a
    # quarter clockwise to display", so the picture is 800 x 1600 with red top-right.
    stored = pictures.picture((1600, 800), color=(0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 400, 200))
    data = pictures.encode(stored, "JPEG", quality=95, exif=pictures.exif_with_gps(6))

    processed = process_image(data)

    assert (processed.width, processed.height) == (800, 1600)
    sizes = {w: open_webp(d).size for w, d in processed.derivatives.items()}
    assert sizes == {1200: (800, 1600), 600: (600, 1200), 200: (200, 400)}
    small = open_webp(processed.derivatives[200]).convert("RGB")
    top_right, top_left = small.getpixel((190, 10)), small.getpixel((10, 10))
    assert top_right[0] > 200
    assert top_right[2] < 60
    assert top_left[0] < 60
    assert top_left[2] > 200


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2400, 1200), {1200: (1200, 600), 600: (600, 300), 200: (200, 100)}),
        ((500, 250), {1200: (500, 250), 600: (500, 250), 200: (200, 100)}),
        ((150, 90), {1200: (150, 90), 600: (150, 90), 200: (150, 90)}),
        ((1600, 16000), {1200: (240, 2400), 600: (120, 1200), 200: (40, 400)}),
    ],
    ids=["large", "medium", "small", "very-tall"],
)
def test_derivatives_are_webp_at_each_width_and_never_upscaled(size, expected):
    processed = process_image(pictures.png(size))

    assert {w: open_webp(d).size for w, d in processed.derivatives.items()} == expected


def test_a_large_jpeg_is_scaled_down_with_its_aspect_kept():
    processed = process_image(pictures.jpeg((4000, 3000)))

    assert (processed.width, processed.height) == (4000, 3000)
    assert open_webp(processed.derivatives[1200]).size == (1200, 900)


@pytest.mark.parametrize(
    ("mode", "color"),
    [
        ("RGBA", (255, 0, 0, 0)),
        ("LA", (0, 0)),
        ("P", 0),
        ("L", 128),
        ("1", 1),
        ("I;16", 65535),
        ("CMYK", (0, 0, 0, 0)),
    ],
)
def test_every_mode_becomes_rgb_with_transparency_on_white(mode, color):
    image = pictures.picture((64, 64), mode, color)
    options = {"transparency": 0} if mode == "P" else {}
    fmt = "JPEG" if mode == "CMYK" else "PNG"

    processed = process_image(pictures.encode(image, fmt, **options))

    derivative = open_webp(processed.derivatives[200])
    assert derivative.mode == "RGB"
    if mode in {"RGBA", "LA", "P", "1", "I;16", "CMYK"}:
        assert min(derivative.getpixel((32, 32))) > 240


def test_the_same_picture_is_stored_once(app, media_dir):
    data = pictures.jpeg()

    first = ingest_image(data)
    stats = {key: os.stat(media_dir / key) for key in files_under(media_dir)}
    second = ingest_image(io.BytesIO(data))

    assert second is first
    assert first.created_at is not None
    assert count_images() == 1
    assert len(stats) == len(DERIVATIVE_WIDTHS)
    for key, stat in stats.items():
        again = os.stat(media_dir / key)
        assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_the_same_pixels_with_other_metadata_find_the_same_image(app):
    plain = pictures.png((640, 480))
    with_text = pictures.encode(pictures.picture((640, 480)), "PNG", optimize=True)
    assert plain != with_text

    assert ingest_image(plain) is ingest_image(with_text)
    assert count_images() == 1


def test_an_ingested_image_is_flushed_but_not_committed(app):
    image = ingest_image(pictures.jpeg())
    assert image.id is not None

    db.session.rollback()

    assert count_images() == 0


def test_derivatives_are_named_by_content_hash(app, media_dir):
    image = ingest_image(pictures.png((1000, 500)))

    keys = [derivative_key(image.sha256, width) for width in DERIVATIVE_WIDTHS]
    assert files_under(media_dir) == sorted(keys)
    assert keys[1] == f"images/{image.sha256[:2]}/{image.sha256}-600.webp"
    with app.test_request_context():
        assert image_url(image) == f"/media/{keys[1]}"
        assert image_url(image, 200) == f"/media/{keys[2]}"
        with pytest.raises(ValueError, match="no derivative"):
            image_url(image, 400)


def test_a_zip_holding_a_picture_is_still_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", pictures.jpeg())

    with pytest.raises(UnsupportedImage):
        process_image(buffer.getvalue())
