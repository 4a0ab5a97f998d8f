"""GET /api/v1/audit/*: the auditor's tools, run on the server as `berdaya audit` runs them — verify (each run
recorded in the gateway's database with who ran it), the ledger's head, the state as of a moment, the report.

They read every service's database (the URLs the gateway is configured with for auditing: ``Jobs.audit_urls``)
and replay every event log, so they run as child processes of the gateway (jobs.py), one at a time per gateway
process, bounded by ``AUDIT_TIMEOUT_S``.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from eventlet import tpool

from services.gateway.core import Call, File
from services.gateway.errors import ApiError
from services.gateway.jobs import Finished, run_cli


def run_audit(call: Call, args: list[str], what: str, *, replays: bool = True) -> Finished:
    """Run ``berdaya audit ARGS``; one that replays the logs (``replays``) waits for no other: one at a time."""
    jobs = call.gateway.jobs
    as_of = getattr(call.query, "as_of", None)  # the routes that take a moment
    command = [*args, *(["--as-of", as_of.isoformat()] if as_of else [])]
    if not replays:  # the ledger's head is one row: it never holds up, nor waits for, a replay
        return run_cli(command, env=jobs.audit_env(), timeout_s=jobs.audit_timeout_s, what=what)
    if not jobs.audit_slot.acquire(blocking=False):
        raise ApiError(503, "unavailable", "another audit is running on this gateway; try again when it has "
                                           "finished", headers={"Retry-After": "30"})
    try:
        return run_cli(command, env=jobs.audit_env(), timeout_s=jobs.audit_timeout_s, what=what)
    finally:
        jobs.audit_slot.release()


def verify(call: Call) -> dict:
    """The verification's result, 200 whether it found problems or not (``ok`` says which)."""
    finished = run_audit(call, ["audit", "verify", "--json"], "the verification")
    if finished.returncode in (0, 1):  # 1: it ran and found problems; its JSON says which
        try:
            result = json.loads(finished.out)
        except ValueError:
            pass  # it failed before printing its result: the reason is on stderr
        else:
            call.gateway.store.record_audit_run(call.username, call.query.as_of, result)
            return result
    raise ApiError(502, "upstream_error", f"the verification could not run: {finished.reason()}")


def json_of(call: Call, args: list[str], what: str, *, replays: bool = True) -> dict:
    finished = run_audit(call, args, what, replays=replays)
    if finished.returncode == 0:
        try:
            return json.loads(finished.out)
        except ValueError:
            pass
    raise ApiError(502, "upstream_error", f"{what} could not be read: {finished.reason()}")


def head(call: Call) -> dict:
    return json_of(call, ["audit", "head"], "the ledger's head", replays=False)


def replay(call: Call) -> dict:
    return json_of(call, ["audit", "replay"], "the state as of that moment")


def runs(call: Call) -> list[dict]:
    return [{**run, "at": run["at"].isoformat(), "as_of": run["as_of"] and run["as_of"].isoformat()}
            for run in call.gateway.store.audit_runs()]


def report(call: Call) -> File:
    """The report's CSV files and report.html, zipped (the HTML links to the CSVs beside it)."""
    with tempfile.TemporaryDirectory(prefix="berdaya-audit-report-") as folder:
        finished = run_audit(call, ["audit", "report", "--out", folder], "the report")
        if finished.returncode != 0:
            raise ApiError(502, "upstream_error", f"the report could not be written: {finished.reason()}")
        content = tpool.execute(zipped, Path(folder))  # compressing is CPU work: off the eventlet hub
    moment = call.query.as_of or datetime.now(UTC)
    return File(content, f"berdaya-audit-report-{moment.strftime('%Y%m%dT%H%M%S%z')}.zip")


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
