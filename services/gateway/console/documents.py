"""The documents attached to what a page shows — a grant's evidence, a KUBE's own papers — as every such page has
them: the list (each with the name it downloads under), the upload form's file sent to the API route that attaches
it, and the download. The service that owns the thing decides who may attach what; the page only shows its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.gateway.console.refusals import Refusal
from services.gateway.console.web import Download, Refused, Result, View
from shared.evidence import download_name


def listed_documents(view: View, route: str, path: Mapping[str, str]) -> list[dict]:
    """What is attached, oldest first, each with the file name its download gets."""
    return [{**document, "filename": download_name(document["kind"], document["sha256"], document["media_type"])}
            for document in view.api(route, path=path)]


def attach_file(view: View, route: str, *, path: Mapping[str, str], query: Mapping[str, Any], wrong: bool,
                page: Callable[..., Result], back: str, done: str) -> Result:
    """The file chosen in the form, sent as the route's body; a refusal — the form's (``wrong``: its other fields
    were not valid) or the service's, in the user's language — is shown on ``page``, else back to it with ``done``.
    """
    upload = view.request.files.get("file")
    if upload is None or not upload.filename or wrong:
        return page(view, refusal=Refusal(400, view._("Choose the file and what it proves."), "file", None),
                    status=400)
    try:
        view.api(route, path=path, query=query, raw=upload.read())
    except Refused as refused:
        return page(view, refusal=refused.refusal, status=refused.refusal.status)
    return view.redirect(back, done=done)


def download_file(view: View, route: str, path: Mapping[str, str]) -> Download:
    """An attached file as stored: the owning service writes the download to its access log first."""
    stored = view.api(route, path=path)
    return Download(stored.content, stored.filename, stored.media_type)

