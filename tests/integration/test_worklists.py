"""The read side the console's worklists stand on, as users see it: the desk's search, the households a KUBE may be
formed from, the reviewer's queue, the treasurer's payables, the LPJ due and the dashboards — real PostgreSQL and
RabbitMQ, services as nameko containers."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.grants.monitoring import add_months
from shared.config import SERVICES
from shared.ids import jakarta_today
from shared.text import fold
from tests.integration.test_grants_training import (
    OPERATOR,
    OPERATOR_2,
    TREASURER,
    VERIFIER,
    approved_proposal,
    complete_family_school,
    draft,
    funded_ready_group,
    pay,
    refusal,
)
from tests.integration.test_registry import eligible_households, group
from tests.support.households import actor, household, nik, person_id, reader
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

KALIANDA = "18.01.06.2001"  # Jondong, Kalianda
NATAR = "18.01.04.2003"  # Pemanggilan, Natar
MAJA = "18.01.06.2005"  # Maja, Kalianda
LAMPUNG_TENGAH = "18.02.01.2001"  # another regency


@pytest.fixture
def running(system: System) -> System:
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    return system


def member(name: str, sex: str, born: date, relation: str, serial: int, occupation: str = "") -> dict:
    return {"nik": nik("180106", born, sex, serial), "name": name, "sex": sex, "birth_date": born.isoformat(),
            "relation": relation, "occupation": occupation}


def registered(rpc, number: int, village: str, members: list[dict] | None = None, names: tuple[str, ...] = (),
               decile: int = 2) -> dict:
    """Household ``number`` (a mother and her son unless ``members`` are given), its members renamed ``names``."""
    payload = household(number, village=village, decile=decile)
    if members is not None:
        payload["members"] = members
    for person, name in zip(payload["members"], names, strict=False):
        person["name"] = name
    rpc.registry.register_household(payload)
    return payload


# --- the desk's search -----------------------------------------------------------------------------------------

def test_the_desk_finds_people_by_any_part_of_a_name_by_nik_and_by_kk_within_its_region(running):
    with running.rpc() as rpc:
        siti = registered(rpc, 1, KALIANDA, names=("Siti Nur'aini", "Ahmad Fauzi"))
        nuraini = registered(rpc, 2, NATAR, names=("NURAINI", "Nuraini Putra Lestari"))
        registered(rpc, 3, NATAR, names=("Dewi Sukmanuraini", "Bayu"))
        registered(rpc, 4, KALIANDA, names=("Ayu Nuraini Kusumawardhani", "Eko"))
        outside = registered(rpc, 5, LAMPUNG_TENGAH, names=("Siti Nuraini", "Joko"))

        def names(query: str, region: str | None = "18.01", **paging) -> list[str]:
            return [p["name"] for p in rpc.registry.find_people(reader(), query, region, **paging)["items"]]

        # The whole name, then its start, then a word's start (closest first), then inside a word; not Lampung
        # Tengah's Siti Nuraini for a Lampung Selatan desk — and without case, diacritics or the apostrophe.
        ranked = ["NURAINI", "Nuraini Putra Lestari", "Siti Nur'aini", "Ayu Nuraini Kusumawardhani",
                  "Dewi Sukmanuraini"]
        for query in ("nur'aini", "NURAINI", " Nur-Aini "):
            assert names(query) == ranked, query
        assert "Siti Nuraini" in names("nuraini", None) and "Siti Nuraini" in names("nuraini", "18")
        assert names("Sítì") == ["Siti Nur'aini"]
        assert names("ukmanur", KALIANDA) == [] and names("ukmanur", NATAR) == ["Dewi Sukmanuraini"]

        page = rpc.registry.find_people(reader(), "nuraini", "18.01", page=2, size=2)
        assert (page["total"], page["page"], page["size"]) == (5, 2, 2)
        assert [p["name"] for p in page["items"]] == ranked[2:4]

        # Sixteen digits: a NIK finds its person, a KK (spaces allowed) its household, head first.
        kk = nuraini["kk"]
        found = rpc.registry.find_people(reader(), f"{kk[:4]} {kk[4:8]} {kk[8:12]} {kk[12:]}", "18.01")["items"]
        assert [(p["name"], p["relation"]) for p in found] == [("NURAINI", "Kepala Keluarga"),
                                                               ("Nuraini Putra Lestari", "Anak")]
        assert found[0] == {
            "nik": nuraini["members"][0]["nik"], "name": "NURAINI", "sex": "P",
            "birth_date": nuraini["members"][0]["birth_date"], "relation": "Kepala Keluarga", "kk": kk,
            "village_code": NATAR, "decile": 2, "bdt_status": "active",
            "household_id": rpc.registry.household(reader(), kk)["household_id"]}
        son = siti["members"][1]["nik"]
        assert [p["nik"] for p in rpc.registry.find_people(reader(), son)["items"]] == [son]
        assert rpc.registry.find_people(reader(), outside["kk"], "18.01")["total"] == 0
        assert rpc.registry.find_people(reader(), outside["kk"])["total"] == 2

        for too_short in ("a", " ' ", "É"):
            error = refusal(lambda q=too_short: rpc.registry.find_people(reader(), q))
            assert (error.field, error.rule) == ("q", "search.too_short")


NAMES = ("Siti Nur'aini", "Nuraini", "Dewi Sukmanuraini", "Muhammad Rizky Pratama", "Ni Kadek Ayu Ariani",
         "Sri Rahayu", "Élia Anggraini", "Yohanes O'Neil", "I Gusti Ngurah Rai", "Putri Ayu Lestari",
         "Nur Hidayah", "Agus Salim", "Ratna Sari Dewi", "Ayu Ting-Ting", "Hj. Rahmawati")
ACCENTS = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")


def tier(name_key: str, key: str) -> int:
    return 0 if name_key == key else 1 if name_key.startswith(key) else 2 if f" {key}" in name_key else 3


@st.composite
def fragments(draw) -> str:
    """Part of one of the names, typed the way people type it: any case, accents, punctuation, spaces."""
    folded = fold(draw(st.sampled_from(NAMES)))
    start = draw(st.integers(0, len(folded) - 2))
    fragment = folded[start:draw(st.integers(start + 2, len(folded)))]
    if draw(st.booleans()):
        fragment = fragment.upper()
    if draw(st.booleans()):
        fragment = fragment.translate(ACCENTS)
    cut, mark = draw(st.integers(0, len(fragment))), draw(st.sampled_from(("", "'", "-", ".")))
    return f" {fragment[:cut]}{mark}{fragment[cut:]} "


def test_a_name_search_finds_exactly_the_names_containing_the_fragment_best_matches_first(running):
    with running.rpc() as rpc:
        people = {}
        for number, (first, second) in enumerate(zip(NAMES[::2], (*NAMES[1::2], "Bayu"), strict=True), start=10):
            payload = registered(rpc, number, NATAR, names=(first, second))
            people |= {m["nik"]: m["name"] for m in payload["members"]}

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(fragments())
        def search(query: str) -> None:
            key = fold(query)
            assume(len(key) >= 2)  # a space and a letter of the name fold to one letter
            found = rpc.registry.find_people(reader(), query, "18.01", size=100)
            assert {p["nik"] for p in found["items"]} == {n for n, name in people.items() if key in fold(name)}
            assert found["total"] == len(found["items"])
            tiers = [tier(fold(p["name"]), key) for p in found["items"]]
            assert tiers == sorted(tiers), (query, [p["name"] for p in found["items"]])

        search()


# --- forming a KUBE ---------------------------------------------------------------------------------------------

def test_the_candidates_of_a_village_show_who_may_represent_each_household_and_why_others_may_not(running):
    today = jakarta_today()
    years_ago = lambda years: date(today.year - years, 1, 1)  # noqa: E731  (so many years old, whatever the day)
    with running.rpc() as rpc:
        in_group = eligible_households(rpc, 7, MAJA, start=100)
        rpc.registry.form_group(group("KUBE Anggrek", MAJA, in_group))
        ready = registered(rpc, 110, MAJA)
        richer = registered(rpc, 111, MAJA, decile=6)
        removed = registered(rpc, 112, MAJA)
        rpc.registry.change_status({"kk": removed["kk"], "status": "removed", "reason": "pindah",
                                    "actor": actor("op")})
        elderly = registered(rpc, 113, MAJA, members=[
            member("Mbah Sumi", "P", years_ago(65), "Kepala Keluarga", 1131),
            member("Pak Darto", "L", years_ago(40), "Suami", 1132)])
        men = registered(rpc, 114, MAJA, members=[
            member("Pak Slamet", "L", years_ago(40), "Kepala Keluarga", 1141),
            member("Yusuf", "L", years_ago(10), "Anak", 1142)])
        civil_servant = registered(rpc, 115, MAJA, members=[
            member("Bu Ratna", "P", years_ago(35), "Kepala Keluarga", 1151, occupation="Pegawai Negeri Sipil"),
            member("Ayu", "P", years_ago(5), "Anak", 1152)])
        registered(rpc, 116, KALIANDA)  # another village

        candidates = rpc.registry.group_candidates(reader(), MAJA)
        assert [c["kk"] for c in candidates] == sorted([m["kk"] for m in in_group] + [
            h["kk"] for h in (ready, richer, removed, elderly, men, civil_servant)])
        by_kk = {c["kk"]: c for c in candidates}

        def outcome(payload: dict, kind: str = "perempuan") -> tuple:
            shown = by_kk[payload["kk"]] if kind == "perempuan" else next(
                c for c in rpc.registry.group_candidates(reader(), MAJA, kind) if c["kk"] == payload["kk"])
            excluded = shown["excluded"]
            return ([e["nik"] for e in shown["eligible"]],
                    excluded and (excluded["rule"], excluded["details"].get("nik")))

        mother = ready["members"][0]
        assert outcome(ready) == ([mother["nik"]], None)
        assert by_kk[ready["kk"]]["eligible"][0]["name"] == mother["name"]
        assert outcome(richer) == ([], ("kube.decile", None))
        assert "decile 6 is above the limit 4" in by_kk[richer["kk"]]["excluded"]["message"]
        details = by_kk[richer["kk"]]["excluded"]["details"]
        assert {"kk": richer["kk"], "decile": 6, "limit": 4}.items() <= details.items()
        assert outcome(removed) == ([], ("kube.bdt_active", None))
        assert all(outcome({"kk": m["kk"]}) == ([], ("kube.one_active_group", None)) for m in in_group)
        assert by_kk[in_group[0]["kk"]]["active_group"] == "KUBE Anggrek"
        # Nobody of 18–59 who is a woman: the sentence is about the woman who is too old, not the man.
        assert outcome(elderly) == ([], ("kube.representative_age", elderly["members"][0]["nik"]))
        assert outcome(men) == ([], ("kube.women_representative", men["members"][0]["nik"]))
        assert outcome(civil_servant) == ([], ("kube.occupation", civil_servant["members"][0]["nik"]))
        # A general KUBE takes the men.
        assert outcome(men, "umum") == ([men["members"][0]["nik"]], None)
        assert outcome(elderly, "umum") == ([elderly["members"][1]["nik"]], None)

        shown = by_kk[elderly["kk"]]["members"]
        assert [(m["name"], m["age"], m["relation"]) for m in shown] == [("Mbah Sumi", 65, "Kepala Keluarga"),
                                                                          ("Pak Darto", 40, "Suami")]
        assert refusal(lambda: rpc.registry.group_candidates(reader(), "18.01.06.9999")).rule == "village.unknown"
        assert refusal(lambda: rpc.registry.group_candidates(reader(), MAJA, "campuran")).rule == "kube.kind"


# --- the reviewer's queue ---------------------------------------------------------------------------------------

def test_the_queue_shows_the_longest_waiting_proposal_first_and_a_flag_does_not_move_it(running):
    with running.rpc() as rpc:
        proposals = {}
        for name, start in (("KUBE A", 300), ("KUBE B", 320), ("KUBE C", 340)):
            group_id, members = funded_ready_group(rpc, start=start, name=name)
            proposals[name] = (draft(rpc, group_id), members)
        a, b, c = (proposals[name][0] for name in ("KUBE A", "KUBE B", "KUBE C"))
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": b})
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": a})

        def listed(**options) -> list[str]:
            return [p["proposal_id"] for p in rpc.grants.proposals("submitted", "18.01", **options)["items"]]

        assert listed(oldest_first=True) == [b, a] and listed() == [a, b]
        # B's household moves up a decile: B is flagged (changed), but has not waited less.
        rpc.registry.change_decile({"kk": proposals["KUBE B"][1][0]["kk"], "decile": 6,
                                    "actor": actor("pusdatin")})
        eventually(lambda: rpc.grants.proposal(b)["flags"])
        assert listed() == [b, a] and listed(oldest_first=True) == [b, a]

        rpc.grants.return_for_revision({"actor": VERIFIER, "proposal_id": a, "reason": "RAB kurang rinci"})
        returned = rpc.grants.proposals("returned", "18.01")["items"]
        assert [(p["proposal_id"], p["times_returned"], p["group_name"]) for p in returned] == [(a, 1, "KUBE A")]
        assert returned[0]["updated_at"].endswith("+00:00")
        assert rpc.grants.proposal_counts("18.01") == {"draft": 1, "submitted": 1, "returned": 1}
        assert rpc.grants.proposal_counts("18.02") == {} and rpc.grants.proposals(region="18.02")["total"] == 0
        assert c in [p["proposal_id"] for p in rpc.grants.proposals("draft")["items"]]


# --- the treasurer's and the operator's worklists, and the dashboards ------------------------------------------

def test_a_grant_moves_through_the_payables_and_the_lpj_due_and_the_dashboards_count_it(running):
    with running.rpc() as rpc:
        group_id, members, proposal_id = approved_proposal(rpc, start=200)

        def payables(region: str = "18.01") -> list[dict]:
            return rpc.grants.payables(region)

        def tranches() -> list[tuple]:
            return [(t["number"], t["status"], t["payable"], t["blocked_by"]) for t in payables()[0]["tranches"]]

        [grant] = payables()
        assert {key: grant[key] for key in ("proposal_id", "group_id", "group_name", "village_code", "amount_rp",
                                            "form", "disbursed_rp")} == {
            "proposal_id": proposal_id, "group_id": group_id, "group_name": "KUBE Mawar", "village_code": KALIANDA,
            "amount_rp": 14_000_000, "form": "cash", "disbursed_rp": 0}
        assert grant["approved_at"].endswith("+00:00") and payables("18.02") == []
        assert tranches() == [(1, "pending", True, None), (2, "pending", False, "tranche.order")]
        assert [t["amount_rp"] for t in grant["tranches"]] == [9_800_000, 4_200_000]

        # The bank refuses the first transfer: tranche 1 is payable again, its failure counted.
        failed = rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 1,
                                      "idempotency_key": "worklist-attempt-1"})
        assert payables()[0]["tranches"][0]["payment_id"] == failed["payment_id"]
        assert payables()[0]["tranches"][0]["started_by"] == TREASURER["user"]  # who may not confirm it
        assert tranches()[0] == (1, "instructed", False, None)
        rpc.grants.fail({"actor": TREASURER, "proposal_id": proposal_id, "payment_id": failed["payment_id"],
                         "reason": "rekening tidak aktif"})
        first = payables()[0]["tranches"][0]
        assert (first["status"], first["payable"], first["failed"], first["payment_id"]) == ("pending", True, 1, None)

        paid = pay(rpc, proposal_id, 1, "worklist-attempt-2")
        assert payables()[0]["tranches"][0]["payment_id"] == paid["payment_id"]
        assert tranches() == [(1, "confirmed", False, None), (2, "pending", False, "tranche.lpj")]
        due = {"proposal_id": proposal_id, "group_name": "KUBE Mawar", "village_code": KALIANDA, "tranche": 1,
               "paid_on": jakarta_today().isoformat(), "days_since_paid": 0, "lpj": None, "overdue": False}
        assert rpc.grants.lpj_due("18.01") == [due] and rpc.grants.lpj_due("18.02") == []

        rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": [
            {"description": "Mesin jahit", "receipt_number": "INV-9", "receipt_date": jakarta_today().isoformat(),
             "amount_rp": 9_800_000}]})
        assert rpc.grants.lpj_due("18.01") == [{**due, "lpj": "submitted"}]
        rpc.grants.review_lpj({"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True})
        assert rpc.grants.lpj_due("18.01") == []
        assert tranches()[1] == (2, "pending", False, "tranche.family_school")

        # The Family School: six of the seven representatives complete it (≥ 80 %), the gate opens.
        cohort_id = eventually(lambda: rpc.training.cohorts(KALIANDA)["items"])[0]["cohort_id"]
        eventually(lambda: len(rpc.training.cohort(cohort_id)["participants"]) == 7)
        representatives = [person_id(rpc, m["representative_nik"]) for m in members]  # training knows ids
        complete_family_school(rpc, cohort_id, representatives[:6], representatives[6:], present_at=5)
        eventually(lambda: tranches()[1] == (2, "pending", True, None))
        [cohort] = rpc.training.cohorts(KALIANDA)["items"]
        assert (cohort["participants"], cohort["completed"], cohort["sessions"]) == (7, 6, 6)
        assert rpc.training.cohorts("18.01")["items"] == [cohort] and rpc.training.cohorts("18.02")["total"] == 0
        assert [g["group_id"] for g in rpc.training.gates("18.01")] == [group_id] == [
            g["group_id"] for g in rpc.training.gates()]
        assert rpc.training.gates("18.02") == []
        assert rpc.training.dashboard("18.01") == [{"village_code": KALIANDA, "participants": 7, "completed": 6}]

        pay(rpc, proposal_id, 2, "worklist-tranche-2")
        assert payables() == []
        assert [(d["tranche"], d["overdue"]) for d in rpc.grants.lpj_due("18.01")] == [(2, False)]

        # Thirty-one days later (the read model's paid date moved back), tranche 2's LPJ is overdue.
        month_ago = (jakarta_today() - timedelta(days=31)).isoformat()
        running.sql("grants", "UPDATE grants SET state = jsonb_set(state, '{tranches,2,paid_on}', to_jsonb(%s::text)) "
                              "RETURNING grant_id", (month_ago,))
        [late] = rpc.grants.lpj_due("18.01")
        assert (late["paid_on"], late["days_since_paid"], late["overdue"]) == (month_ago, 31, True)

        # Tranche 1 paid 40 days ago and no visit since: the monthly visit is 9 days overdue (once grants knows the
        # group is active), on the worklists and the dashboard.
        eventually(lambda: rpc.grants.group(group_id)["status"] == "active")
        assert rpc.grants.visits_due("18.01") == []
        running.sql("grants", "UPDATE grants SET state = jsonb_set(state, '{monitoring,first_paid_on}', "
                              "to_jsonb(%s::text)) RETURNING grant_id",
                    ((jakarta_today() - timedelta(days=40)).isoformat(),))
        [visit] = rpc.grants.visits_due("18.01")
        assert (visit["proposal_id"], visit["stage"], visit["overdue"]) == (proposal_id, None, True)
        assert visit["days_overdue"] == (jakarta_today() - add_months(jakarta_today() - timedelta(days=40), 1)).days
        assert rpc.grants.visits_due("18.02") == []

        # Another regency's own budget funds nothing here: the dashboard of 18.01 leaves it out.
        rpc.grants.set_budget_ceiling({"actor": {"user": "kadis.lamteng", "role": "head", "region": "18.02"},
                                       "fiscal_year": 2026, "source": "APBD-kabupaten", "region": "18.02",
                                       "ceiling_rp": 10_000_000})
        money = rpc.grants.dashboard("18.01")
        assert money == {"villages": [{"village_code": KALIANDA, "proposals": {"approved": 1},
                                       "approved_rp": 14_000_000, "disbursed_rp": 14_000_000, "lpj_overdue": 1,
                                       "visits_overdue": 1}],
                         "budgets": [b for b in rpc.grants.budgets() if b["region"] != "18.02"]}
        assert rpc.grants.dashboard()["budgets"] == rpc.grants.budgets()
        assert rpc.grants.dashboard("18.02")["villages"] == []
        eventually(lambda: rpc.registry.group(reader(), group_id)["status"] == "active")  # tranche 1 is paid
        assert rpc.registry.dashboard("18.01") == [{"village_code": KALIANDA, "households": 7,
                                                   "groups": {"active": 1}}]
        assert rpc.registry.dashboard("18.02") == [] and rpc.registry.dashboard() == rpc.registry.dashboard("")
        assert [g["group_id"] for g in rpc.registry.groups("18.01")["items"]] == [group_id]
        assert rpc.registry.groups("18.02")["total"] == 0


def test_grant_rows_projected_by_an_older_release_are_projected_again_when_grants_starts(running):
    """A grant paid before the treasurer's list existed has a row without approval time, live payment or paid date:
    the next start of grants projects it again from the grant, and the lists read it."""
    with running.rpc() as rpc:
        _group_id, _members, proposal_id = approved_proposal(rpc, start=400)
        paid = pay(rpc, proposal_id, 1, "older-release-key")
    old_state = {"tranches": {"1": {"amount_rp": 9_800_000, "status": "confirmed", "failed": 0, "lpj": None},
                              "2": {"amount_rp": 4_200_000, "status": "pending", "failed": 0, "lpj": None}}}
    assert running.sql("grants", "UPDATE grants SET state = %s::jsonb RETURNING grant_id", (json.dumps(old_state),))
    running.stop("grants")
    running.start("grants")
    with running.rpc() as rpc:
        [grant] = rpc.grants.payables("18.01")
        assert grant["tranches"][0]["payment_id"] == paid["payment_id"] and grant["approved_at"]
        [due] = rpc.grants.lpj_due("18.01")
        assert due["paid_on"] == jakarta_today().isoformat()
