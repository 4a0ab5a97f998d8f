"""The console's static files (its CSS and the vendored htmx and Pico CSS), served by the gateway itself.

Links carry the file's content hash (``?v=``, templating.py), so a browser may keep a file for a year: a changed
file has a new link.
"""

from __future__ import annotations

import mimetypes

from werkzeug.wrappers import Response

from services.gateway.console.templating import STATIC

FILES = {path.relative_to(STATIC).as_posix(): path for path in STATIC.rglob("*") if path.is_file()}


def static_response(name: str) -> Response:
    path = FILES.get(name)  # only the files that are there: no path is ever built from the request
    if path is None:
        return Response("not found", status=404, mimetype="text/plain")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), mimetype=media_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"})
