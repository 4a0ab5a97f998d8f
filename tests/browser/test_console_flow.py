"""One women's KUBE carried from household registration to its second tranche through the console only, each role
logging in as itself, in Indonesian: the operator registers seven households and forms the group, the ministry
sets the budget, the operator drafts and submits the proposal, the district verifies, the province recommends, the
ministry approves, the treasurer pays tranche 1 (instruction, sent to the bank, confirmed with the bank's
reference), the operator reports the LPJ and a second operator accepts it, the facilitator runs six sessions of the
Family School on a phone and ticks six of the seven representatives present, and the treasurer pays tranche 2 once
the gate has opened. Then the auditor follows the money back, and the head of the office sees it on the dashboard.
Each role's home page is photographed (.run/screenshots/) and checked with axe-core.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.console import (
    Staff,
    accessible,
    eventually_on,
    fill_lines,
    form_group,
    go,
    notice,
    press,
    register_household,
    screenshot,
    submit,
    today,
)
from tests.browser.staff import STAFF
from tests.support.households import household_body

pytestmark = pytest.mark.browser

VILLAGE = "18.01.06.2001"  # Jondong, Kalianda
GROUP = "KUBE Melati Jondong"
FISCAL_YEAR = 2026
# Typed as the office types amounts: with dots, with "Rp", or bare. Within the cap of 7 × Rp 2.000.000.
LINES = [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": "2.000.000"},
         {"item": "Kain dan benang", "quantity": 1, "unit": "paket", "unit_price_rp": "Rp 3.500.000"}]
REQUESTED = "Rp 13.500.000"


def proposal_page_of(page: Page, status: str) -> None:
    """From a reviewer's queue (its home page), open the group's proposal."""
    go(page, f"/console/proposals?status={status}")
    with page.expect_navigation():
        page.get_by_role("link", name=GROUP).click()


def pay(treasurer: Page, treasurer_2: Page, tranche: int, reference: str) -> None:
    """From the list of grants awaiting payment: instruct, mark sent — then the treasurer who instructed is not
    offered the confirmation (the reason says who is), and another treasurer confirms with the bank's reference."""
    go(treasurer, "/console/grants")
    grant = treasurer.locator("article.grant", has_text=GROUP)
    row = grant.locator("tr", has_text=f"Tahap {tranche}")
    with treasurer.expect_navigation():
        row.get_by_role("button", name="Perintahkan transfer").click()
    assert "Perintah bayar sudah dicatat." in notice(treasurer)
    row = treasurer.locator("article.grant", has_text=GROUP).locator("tr", has_text=f"Tahap {tranche}")
    with treasurer.expect_navigation():
        row.get_by_role("button", name="Tandai terkirim ke bank").click()
    row = treasurer.locator("article.grant", has_text=GROUP).locator("tr", has_text=f"Tahap {tranche}")
    expect(row.get_by_role("button", name="Konfirmasi")).to_be_disabled()
    expect(row).to_contain_text("Anda yang memerintahkan pembayaran ini: bendahara lain yang harus mengonfirmasinya")
    expect(row.get_by_label("Nomor referensi bank")).to_have_count(0)
    go(treasurer_2, "/console/grants")
    row = treasurer_2.locator("article.grant", has_text=GROUP).locator("tr", has_text=f"Tahap {tranche}")
    row.get_by_label("Nomor referensi bank").fill(reference)
    with treasurer_2.expect_navigation():
        row.get_by_role("button", name="Konfirmasi").click()
    assert "Konfirmasi bank sudah dicatat." in notice(treasurer_2)


def test_a_womens_kube_from_registration_to_tranche_2_through_the_console_only(staff: Staff):
    households = [household_body(1000 + i, VILLAGE) for i in range(7)]

    # The operator registers the seven households from their family cards.
    operator = staff.log_in("operator")
    expect(operator.locator("h1")).to_contain_text("Selamat datang")
    for body in households:
        register_household(operator, body)
        assert "Keluarga sudah terdaftar." in notice(operator)
        expect(operator.locator("h1")).to_contain_text(body["kk"][:4])

    # At the desk, a woman asks whether she is registered: any part of her name, in any case, finds her.
    go(operator, "/console/people?q=" + "AMINAH 1003")
    expect(operator.locator("table")).to_contain_text("Siti Aminah 1003")

    # After the village meeting, the operator forms the women's KUBE from the eligible households.
    form_group(operator, GROUP, households, VILLAGE)
    assert "KUBE sudah dibentuk." in notice(operator)
    expect(operator.locator("h1")).to_contain_text(GROUP)
    expect(operator.locator("h1")).to_contain_text("dibentuk")

    # The ministry sets the year's budget ceiling.
    ministry = staff.log_in("ministry")
    go(ministry, "/console/budgets")
    if not ministry.locator("td", has_text=str(FISCAL_YEAR)).count():
        ministry.fill("#f-fiscal_year", str(FISCAL_YEAR))
        ministry.select_option("#f-source", "APBN")
        ministry.fill("#f-ceiling_rp", "500.000.000")
        submit(ministry, "form[action$='/console/budgets']")
        assert "Pagu anggaran sudah ditetapkan." in notice(ministry)

    # The operator types the group's paper proposal: its plan and budget lines (RAB), summed as they are typed.
    operator.get_by_role("button", name="Susun usulan").click()
    operator.fill("#f-business_plan", "Usaha jahit seragam sekolah untuk tiga desa di Kalianda.")
    operator.select_option("#f-form", "cash")
    fill_lines(operator, "budget_lines", LINES[:1])
    expect(operator.locator("#rab-total")).to_contain_text("Rp 10.000.000")  # htmx: without pressing anything
    fill_lines(operator, "budget_lines", LINES)
    expect(operator.locator("#rab-total")).to_contain_text(REQUESTED)
    submit(operator, "form[action$='/console/proposals']")
    assert "Usulan sudah disimpan sebagai draf." in notice(operator)
    press(operator, "Ajukan ke kabupaten")
    assert "Usulan sudah diajukan." in notice(operator)

    # The district verifies, the province recommends, the ministry approves within the ceiling.
    verifier = staff.log_in("verifier")
    expect(verifier.locator("section.worklist").first).to_contain_text(GROUP)  # the queue on the home page
    proposal_page_of(verifier, "submitted")
    expect(verifier.locator("table").first).to_contain_text("Mesin jahit")
    press(verifier, "Verifikasi")
    assert "Usulan sudah diverifikasi." in notice(verifier)
    province = staff.log_in("province")
    proposal_page_of(province, "verified")
    press(province, "Rekomendasikan")
    assert "Usulan sudah direkomendasikan." in notice(province)
    proposal_page_of(ministry, "recommended")
    ministry.fill("#f-fiscal_year", str(FISCAL_YEAR))
    ministry.select_option("#f-source", "APBN")
    expect(ministry.locator("#f-amount_rp")).to_have_value("13.500.000")
    submit(ministry, "form[action$='/approve']")
    assert "Usulan sudah disetujui." in notice(ministry)
    expect(ministry.locator("dl.facts")).to_contain_text(REQUESTED)

    # The treasurer pays tranche 1 (70 %) from the list of grants awaiting payment, another treasurer confirms it;
    # tranche 2 waits.
    treasurer, treasurer_2 = staff.log_in("treasurer"), staff.log_in("treasurer_2")
    pay(treasurer, treasurer_2, 1, "BRI-2026-0001")
    grant = treasurer_2.locator("article.grant", has_text=GROUP)
    expect(grant.locator("tr", has_text="Tahap 2")).to_contain_text("LPJ")  # what tranche 2 waits for

    # The operator reports the LPJ of tranche 1 with its receipts; another operator accepts it (maker–checker).
    go(operator, "/console/")
    operator.get_by_role("link", name=GROUP).first.click()
    operator.locator("details", has_text="Laporkan LPJ").locator("summary").click()
    operator.select_option("form[action$='/lpj'] select[name=tranche]", "1")
    fill_lines(operator, "lines", [{"description": "Mesin jahit 5 unit", "receipt_number": "KW-001",
                                    "receipt_date": today(), "amount_rp": "9.450.000"}])
    submit(operator, "form[action$='/lpj']")
    assert "LPJ sudah dikirim." in notice(operator)
    grant_url = operator.url.split("?")[0]
    operator_2 = staff.log_in("operator_2")
    operator_2.goto(grant_url)
    submit(operator_2, "form[action$='/lpj_review']")
    assert "Hasil pemeriksaan LPJ sudah dicatat." in notice(operator_2)

    # The facilitator, at the village hall on a phone: the cohort opened for the group, six sessions, attendance.
    facilitator = staff.log_in("facilitator", viewport={"width": 390, "height": 844})
    go(facilitator, "/console/cohorts")
    eventually_on(facilitator, lambda: facilitator.get_by_role("link", name=f"Sekolah Keluarga {VILLAGE}").count() > 0,
                  what="the cohort opened when the grant was approved")
    facilitator.get_by_role("link", name=f"Sekolah Keluarga {VILLAGE}").first.click()
    cohort_url = facilitator.url.split("?")[0]
    representatives = [body["members"][0]["name"] for body in households]
    for name in representatives:
        expect(facilitator.locator("table")).to_contain_text(name)
    modules = facilitator.locator("#f-module option").evaluate_all("options => options.map(o => o.value)")
    for module in [m for m in modules if m]:
        facilitator.goto(cohort_url)
        facilitator.locator("details", has_text="Jadwalkan pertemuan").locator("summary").click()
        facilitator.select_option("#f-module", module)
        facilitator.fill("#f-session_date", today())
        facilitator.fill("#f-place", "Balai Desa Jondong")
        submit(facilitator, "form[action$='/schedule']")
        assert "Pertemuan sudah dijadwalkan." in notice(facilitator)
    sessions = facilitator.locator("ul.sessions a").evaluate_all("links => links.map(a => a.href)")
    assert len(sessions) == 6
    for url in sessions:
        facilitator.goto(url)
        # Six come; the seventh is ticked absent. "Hadir" is preselected: one tap per absent person.
        facilitator.locator("fieldset", has_text=representatives[6]).get_by_label("Tidak hadir").check()
        submit(facilitator, "form.attendance")
        assert "Presensi sudah disimpan." in notice(facilitator)
    screenshot(facilitator, "attendance-phone")
    facilitator.goto(cohort_url)
    expect(facilitator.locator("table")).to_contain_text("lulus")

    # The gate opens (six of seven completed: 86 % ≥ 80 %), and the treasurer pays tranche 2.
    go(treasurer, "/console/grants")
    eventually_on(treasurer, lambda: treasurer.locator("article.grant", has_text=GROUP).locator(
        "tr", has_text="Tahap 2").get_by_role("button", name="Perintahkan transfer").count() > 0,
        what="tranche 2 payable once the LPJ is accepted and the Family School gate is open")
    pay(treasurer, treasurer_2, 2, "BRI-2026-0002")
    treasurer.goto(grant_url)
    expect(treasurer.locator("dl.facts")).to_contain_text(REQUESTED)
    expect(treasurer.locator("table").first).not_to_contain_text("belum dicairkan")

    # The auditor follows the money back to every decision and who took it.
    auditor = staff.log_in("auditor")
    auditor.goto(grant_url + "/provenance")
    for step in ("Diajukan", "Diverifikasi", "Direkomendasikan", "Disetujui", "BRI-2026-0001", "BRI-2026-0002",
                 STAFF["verifier"][0], STAFF["province"][0], STAFF["ministry"][0], STAFF["treasurer"][0],
                 STAFF["treasurer_2"][0]):
        expect(auditor.locator("main")).to_contain_text(step)

    # The head of the office sees Kalianda's money on the dashboard.
    head = staff.log_in("head")
    expect(head).to_have_url(f"{staff.system.base}/console/dashboard")
    expect(head.locator("table", has_text="18.01.06")).to_contain_text(REQUESTED)


@pytest.mark.parametrize("who", [who for who in STAFF if who != "operator_elsewhere"])
def test_each_roles_home_page_is_accessible(staff: Staff, who: str):
    page = staff.log_in(who)
    expect(page.locator("main h1")).to_be_visible()
    accessible(page)
    screenshot(page, f"home-{STAFF[who][1]}" + ("-2" if who.endswith("_2") else ""))
