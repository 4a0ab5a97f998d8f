"""GET /api/v1/audit/*: the auditor's tools, run in the gateway's process with the audit engine (``berdaya.audit``) —
verify (each run recorded in the gateway's database with who ran it), the ledger's head, the state as of a moment,
the report.

They read every service's database read-only (the URLs the gateway is configured with for auditing:
``Jobs.audit_urls``) and replay every event log: CPU work that would stall the eventlet hub, so each runs in a native
thread (``eventlet.tpool``) while the hub keeps answering other requests. A replay holds every aggregate in memory:
one at a time per gateway process; past ``AUDIT_TIMEOUT_S`` the client is told 503 and the run finishes in the
background, still holding the slot.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import eventlet
from eventlet import tpool

from berdaya.audit import replay as audit_replay
from berdaya.audit import verify as audit_verify
from services.gateway.core import Call, File
from services.gateway.errors import ApiError

Result = TypeVar("Result")


def run_audit(call: Call, work: Callable[[dict[str, str]], Result], what: str, *, replays: bool = True) -> Result:
    """Run ``work(urls)`` in a native thread; one that replays the logs (``replays``) waits for no other."""
    jobs = call.gateway.jobs
    urls = {service: url for service, url in jobs.audit_urls.items() if url}
    if not replays:  # the ledger's head is one row: it never holds up, nor waits for, a replay
        return in_thread(work, urls, what)
    if not jobs.audit_slot.acquire(blocking=False):
        raise ApiError(503, "unavailable", "another audit is running on this gateway; try again when it has "
                                           "finished", headers={"Retry-After": "30"})
    running = eventlet.spawn(in_thread, work, urls, what)
    running.link(lambda _: jobs.audit_slot.release())  # when the run ends, not when the client stops waiting
    try:
        with eventlet.Timeout(jobs.audit_timeout_s):
            return running.wait()
    except eventlet.Timeout:
        raise ApiError(503, "unavailable", f"{what} did not finish within {jobs.audit_timeout_s:g} s; it goes "
                                           "on in the background: try again later",
                       headers={"Retry-After": "60"}) from None


def in_thread(work: Callable[[dict[str, str]], Result], urls: dict[str, str], what: str) -> Result:
    try:
        return tpool.execute(work, urls)
    except Exception as failure:  # a database that does not answer, a role without rights: say which
        said = (str(failure).splitlines() or [""])[0]  # a database error's first line; the SQL around it is noise
        raise ApiError(502, "upstream_error", f"{what} could not run: {type(failure).__name__}: {said}") from None


def verify(call: Call) -> dict:
    """The verification's result, 200 whether it found problems or not (``ok`` says which)."""
    as_of = call.query.as_of
    result = run_audit(call, lambda urls: audit_verify.verify(as_of, urls), "the verification")
    call.gateway.store.record_audit_run(call.username, as_of, result)
    return result


def head(call: Call) -> dict:
    return run_audit(call, audit_verify.ledger_head, "the ledger's head", replays=False)


def replay(call: Call) -> dict:
    as_of = call.query.as_of
    return run_audit(call, lambda urls: audit_replay.state_as_of(as_of, urls), "the state as of that moment")


def runs(call: Call) -> list[dict]:
    return [{**run, "at": run["at"].isoformat(), "as_of": run["as_of"] and run["as_of"].isoformat()}
            for run in call.gateway.store.audit_runs()]


def report(call: Call) -> File:
    """The report's CSV files and report.html, zipped (the HTML links to the CSVs beside it)."""
    from berdaya.audit.report_files import write_report  # matplotlib: loaded by the first report, not at start-up

    as_of = call.query.as_of

    def written(urls: dict[str, str]) -> bytes:
        with tempfile.TemporaryDirectory(prefix="berdaya-audit-report-") as folder:
            write_report(Path(folder), as_of, urls)
            return zipped(Path(folder))

    content = run_audit(call, written, "the report")
    moment = as_of or datetime.now(UTC)
    return File(content, f"berdaya-audit-report-{moment.strftime('%Y%m%dT%H%M%S%z')}.zip")


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
