"""The demo's DTSEN update (docs/procedures/dtsen-updates.md): a newer file arrives, in the office's own export
(with a status column); a KUBE member household risen above the decile limit is held for a person, a household in
no KUBE that the file lists as deceased is removed at once; the same file again changes nothing; the operator
confirms the held change."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from berdaya.cli.bdt_import import import_bdt
from berdaya.cli.remote import CliActor
from services.registry.bdt import BDT_COLUMNS, BdtLayout, HouseholdRecord

STATUS_COLUMN = "keterangan"
LAYOUT = BdtLayout(status_column=STATUS_COLUMN)
RAISED_DECILE = 7


def write_update(path: Path, records: list[HouseholdRecord], statuses: dict[str, str]) -> Path:
    """The households as the newer file lists them, with the status column (KK → its cell)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*BDT_COLUMNS, STATUS_COLUMN])
        for r in records:
            writer.writerows([r.dtks_id, r.kk, m.nik, m.name, m.sex, m.birth_date.isoformat(), m.relation,
                              m.marital_status, m.occupation, r.village_code, r.address, r.decile,
                              statuses.get(r.kk, "")] for m in r.members)
    return path


def dtsen_update(rpc, amqp_uri: str, operator: CliActor, actor: dict, say, path: Path,
                 records: list[HouseholdRecord], in_kube: HouseholdRecord, alone: HouseholdRecord) -> dict:
    """``in_kube`` (a member household of a KUBE) rises above the decile limit; ``alone`` (in none) is removed."""
    newer = [replace(r, decile=RAISED_DECILE) if r.kk == in_kube.kk else r for r in records]
    write_update(path, newer, {alone.kk: "meninggal"})
    report = import_bdt(path, amqp_uri, operator, layout=LAYOUT).as_dict()
    say(f"DTSEN update {path.name}: {report['households_changed']} households changed "
        f"({', '.join(f'{kind} {n}' for kind, n in report['changes'].items()) or 'none applied'}), "
        f"{report['held_for_review']} held for review")
    again = import_bdt(path, amqp_uri, operator, layout=LAYOUT).as_dict()
    say(f"the same update again: {again['households_changed']} changed, {again['unchanged']} unchanged")
    reader = {"actor": actor, "purpose": "cli.demo.dtsen"}
    held = [c for c in rpc.registry.held_changes(reader, actor["region"]) if c["kk"] == in_kube.kk]
    for change in held:
        rpc.registry.decide_held_change({"change_id": change["change_id"], "decision": "confirmed", "actor": actor})
        say(f"held for review: {change['kind']} ({change['rule']}) of a KUBE {change['group_name']} household — "
            f"confirmed by {actor['user']}")
    after = rpc.registry.household(reader, in_kube.kk)
    removed = rpc.registry.household(reader, alone.kk)
    return {"households_changed": report["households_changed"], "changes": report["changes"],
            "held_for_review": report["held_for_review"], "held": [(c["kind"], c["rule"]) for c in held],
            "confirmed_decile": after["decile"], "removed_status": removed["bdt_status"],
            "rerun_changed": again["households_changed"]}
