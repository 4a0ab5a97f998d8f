"""Printouts as PDF: a page of the console's templates (templates/print/, in Indonesian) under the office's
letterhead, with the verification code of the event it stands on and a QR of the address that checks it
(the console's public page of ``GET /verify/{code}``), rendered by WeasyPrint.

The letterhead is configuration (``LETTERHEAD_FILE``, YAML: office, parent, address, city, head's title, an
optional logo path); the address the QR points at is ``PUBLIC_URL``. WeasyPrint renders in a native thread: it is
CPU work that would otherwise stop every other request of this eventlet process.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
import yaml
from eventlet import tpool
from weasyprint import HTML

DEFAULT_LETTERHEAD = Path(__file__).resolve().parent / "letterhead.yaml"
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per rendering step otherwise


@dataclass(frozen=True)
class Letterhead:
    parent: str  # the government the office belongs to, e.g. PEMERINTAH KABUPATEN LAMPUNG SELATAN
    office: str
    address: str
    city: str  # where letters are signed
    head_title: str  # who signs for the office
    logo: str | None = None  # a data: URI of the logo file, if one is configured


def read_letterhead(path: str | Path | None) -> Letterhead:
    """The letterhead file (YAML); its logo, if named, relative to the file and embedded in every printout."""
    path = Path(path) if path else DEFAULT_LETTERHEAD
    fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    logo = fields.pop("logo", None)
    if logo:
        logo_path = path.parent / logo
        media_type = mimetypes.guess_type(logo_path.name)[0] or "image/png"
        logo = f"data:{media_type};base64,{base64.b64encode(logo_path.read_bytes()).decode('ascii')}"
    return Letterhead(logo=logo, **fields)


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as an inline SVG image (no file, no network when the PDF is rendered)."""
    return segno.make(text, error="m").svg_data_uri(scale=4, border=2)


class Printer:
    def __init__(self, templates: Any, letterhead: Letterhead, public_url: str) -> None:
        self.templates = templates  # the console's (console/templating.py)
        self.letterhead = letterhead
        self.public_url = public_url.rstrip("/")

    def verify_url(self, code: str) -> str:
        """The console's page of the code (public, in Indonesian; ``GET /verify/{code}`` is the same as JSON)."""
        return f"{self.public_url}/console/verify/{code}"

    def html(self, template: str, code: str, **context: Any) -> str:
        url = self.verify_url(code)
        return self.templates.render_printout(f"print/{template}", letterhead=self.letterhead, code=code,
                                              verify_url=url, qr=qr_data_uri(url), **context)

    def pdf(self, template: str, code: str, **context: Any) -> bytes:
        html = self.html(template, code, **context)
        return tpool.execute(lambda: HTML(string=html).write_pdf())
