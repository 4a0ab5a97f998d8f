"""What the programme's rules refuse, as the console shows it: a sentence in Indonesian next to the field concerned
(or above the form), and nothing changed — each test reads again, in the console or in the services' own records.
A district's user cannot see or open another district's records, even by typing their address. The attendance
checklist works on a phone. A form whose security token is wrong changes nothing.

What a test needs in place before a person opens the console (households, a group, a proposal up to the ministry)
is made through the HTTP API, as another system would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from services.gateway.console.i18n import Language
from tests.browser.console import (
    Api,
    ConsoleSystem,
    Staff,
    accessible,
    form_group,
    go,
    notice,
    press,
    recommended_proposal,
    refusal,
    register_household,
    screenshot,
    show_candidates,
    submit,
    today,
    until,
)
from tests.support.households import LINES, group_body, household_body

pytestmark = pytest.mark.browser

MAJA = "18.01.06.2005"  # Maja, Kalianda
LAMPUNG_TENGAH = "18.02.01.2001"


def households_with_kk(console: ConsoleSystem, kk: str) -> int:
    return console.sql("registry", "SELECT count(*) FROM households WHERE kk = %s", (kk,))[0][0]


def test_registration_refusals_say_why_next_to_the_field_and_register_nothing(staff: Staff):
    operator = staff.log_in("operator")
    body = household_body(2000, MAJA)
    wrong_birth = {**body, "members": [{**body["members"][0], "birth_date": "1986-03-05"}, body["members"][1]]}
    register_household(operator, wrong_birth)
    expect(operator.locator("#error-members-0-birth_date, #error-members-0-nik")).to_contain_text(
        "tidak sesuai dengan tanggal lahir")
    accessible(operator)
    assert households_with_kk(staff.system, body["kk"]) == 0

    register_household(operator, {**body, "decile": 11})
    expect(operator.locator("#error-decile")).to_have_text("Bilangan bulat dari 1 sampai 10.")
    assert households_with_kk(staff.system, body["kk"]) == 0

    register_household(operator, body)
    register_household(operator, {**body, "dtks_id": "DTKS-LAIN"})
    expect(operator.locator("#error-kk")).to_have_text("KK ini sudah terdaftar.")
    assert staff.system.sql("registry", "SELECT dtks_id FROM households WHERE kk = %s", (body["kk"],)) == [
        (body["dtks_id"],)]


def test_a_kube_too_small_is_refused_and_an_ineligible_household_shows_its_rule(staff: Staff):
    operator = staff.log_in("operator")
    members = [household_body(2100 + i, MAJA) for i in range(3)]
    richer = household_body(2110, MAJA, decile=6)
    for body in (*members, richer):
        register_household(operator, body)

    show_candidates(operator, MAJA)
    row = operator.locator("tr.ineligible", has_text=richer["kk"][-4:])
    expect(row).to_contain_text("berada di desil 6, di atas batas desil 4")
    expect(row.locator("input[name=pick]")).to_have_count(0)

    form_group(operator, "KUBE Terlalu Kecil", members, MAJA)
    assert "beranggotakan 7–10 keluarga, bukan 3" in refusal(operator)
    assert staff.system.sql("registry", "SELECT count(*) FROM groups WHERE name = 'KUBE Terlalu Kecil'") == [(0,)]


def proposal_status(console: ConsoleSystem, proposal_id: str) -> str:
    return console.sql("grants", "SELECT status FROM proposals WHERE proposal_id = %s", (proposal_id,))[0][0]


def test_approval_refusals_above_the_cap_beyond_the_ceiling_and_maker_checker(staff: Staff):
    proposal_id = recommended_proposal(staff.system, 2200)
    ministry = staff.log_in("ministry")
    go(ministry, "/console/budgets")
    for year, ceiling in ((2026, "500.000.000"), (2031, "1.000.000")):
        if not ministry.locator("td", has_text=str(year)).count():
            ministry.fill("#f-fiscal_year", str(year))
            ministry.select_option("#f-source", "APBN")
            ministry.fill("#f-ceiling_rp", ceiling)
            submit(ministry, "form[action$='/console/budgets']")

    def approve(amount: str, year: int) -> None:
        go(ministry, f"/console/proposals/{proposal_id}")
        ministry.fill("#f-amount_rp", amount)
        ministry.fill("#f-fiscal_year", str(year))
        ministry.select_option("#f-source", "APBN")
        submit(ministry, "form[action$='/approve']")

    approve("15.000.000", 2026)  # the cap of seven households is Rp 14.000.000
    assert "melebihi batas bantuan kelompok" in refusal(ministry) or "lebih besar dari yang diminta" in refusal(
        ministry)
    approve("10.000.000", 2031)
    assert "Sisa pagu ini tidak cukup: tersedia Rp 1.000.000." in refusal(ministry)
    assert proposal_status(staff.system, proposal_id) == "recommended"

    approve("10.000.000", 2026)
    assert proposal_status(staff.system, proposal_id) == "approved"
    # The same officer may not also cancel what they approved: another must (maker–checker).
    expect(ministry.locator("p.notice[role=note]")).to_contain_text("orang lain yang harus mengambil langkah")
    ministry.locator("details", has_text="Batalkan bantuan").locator("summary").click()
    ministry.fill("form[action$='/cancel'] textarea[name=reason]", "kelompok bubar")
    submit(ministry, "form[action$='/cancel']")
    assert "orang lain yang harus mengambil langkah berikutnya" in refusal(ministry)
    assert proposal_status(staff.system, proposal_id) == "approved"


def test_a_tranche_waits_with_its_reason_and_attendance_cannot_be_recorded_in_advance(staff: Staff):
    proposal_id = recommended_proposal(staff.system, 2300)
    Api(staff.system, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    treasurer = staff.log_in("treasurer")
    go(treasurer, "/console/grants")
    grant = treasurer.locator("article.grant", has_text="KUBE Mawar 2300")
    expect(grant.locator("tr", has_text="Tahap 2")).to_contain_text("Tahap 2 menunggu tahap sebelumnya dicairkan.")
    expect(grant.locator("tr", has_text="Tahap 2").get_by_role("button")).to_have_count(0)
    accessible(treasurer)

    facilitator = staff.log_in("facilitator", viewport={"width": 390, "height": 844})
    [(cohort_id,)] = until(lambda: staff.system.sql(
        "training", "SELECT cohort_id::text FROM cohorts WHERE village_code = %s", (MAJA,)),
        what="the cohort opened when the grant was approved")
    go(facilitator, f"/console/cohorts/{cohort_id}")
    facilitator.locator("details", has_text="Jadwalkan pertemuan").locator("summary").click()
    facilitator.select_option("#f-module", "keuangan")
    in_three_days = date.fromisoformat(today()) + timedelta(days=3)
    facilitator.fill("#f-session_date", in_three_days.isoformat())
    facilitator.fill("#f-place", "Balai Desa Maja")
    submit(facilitator, "form[action$='/schedule']")
    facilitator.locator("ul.sessions a", has_text=Language("id").date(in_three_days)).click()
    phone_checklist(facilitator)
    submit(facilitator, "form.attendance")
    assert "Presensi dicatat pada hari pertemuan atau sesudahnya" in refusal(facilitator)
    assert staff.system.sql("training", "SELECT count(*) FROM attendance a JOIN participants p USING (person_id) "
                                        "WHERE p.cohort_id = %s", (cohort_id,)) == [(0,)]


def test_who_recorded_a_handover_is_told_another_person_accepts_it_and_another_operator_does(staff: Staff):
    proposal_id = recommended_proposal(staff.system, 2600)
    Api(staff.system, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(staff.system, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "equipment", "fiscal_year": 2026, "source": "APBN"})
    Api(staff.system, "operator").call("POST", f"/grants/{proposal_id}/tranches/1/deliver", {
        "items": [{"item": "Mesin jahit", "quantity": 2, "value_rp": 7_000_000}], "handover_date": today(),
        "receiver": "Ketua KUBE"})
    operator = staff.log_in("operator")
    go(operator, f"/console/grants/{proposal_id}")
    row = operator.locator("tr", has_text="Ketua KUBE")  # the payment (its receiver), not the tranche
    expect(row.get_by_role("button", name="Terima serah terima")).to_be_disabled()
    expect(row).to_contain_text("Anda yang mencatat serah terima ini: orang lain yang harus menerimanya")
    accessible(operator)

    operator_2 = staff.log_in("operator_2")
    go(operator_2, f"/console/grants/{proposal_id}")
    with operator_2.expect_navigation():
        operator_2.locator("tr", has_text="Ketua KUBE").get_by_role("button", name="Terima serah terima").click()
    assert "Serah terima sudah diterima: tahap ini sudah dibayar." in notice(operator_2)
    expect(operator_2.locator("tr", has_text="Ketua KUBE")).to_contain_text("diserahkan")
    expect(operator_2.get_by_role("button", name="Terima serah terima")).to_have_count(0)


def phone_checklist(page: Page) -> None:
    """At 390×844: nothing wider than the screen, every choice a large target, and axe-core content."""
    assert page.viewport_size == {"width": 390, "height": 844}
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for box in page.locator("form.attendance .choices label").evaluate_all(
            "labels => labels.map(l => l.getBoundingClientRect()).map(r => [r.width, r.height])"):
        assert box[0] >= 44 and box[1] >= 44, box  # WCAG 2.5.5 target size
    accessible(page)
    screenshot(page, "attendance-checklist-phone")


def test_a_district_user_cannot_see_or_open_another_districts_records(staff: Staff):
    elsewhere = Api(staff.system, "operator_elsewhere")
    households = [household_body(2400 + i, LAMPUNG_TENGAH) for i in range(7)]
    for body in households:
        elsewhere.call("POST", "/households", body)
    group_id = elsewhere.call("POST", "/groups", group_body("KUBE Lamteng", households, LAMPUNG_TENGAH))["group_id"]
    until(lambda: staff.system.sql("grants", "SELECT 1 FROM groups WHERE group_id = %s", (group_id,)),
          what="grants learns of the group")
    proposal_id = elsewhere.call("POST", "/proposals", {"group_id": group_id, "business_plan": "Ternak kambing",
                                                        "budget_lines": LINES, "form": "cash"})["proposal_id"]

    operator = staff.log_in("operator")
    # Another district's record is shown as a missing one: the page does not say that it exists elsewhere.
    missing = household_body(9400)["kk"], "0b5d2a3e-8c1f-4d2a-9e3b-5f6a7b8c9d0e"
    for path, missing_path in ((f"/console/households/{households[0]['kk']}", f"/console/households/{missing[0]}"),
                               (f"/console/groups/{group_id}", f"/console/groups/{missing[1]}"),
                               (f"/console/proposals/{proposal_id}", f"/console/proposals/{missing[1]}")):
        shown = []
        for asked in (path, missing_path):
            go(operator, asked)
            expect(operator.locator("main h1")).to_have_text("Tidak dapat dilakukan")
            shown.append(refusal(operator))
        assert shown[0] == shown[1] and "tidak ditemukan" in shown[0], shown
        expect(operator.locator("main")).not_to_contain_text("KUBE Lamteng")
        expect(operator.locator("main")).not_to_contain_text(households[0]["members"][0]["name"])
    go(operator, f"/console/people?q={households[0]['kk']}")
    expect(operator.locator("main")).to_contain_text("Tidak ada yang cocok di wilayah Anda")
    go(operator, "/console/groups")
    expect(operator.locator("main")).not_to_contain_text("KUBE Lamteng")
    go(operator, "/console/proposals?status=draft")
    expect(operator.locator("main")).not_to_contain_text("KUBE Lamteng")


def test_a_form_with_a_wrong_security_token_changes_nothing(staff: Staff):
    operator = staff.log_in("operator")
    body = household_body(2500, MAJA)
    go(operator, "/console/households/new")
    operator.evaluate("document.querySelector('form[action$=\"/console/households\"] input[name=_csrf]').value = "
                      "'forged-token'")
    operator.fill("#f-kk", body["kk"])
    press(operator, "Daftarkan")
    expect(operator.locator("main h1")).to_have_text("Tidak dapat dilakukan")
    assert "Formulir sudah kedaluwarsa" in refusal(operator)
    assert households_with_kk(staff.system, body["kk"]) == 0


def test_nik_and_kk_are_shown_in_full_to_the_operator_and_masked_to_the_treasurer(staff: Staff):
    body = household_body(2500, MAJA)
    Api(staff.system, "operator").call("POST", "/households", body)
    kk, nik = body["kk"], body["members"][0]["nik"]
    grouped = " ".join(kk[i:i + 4] for i in range(0, 16, 4))
    masked = f"{kk[:4]} {kk[4:6]}•• •••• {kk[-4:]}"

    operator = staff.log_in("operator")
    go(operator, f"/console/households/{kk}")
    expect(operator.locator("main")).to_contain_text(grouped)

    treasurer = staff.log_in("treasurer")
    go(treasurer, f"/console/households/{kk}")
    expect(treasurer.locator("main")).to_contain_text(masked)
    expect(treasurer.locator("main")).to_contain_text(body["members"][0]["name"])
    shown = treasurer.locator("main").inner_text().replace(" ", "")
    assert kk not in shown and nik not in shown and nik[6:12] not in shown
    screenshot(treasurer, "household-masked-for-treasurer")
