"""Scans as the office uploads them: a one-page PDF with a title of its own (so that each test's file, and its
hash, is its own)."""

from __future__ import annotations

import io

from pypdf import PdfWriter


def a_pdf(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
