"""POST /api/v1/imports/bdt: a DTKS/BDT CSV file imported server-side, exactly as `berdaya import-bdt` does.

The import itself (berdaya/cli/bdt_import.py with the registry's reader) is run as a child process of the gateway
(jobs.py): the gateway may not import the registry's code (services stay independent, enforced by import-linter),
and the import is a batch job anyway. The gateway checks before that every household of the file lies in the user's
region, that the registry answers, and bounds the job's time.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from services.gateway.core import Call, Scope
from services.gateway.errors import ApiError, invalid
from services.gateway.jobs import run_cli
from shared.actor import covers
from shared.regions import iter_csv

VILLAGE_COLUMN = "kode_wilayah"
KK_COLUMN = "no_kk"


class CsvRegions(Scope):
    """Every household of the uploaded file must lie in the user's region (the first one outside names its line)."""

    kind = "csv"

    def locate(self, call: Call) -> str | None:
        data: bytes = call.body
        if not data.strip():
            raise invalid("body", "bdt.empty", "send the DTKS/BDT CSV file as the request body (text/csv)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise invalid("body", "bdt.encoding", "the file must be UTF-8 text") from None
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as handle:
            handle.write(text)
        call.resource = Path(handle.name)
        rows = iter_csv(call.resource)
        header = next(rows, None)
        names = [cell.strip().lower() for cell in header[1]] if header else []
        if VILLAGE_COLUMN not in names:
            call.resource.unlink(missing_ok=True)
            raise invalid("body", "bdt.header", f"the header has no {VILLAGE_COLUMN} column")
        column = names.index(VILLAGE_COLUMN)
        scope = call.user.region if call.user else ""
        for line, cells in rows:
            code = cells[column].strip() if len(cells) > column else ""
            if scope and code and not covers(scope, code):
                call.resource.unlink(missing_ok=True)
                raise ApiError(403, "out_of_region", f"line {line}: village {code} is outside region {scope}",
                               field=f"line {line}", rule="region.scope")
        return None


def run_bdt_import(call: Call) -> dict:
    path: Path = call.resource
    jobs = call.gateway.jobs
    try:
        call.rpc("registry", "counts")  # a registry that is down answers 503 now, not after the job's time-out
        user = call.user  # the CLI acts as an operator (the route's only role) of the region it is given,
        # signed as the gateway's user: the import is the gateway's, whoever runs its code
        finished = run_cli(["import-bdt", str(path), "--json", "--by", user.username, "--region", user.region],
                           env={"AMQP_URI": jobs.amqp_uri, "ACTOR_SIGNING_KEY": jobs.actor_signing_key,
                                "ACTOR_ISSUER": "gateway"},
                           timeout_s=jobs.import_timeout_s, what="the import")
    finally:
        path.unlink(missing_ok=True)
    if finished.returncode == 0:
        return json.loads(finished.out)
    message = finished.reason()
    if finished.returncode == 2 and "refused:" in message:
        raise ApiError(409, "conflict", message.split("refused:", 1)[1].strip(), rule="bdt.refused")
    raise ApiError(502, "upstream_error", f"the import failed: {message}")
