"""The registry as an operator uses it: imports, corrections with history, KUBE groups, searches — and what
grants and training learn from it. Real PostgreSQL and RabbitMQ; services run as nameko containers."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.exceptions import RemoteError

from berdaya.cli.bdt_import import import_bdt
from berdaya.cli.remote import cli_actor
from services.registry.service import RegistryService
from services.registry.synth import write_synthetic_bdt
from shared.backbone import domain_rpc
from shared.config import SERVICES
from shared.errors import from_remote
from shared.regions import builtin_lampung_selatan
from tests.support.households import actor, household, nik, reader
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


def importer(system: System):
    """`berdaya import-bdt --by operator.lamsel --region 18.01`, with the system's operator key."""
    return cli_actor("operator.lamsel", "18.01", signer=system.actor_signer())


@pytest.fixture
def running(system: System) -> System:
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    return system


def refusal(call) -> object:
    with pytest.raises(RemoteError) as raised:
        call()
    error = from_remote(raised.value.exc_type, raised.value.value)
    assert error is not None, raised.value
    return error


def test_a_messy_file_imports_valid_households_whole_reports_every_rejected_row_and_is_idempotent(running, tmp_path):
    clean = io.StringIO()
    summary = write_synthetic_bdt(clean, 300, "18.01", builtin_lampung_selatan(), seed=7, error_share=0.1)
    # The file as it comes from a district office: BOM, CRLF, every field quoted.
    rows = list(csv.reader(io.StringIO(clean.getvalue())))
    path = tmp_path / "dtks.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)

    report = import_bdt(path, running.amqp_uri, importer(running))
    invalid = summary.invalid_households
    assert report.households_rejected == len(invalid) > 0
    assert report.households_imported == 300 - len(invalid)
    assert {row["no_kk"] for row in report.rejected_rows} == set(invalid)
    kk_lines = {}
    for line, row in enumerate(rows[1:], start=2):
        kk_lines.setdefault(row[1], []).append(line)
    assert sorted(r["line"] for r in report.rejected_rows) == sorted(n for kk in invalid for n in kk_lines[kk])
    registered = {kk for (kk,) in running.sql("registry", "SELECT kk FROM households")}
    assert registered.isdisjoint(invalid), "a household with an invalid row was imported"
    people = running.scalar("registry", "SELECT count(*) FROM individuals")
    assert people == report.individuals_imported == summary.individuals - sum(
        len(kk_lines[kk]) for kk in invalid)

    again = import_bdt(path, running.amqp_uri, importer(running))
    assert (again.households_imported, again.unchanged, again.households_rejected) == (0, 300 - len(invalid),
                                                                                      len(invalid))
    assert running.scalar("registry", "SELECT count(*) FROM registry_events") == 1 + 300 - len(invalid)
    with running.rpc() as rpc:
        eventually(lambda: rpc.grants.households_summary()["households"] == 300 - len(invalid))
        eventually(lambda: rpc.training.individuals_summary()["individuals"] == people)


def test_a_nik_registered_in_another_household_is_refused_naming_both_kks(running):
    with running.rpc() as rpc:
        rpc.registry.register_household(household(1))
        claimant = household(2)
        claimant["members"][1] = household(1)["members"][1]
        error = refusal(lambda: rpc.registry.register_household(claimant))
        assert error.code == "conflict" and error.details["kks"] == [household(1)["kk"], household(2)["kk"]]
        assert rpc.registry.household(reader(), household(2)["kk"]) is None


def test_a_nik_registered_in_another_region_is_refused_without_naming_that_household(running):
    with running.rpc() as rpc:
        kalianda = household(3)  # Lampung Selatan, 18.01
        rpc.registry.register_household(kalianda)
        claimant = {**household(4, village="18.02.01.2001"), "actor": actor("operator.lamteng", region="18.02")}
        claimant["members"][0] = kalianda["members"][0]
        error = refusal(lambda: rpc.registry.register_household(claimant))
        assert error.code == "conflict" and error.details["kks"] == [claimant["kk"]]
        assert kalianda["kk"] not in error.message and kalianda["members"][0]["name"] not in error.message
        assert rpc.registry.household(reader(), claimant["kk"]) is None


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (lambda h: h["members"][0].update(nik="9999" + h["members"][0]["nik"][4:]), "nik", "nik.regency_unknown"),
        (lambda h: h["members"][0].update(sex="L"), "nik", "nik.sex_mismatch"),
        (lambda h: h["members"][0].update(birth_date="1990-01-01"), "nik", "nik.birth_date_mismatch"),
        (lambda h: h.update(village_code="18.01.99.2001"), "village_code", "village.unknown"),
        (lambda h: h.update(kk="9999" + h["kk"][4:]), "kk", "kk.region_unknown"),
        (lambda h: h.update(decile=11), "decile", "decile.less_than_equal"),
        (lambda h: h["members"][1].update(relation="Sepupu"), "members.1.relation", "members.1.relation.literal_error"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field_and_rule(running, change, field, rule):
    payload = household(3)
    change(payload)
    with running.rpc() as rpc:
        error = refusal(lambda: rpc.registry.register_household(payload))
    assert (error.field, error.rule) == (field, rule)
    assert running.scalar("registry", "SELECT count(*) FROM households") == 0


def test_a_households_changes_are_its_history_and_reach_grants_and_training(running):
    payload = household(4)
    kk, mother, son = payload["kk"], payload["members"][0]["nik"], payload["members"][1]["nik"]
    baby = {"nik": "1801064103250007", "name": "Putri Ayu", "sex": "P", "birth_date": "2025-03-01",
            "relation": "Anak"}
    with running.rpc() as rpc:
        rpc.registry.register_household(payload)
        op_a, op_b = actor("operator.a"), actor("operator.b")
        rpc.registry.add_member({"kk": kk, "member": baby, "reason": "birth", "actor": op_a})
        rpc.registry.correct_member({"kk": kk, "nik": mother, "changes": {"name": "Ibu Siti Rahayu"},
                                     "reason": "ejaan sesuai KTP", "actor": op_b})
        rpc.registry.remove_member({"kk": kk, "nik": son, "reason": "moved_out", "actor": op_a})
        rpc.registry.change_decile({"kk": kk, "decile": 5, "actor": op_b})
        error = refusal(lambda: rpc.registry.remove_member({"kk": kk, "nik": mother, "reason": "death",
                                                            "actor": op_a}))
        assert error.rule == "household.one_head"
        rpc.registry.remove_member({"kk": kk, "nik": mother, "reason": "death", "actor": op_a,
                                    "new_head_nik": baby["nik"]})

        history = rpc.registry.household_history(reader(), kk)
        assert [(h["event"], h["by"]) for h in history] == [
            ("Registered", "operator.lamsel"), ("MemberAdded", "operator.a"), ("MemberCorrected", "operator.b"),
            ("MemberRemoved", "operator.a"), ("DecileChanged", "operator.b"), ("MemberRemoved", "operator.a")]
        # Since class_version 2 a correction also carries the household's KK and the member as corrected (with the
        # id the registry gave them at registration).
        registered = history[0]["details"]["members"][0]
        assert registered["nik"] == mother and uuid.UUID(registered["person_id"])
        assert history[2]["details"] == {"nik": mother, "changes": {"name": "Ibu Siti Rahayu"},
                                         "reason": "ejaan sesuai KTP", "by": "operator.b", "kk": kk,
                                         "member": {**payload["members"][0], "name": "Ibu Siti Rahayu",
                                                    "marital_status": "", "occupation": "",
                                                    "person_id": registered["person_id"]}}
        assert all(h["at"].endswith("+00:00") for h in history)
        now = rpc.registry.household(reader(), kk)
        assert [(m["nik"], m["relation"]) for m in now["members"]] == [(baby["nik"], "Kepala Keluarga")]
        assert rpc.registry.household(reader(), now["household_id"]) == now  # by its id, as links name it
        ids = {m["nik"]: m["person_id"] for h in history for m in
               [*h["details"].get("members", ()), *([h["details"]["member"]] if "member" in h["details"] else ())]}

        # Grants and training know the household and its people by their ids only.
        eventually(lambda: (seen := rpc.grants.household(now["household_id"])) is not None  # may not have it yet
                   and (seen["decile"], seen["member_count"]) == (5, 1))
        eventually(lambda: (rpc.training.individual(ids[mother]) or {}).get("status") == "left")
        assert rpc.training.individual(ids[mother])["left_reason"] == "death"
        assert rpc.training.individual(ids[baby["nik"]])["status"] == "active"


def eligible_households(rpc, count: int, village: str, start: int) -> list[dict]:
    """Households of women aged 18–59 in decile ≤ 4, registered for a KUBE."""
    members = []
    for number in range(start, start + count):
        payload = household(number, village=village, decile=2)
        rpc.registry.register_household(payload)
        members.append({"kk": payload["kk"], "representative_nik": payload["members"][0]["nik"]})
    return members


def group(name: str, village: str, members: list[dict], **changes) -> dict:
    niks = [m["representative_nik"] for m in members]
    return {"name": name, "village_code": village, "business_type": "jahit", "kind": "perempuan",
            "members": members, "roles": {"ketua": niks[0], "sekretaris": niks[1], "bendahara": niks[2]},
            "bank_account": {"bank": "BRI", "number": "0123-01-000001-30-1", "holder": f"{name}"},
            "sk_kades": "140/12/SK/2026", "actor": actor("operator.lamsel"), **changes}


def test_kube_groups_are_formed_only_by_eligible_households_and_known_downstream(running):
    village = "18.01.06.2001"
    with running.rpc() as rpc:
        members = eligible_households(rpc, 8, village, start=100)
        richer = household(120, village=village, decile=7)
        rpc.registry.register_household(richer)
        richer_member = {"kk": richer["kk"], "representative_nik": richer["members"][0]["nik"]}
        with_husband = household(122, village=village)
        husband = {"nik": nik("180106", date(1980, 5, 5), "L", 9001), "name": "Pak Joko", "sex": "L",
                   "birth_date": "1980-05-05", "relation": "Suami"}
        with_husband["members"].append(husband)
        rpc.registry.register_household(with_husband)
        man_as_rep = {"kk": with_husband["kk"], "representative_nik": husband["nik"]}
        elsewhere = household(121, village="18.01.04.2001")
        rpc.registry.register_household(elsewhere)

        refused = {
            "decile": group("KUBE Melati", village, [*members[:7], richer_member]),
            "women_representative": group("KUBE Melati", village, [*members[:6], man_as_rep]),
            "same_village": group("KUBE Melati", village, [
                *members[:7], {"kk": elsewhere["kk"], "representative_nik": elsewhere["members"][0]["nik"]}]),
            "size": group("KUBE Melati", village, members[:6]),
            "bank_account_holder": group("KUBE Melati", village, members[:7],
                                         bank_account={"bank": "BRI", "number": "12345", "holder": "Ibu Ani"}),
        }
        for rule, payload in refused.items():
            error = refusal(lambda payload=payload: rpc.registry.form_group(payload))
            assert error.rule == f"kube.{rule}", (rule, error.message)
        assert refusal(lambda: rpc.registry.form_group(refused["decile"])).details["kk"] == richer["kk"]

        group_id = rpc.registry.form_group(group("KUBE Mawar", village, members[:7]))
        again = refusal(lambda: rpc.registry.form_group(group("KUBE Kenanga", village, members[1:8])))
        assert again.rule == "kube.one_active_group" and "KUBE Mawar" in again.message

        rpc.registry.change_group_member({"group_id": group_id, "removed_kk": members[0]["kk"],
                                          "added": members[7], "reason": "pindah desa",
                                          "actor": actor("operator.lamsel")})
        shown = rpc.registry.group(reader(), group_id)
        assert shown["roles"]["ketua"] == members[7]["representative_nik"]
        assert len(shown["members"]) == 7 and shown["status"] == "formed"
        # Grants knows the members by their ids only: the households' and their representatives'.
        as_ids = [{"household_id": m["household_id"], "representative_id": m["representative_id"]}
                  for m in shown["members"]]
        eventually(lambda: (rpc.grants.group(group_id) or {}).get("members") == as_ids)

        head = actor("kepala.dinas")
        rpc.registry.dissolve_group({"group_id": group_id, "reason": "anggota tidak aktif", "actor": head})
        assert refusal(lambda: rpc.registry.dissolve_group(
            {"group_id": group_id, "reason": "lagi", "actor": head})).code == "conflict"
        # Dissolved: its households may form another group.
        rpc.registry.form_group(group("KUBE Kenanga", village, members[1:8]))
        eventually(lambda: (rpc.grants.group(group_id) or {}).get("status") == "dissolved")
        assert rpc.registry.groups(village_code="18.01.06")["total"] == 2


def test_people_are_found_by_nik_kk_village_and_name_without_case_or_diacritics(running):
    with running.rpc() as rpc:
        for number in range(10):
            rpc.registry.register_household(household(number, village="18.01.04.2003"))
        special = household(50, village="18.01.04.2003")
        special["members"][0]["name"] = "Nur'aini Éka Putri"
        rpc.registry.register_household(special)

        page = rpc.registry.households_in(reader(), "18.01.04.2003", page=2, size=4)
        assert (page["total"], page["page"], len(page["items"])) == (11, 2, 4)
        all_kks = [h["kk"] for p in (1, 2, 3)
                   for h in rpc.registry.households_in(reader(), "18.01.04.2003", p, 4)["items"]]
        assert sorted(all_kks) == all_kks and len(set(all_kks)) == 11

        for prefix in ("nuraini", "NUR'AINI É", "Nuraini eka"):
            found = rpc.registry.search_people(reader(), prefix)
            assert [p["nik"] for p in found["items"]] == [special["members"][0]["nik"]], prefix
        assert rpc.registry.search_people(reader(), "Ibu", page=1, size=5)["total"] == 10
        assert refusal(lambda: rpc.registry.search_people(reader(), "a")).field == "name"

        person = rpc.registry.person(reader(), special["members"][0]["nik"])
        assert person["kk"] == special["kk"] and person["village_code"] == "18.01.04.2003"
        assert rpc.registry.household(reader(), special["kk"])["members"][0]["name"] == "Nur'aini Éka Putri"
        assert rpc.registry.person(reader(), "1801060000000000") is None


HELD_BATCHES: list[int] = []


class RegistryKilledMidImport(RegistryService):
    """A registry replica that takes the first import batch and is killed before it has stored any of it."""

    @domain_rpc
    def import_households(self, payload: dict) -> dict:
        HELD_BATCHES.append(len(payload["households"]))
        if len(HELD_BATCHES) == 1:
            eventlet.sleep(60)
        return super().import_households(payload)


def test_an_import_batch_lost_with_a_killed_registry_replica_is_sent_again_and_imported_once(system, tmp_path):
    HELD_BATCHES.clear()
    path = tmp_path / "dtks.csv"
    write_synthetic_bdt(path, 30, "18.01", builtin_lampung_selatan(), seed=11, error_share=0.0)
    doomed = ServiceContainer(RegistryKilledMidImport, system.config("registry"))
    doomed.start()
    system.containers.setdefault("registry", []).append(doomed)
    system.import_regions()

    importing = eventlet.spawn(import_bdt, path, system.amqp_uri, importer(system), rpc_timeout=3)
    eventually(lambda: HELD_BATCHES == [30], message="the doomed replica holds the batch")
    system.kill(doomed)
    system.start("registry")
    report = importing.wait()

    assert (report.households_imported, report.households_rejected, report.unchanged) == (30, 0, 0)
    assert HELD_BATCHES == [30]  # the lost request was not delivered again; the resend went to the new replica
    assert system.scalar("registry", "SELECT count(*) FROM households") == 30
    assert system.scalar("registry", "SELECT count(*) FROM registry_events") == 1 + 30  # regions + households
