"""The demo's evidence (docs/documents.md): the signed BAST of the equipment delivery, scanned, attached to the
delivery it proves — its SHA-256 on the money ledger — and read back as stored, as an auditor downloads it."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw


def bast_scan() -> bytes:
    """A small PNG standing in for the scan of a signed handover record."""
    page = Image.new("L", (420, 180), 255)
    draw = ImageDraw.Draw(page)
    draw.text((20, 20), "BERITA ACARA SERAH TERIMA BARANG", fill=0)
    draw.text((20, 60), "Pihak Pertama: Dinas Sosial Kab. Lampung Selatan", fill=0)
    draw.text((20, 90), "Pihak Kedua: Ketua KUBE", fill=0)
    draw.text((20, 140), "ttd.                      ttd.", fill=0)
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def attach_bast_scan(rpc, say, proposal_id: str | None, actor: dict) -> dict | None:
    """Attach the scan to the grant's first equipment delivery as ``actor``, and download it again."""
    if proposal_id is None:
        return None
    delivery = next(p for p in rpc.grants.grant(proposal_id)["payments"] if p["kind"] == "equipment")
    scan = bast_scan()
    attached = rpc.grants.attach_document({
        "actor": actor, "proposal_id": proposal_id, "kind": "bast", "payment_id": delivery["payment_id"],
        "content_base64": base64.b64encode(scan).decode()})
    stored = rpc.grants.document({"actor": actor, "purpose": "cli.demo.evidence"}, proposal_id, attached["sha256"])
    same = base64.b64decode(stored["content_base64"]) == scan
    say(f"BAST scan attached to the equipment delivery ({attached['size']:,} bytes, SHA-256 "
        f"{attached['sha256'][:16]}… on the ledger); downloaded {'as uploaded' if same else 'CHANGED'}")
    return {"kind": attached["kind"], "sha256": attached["sha256"], "size": attached["size"],
            "media_type": attached["media_type"], "payment_id": delivery["payment_id"], "downloaded_intact": same}
