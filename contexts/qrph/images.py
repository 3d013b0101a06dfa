"""QR code images of a payload (segno): PNG bytes or SVG text. Error correction M, the level
QR Ph codes are usually printed with; the payload is encoded as UTF-8 (multibyte names)."""

from __future__ import annotations

import io

import segno

PNG, SVG = "png", "svg"
CONTENT_TYPES = {PNG: "image/png", SVG: "image/svg+xml"}


def qr_image_render(payload: str, *, kind: str = PNG, scale: int = 8) -> bytes:
    code = segno.make_qr(payload, error="m", encoding="utf-8")
    out = io.BytesIO()
    if kind == SVG:
        code.save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, title="QR Ph")
    else:
        code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
