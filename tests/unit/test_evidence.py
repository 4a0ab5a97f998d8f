"""Evidence files (shared/evidence.py): the type read from the content, the size limit, a damaged file refused,
an image's metadata stripped without touching its pixels — a monitoring photo keeps when and where it was taken."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from shared import evidence
from shared.errors import ValidationFailed


def image(form: str, **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 12), "orange").save(out, form, **options)
    return out.getvalue()


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Siti Aminah"
    exif[ExifTags.Base.Make] = "Samsung"
    exif[ExifTags.Base.DateTime] = "2026:11:30 08:00:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:30 08:00:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "R58M123"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (5.0, 43.0, 12.0)
    return exif


def rule(call) -> str:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.details["rule"]


def test_the_content_decides_the_type_not_the_name():
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    assert evidence.accept(pdf).media_type == evidence.PDF
    assert evidence.accept(image("PNG")).media_type == evidence.PNG
    assert evidence.accept(image("JPEG")).media_type == evidence.JPEG
    for other in (b"MZ\x90\x00" + bytes(64), b"PK\x03\x04zip", b"<html><script>", b"GIF89a", b"\x7fELF\x02"):
        assert rule(lambda content=other: evidence.accept(content)) == "evidence.type"


def test_an_empty_or_too_large_file_is_refused():
    assert rule(lambda: evidence.accept(b"")) == "evidence.empty"
    assert rule(lambda: evidence.accept(b"%PDF-" + bytes(evidence.MAX_BYTES))) == "evidence.too_large"
    assert evidence.accept(b"%PDF-" + bytes(evidence.MAX_BYTES - 5)).size == evidence.MAX_BYTES


def test_a_damaged_image_is_refused():
    png, jpeg = image("PNG"), image("JPEG")
    assert rule(lambda: evidence.accept(png[:40])) == "evidence.unreadable"
    assert rule(lambda: evidence.accept(png[:30] + b"X" + png[31:])) == "evidence.unreadable"  # a CRC fails
    assert rule(lambda: evidence.accept(png[:-12])) == "evidence.unreadable"  # no end
    assert rule(lambda: evidence.accept(jpeg[:3] + b"\x00" + jpeg[4:])) == "evidence.unreadable"  # no marker
    assert rule(lambda: evidence.accept(jpeg[:30])) == "evidence.unreadable"


def test_an_image_without_metadata_is_stored_as_uploaded():
    for content in (image("PNG"), image("JPEG")):
        stored = evidence.accept(content)
        assert stored.content == content and stored.sha256 == hashlib.sha256(content).hexdigest()


def test_metadata_is_stripped_and_the_pixels_kept():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Siti Aminah")
    for content in (image("JPEG", exif=camera_exif().tobytes(), comment=b"HP Siti"),
                    image("PNG", exif=camera_exif().tobytes(), pnginfo=info)):
        stored = evidence.accept(content)
        loaded = Image.open(io.BytesIO(stored.content))
        assert not dict(loaded.getexif()) and "Author" not in loaded.info and "comment" not in loaded.info
        assert loaded.tobytes() == Image.open(io.BytesIO(content)).tobytes()
        assert stored.sha256 == hashlib.sha256(stored.content).hexdigest()


def test_a_monitoring_photo_keeps_when_and_where_it_was_taken_and_nothing_else():
    stored = evidence.accept(image("JPEG", exif=camera_exif().tobytes()), keep_time_and_place=True)
    exif = Image.open(io.BytesIO(stored.content)).getexif()
    assert dict(exif).get(ExifTags.Base.DateTime) == "2026:11:30 08:00:00"
    assert ExifTags.Base.Artist not in exif and ExifTags.Base.Make not in exif
    assert exif.get_ifd(ExifTags.IFD.Exif) == {ExifTags.Base.DateTimeOriginal: "2026:11:30 08:00:00"}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {ExifTags.GPS.GPSLatitude: (5.0, 43.0, 12.0)}
