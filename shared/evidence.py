"""Evidence files as berdaya keeps them: a PDF, JPEG or PNG up to 10 MB, its type read from its first bytes (never
from its name or the type the client declared), an image's metadata stripped — a camera writes the owner's name,
the device's serial number and where it was into EXIF — except, for a monitoring photo, when and where it was
taken, which is what it proves. Pure: bytes in, bytes out.

Stripping works on the file's own segments (a JPEG's APPn/COM, a PNG's text and eXIf chunks) and re-encodes no
pixel: an image without metadata is stored byte for byte as uploaded, and its hash is the uploaded file's.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

from PIL import ExifTags, Image

from shared.errors import ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
MAGIC = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
SUFFIXES = {PDF: "pdf", JPEG: "jpg", PNG: "png"}

# A JPEG's metadata segments: APP1 (EXIF, XMP), APP13 (IPTC), COM; APP0 (JFIF), APP2 (ICC colours) and APP14
# (Adobe colour transform) say how to show the pixels and stay.
JPEG_METADATA = {0xE1, 0xED, 0xFE}
PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
EXIF_HEADER = b"Exif\x00\x00"
# What a monitoring photo keeps of its EXIF: the moment it was taken (and its time zone) and the GPS position.
TAKEN_AT = (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal)


@dataclass(frozen=True)
class Evidence:
    content: bytes
    media_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def accept(content: bytes, keep_time_and_place: bool = False) -> Evidence:
    """The file as it is stored, or a refusal naming what is accepted."""
    if not content:
        raise ValidationFailed("content", "evidence.empty", "the file is empty")
    if len(content) > MAX_BYTES:
        raise ValidationFailed("content", "evidence.too_large", f"the file has {len(content):,} bytes: at most "
                                                                f"{MAX_BYTES:,} (10 MB)")
    media_type = media_type_of(content)
    if media_type == JPEG:
        content = stripped_jpeg(content, keep_time_and_place)
    elif media_type == PNG:
        content = stripped_png(content)
    return Evidence(content, media_type, hashlib.sha256(content).hexdigest())


def media_type_of(content: bytes) -> str:
    for magic, media_type in MAGIC:
        if content.startswith(magic):
            return media_type
    raise ValidationFailed("content", "evidence.type", "only a PDF, JPEG or PNG file is accepted (its content "
                                                       "decides, not its name)")


def download_name(kind: str, sha256: str, media_type: str) -> str:
    """The name a stored file is downloaded under: what it is and the start of its hash. The name it was uploaded
    with is not kept — a scan's file name often names the person on it."""
    return f"{kind}-{sha256[:12]}.{SUFFIXES[media_type]}"


def unreadable(kind: str) -> ValidationFailed:
    return ValidationFailed("content", "evidence.unreadable", f"the file starts as a {kind} but is not a readable "
                                                              f"{kind}")


def stripped_jpeg(content: bytes, keep_time_and_place: bool) -> bytes:
    """The JPEG without its metadata segments (with a monitoring photo's time and place kept, as EXIF)."""
    out, position, kept_exif = bytearray(content[:2]), 2, b""
    while True:
        if position + 4 > len(content) or content[position] != 0xFF:
            raise unreadable("JPEG")
        marker = content[position + 1]
        if marker < 0xC0 or marker == 0xFF:  # not a segment's marker
            raise unreadable("JPEG")
        if marker == 0xDA:  # start of scan: the compressed picture follows, to the end
            break
        length = struct.unpack(">H", content[position + 2:position + 4])[0]
        segment = content[position:position + 2 + length]
        if len(segment) != 2 + length:
            raise unreadable("JPEG")
        if marker not in JPEG_METADATA:
            out += segment
        elif keep_time_and_place and marker == 0xE1 and segment[4:10] == EXIF_HEADER and not kept_exif:
            kept_exif = time_and_place(segment[10:])
        position += 2 + length
    if kept_exif:
        exif = EXIF_HEADER + kept_exif
        out[2:2] = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    return bytes(out + content[position:])


def time_and_place(exif: bytes) -> bytes:
    """Of an EXIF block, the moment the photo was taken and its GPS position only (b"" when it has neither)."""
    loaded, kept = Image.Exif(), Image.Exif()
    loaded.load(exif)
    if ExifTags.Base.DateTime in loaded:
        kept[ExifTags.Base.DateTime] = loaded[ExifTags.Base.DateTime]
    found = False
    for ifd, tags in ((ExifTags.IFD.Exif, TAKEN_AT), (ExifTags.IFD.GPSInfo, None)):
        values = {tag: value for tag, value in loaded.get_ifd(ifd).items() if tags is None or tag in tags}
        if values:
            kept.get_ifd(ifd).update(values)
            found = True
    return kept.tobytes() if found or len(kept) else b""


def stripped_png(content: bytes) -> bytes:
    """The PNG without its text, EXIF and time chunks (the pixels and how to show them stay)."""
    out, position, ended = bytearray(content[:8]), 8, False
    while not ended:
        if position + 12 > len(content):
            raise unreadable("PNG")
        length = struct.unpack(">I", content[position:position + 4])[0]
        kind = content[position + 4:position + 8]
        chunk = content[position:position + 12 + length]
        if len(chunk) != 12 + length or struct.unpack(">I", chunk[-4:])[0] != zlib.crc32(chunk[4:-4]):
            raise unreadable("PNG")
        if kind not in PNG_METADATA:
            out += chunk
        position += 12 + length
        ended = kind == b"IEND"
    return bytes(out)
