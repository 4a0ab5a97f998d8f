"""Every page of the console, opened by a role that works with it, with real records behind it: it answers (no
refusal, no error), it is in Indonesian (``lang="id"``), and axe-core finds no serious or critical violation. The
page table is the list: a page added without a sample here fails the test. English is a switch away."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from services.gateway.console.pages import PAGES
from tests.browser.console import Api, Staff, accessible, go, recommended_proposal, submit, today, until
from tests.support.scans import a_pdf

pytestmark = pytest.mark.browser

HAJIMENA = "18.01.04.2001"  # Hajimena, Natar
# page → who opens it, and the address (with the ids of the records made below)
SAMPLES = {
    "/": ("operator", "/console/"),
    "/people": ("operator", "/console/people?q=aminah"),
    "/households/new": ("operator", "/console/households/new"),
    "/households/{household_id}": ("operator", "/console/households/{household_id}"),
    "/groups": ("verifier", "/console/groups"),
    "/groups/new": ("operator", "/console/groups/new?village=18.01.04.2001&kind=perempuan"),
    "/groups/{group_id}": ("operator", "/console/groups/{group_id}"),
    "/proposals": ("verifier", "/console/proposals"),
    "/proposals/new": ("operator", "/console/proposals/new?group={group_id}"),
    "/proposals/{proposal_id}": ("ministry", "/console/proposals/{proposal_id}"),
    "/budgets": ("ministry", "/console/budgets"),
    "/grants": ("treasurer", "/console/grants"),
    "/grants/lpj": ("operator", "/console/grants/lpj"),
    "/grants/statement": ("treasurer", "/console/grants/statement"),
    "/grants/{proposal_id}": ("operator", "/console/grants/{proposal_id}"),
    "/grants/{proposal_id}/provenance": ("auditor", "/console/grants/{proposal_id}/provenance"),
    "/cohorts": ("facilitator", "/console/cohorts"),
    "/cohorts/{cohort_id}": ("facilitator", "/console/cohorts/{cohort_id}"),
    "/cohorts/{cohort_id}/sessions/{session_id}": ("facilitator", "/console/cohorts/{cohort_id}/sessions/{session_id}"),
    "/grievances": ("operator", "/console/grievances"),
    "/grievances/{grievance_id}": ("head", "/console/grievances/{grievance_id}"),
    "/dashboard": ("head", "/console/dashboard"),
    "/audit": ("auditor", "/console/audit"),
    "/audit/head": ("auditor", "/console/audit/head"),
    "/audit/replay": ("auditor", "/console/audit/replay?as_of_date=" + "{today}"),
    "/imports/held": ("operator", "/console/imports/held"),
    "/users": ("admin", "/console/users"),
    "/erasures": ("admin", "/console/erasures"),
    "/password": ("operator", "/console/password"),
}
DOWNLOADS = {"/dashboard.csv", "/audit/report",  # files, not pages
             "/proposals/{proposal_id}/print/letter", "/proposals/{proposal_id}/print/decision-annex",
             "/grants/{proposal_id}/payments/{payment_id}/print/bast",
             "/grants/{proposal_id}/payments/{payment_id}/print/receipt",
             "/grants/{proposal_id}/payments/{payment_id}/print/provenance",
             "/grants/{proposal_id}/tranches/{n}/print/lpj",
             "/cohorts/{cohort_id}/participants/{person_id}/print/certificate",
             "/grants/{proposal_id}/documents/{digest}", "/groups/{group_id}/documents/{digest}"}
LOGIN = {"/login", "/verify/{code}"}  # checked below, logged out (a printout's code: where its QR code leads)


@pytest.fixture(scope="module")
def ids(console) -> dict[str, str]:
    """A grant with tranche 1 paid, its group and households, the Family School's cohort with a session today, a
    grievance about the grant."""
    proposal_id = recommended_proposal(console, 3000, village=HAJIMENA)  # a village of its own: other tests' data
    Api(console, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(console, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    treasurer = Api(console, "treasurer")
    payment = treasurer.call("POST", f"/grants/{proposal_id}/tranches/1/disburse")
    treasurer.call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    Api(console, "treasurer_2").call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                                     {"bank_reference": "BRI-PAGES-1"})
    [(group_id, household_id)] = console.sql(
        "grants", "SELECT p.group_id::text, m ->> 'household_id' FROM proposals p JOIN groups g USING (group_id), "
                  "jsonb_array_elements(g.members) m WHERE p.proposal_id = %s LIMIT 1", (proposal_id,))
    [(cohort_id,)] = until(lambda: console.sql("training", "SELECT cohort_id::text FROM participants WHERE "
                                                           "group_id = %s LIMIT 1", (group_id,)),
                           what="the cohort of the group")
    session = Api(console, "facilitator").call("POST", f"/cohorts/{cohort_id}/sessions", {
        "module": "keuangan", "session_date": today(), "place": "Balai Desa Hajimena"})
    Api(console, "operator").upload(f"/groups/{group_id}/documents", a_pdf("SK Kepala Desa Hajimena"),
                                    "application/octet-stream", kind="sk_kades")  # the group's page lists its papers
    grievance = Api(console, "operator").call("POST", "/grievances", {
        "village_code": HAJIMENA, "category": "payment_not_received", "description": "Tahap I belum diterima",
        "complainant_name": "Ketua KUBE", "group_id": group_id, "proposal_id": proposal_id})
    return {"household_id": household_id, "group_id": group_id, "proposal_id": proposal_id, "cohort_id": cohort_id,
            "session_id": session["session_id"], "today": today(), "grievance_id": grievance["grievance_id"]}


def test_every_page_answers_in_indonesian_and_is_accessible(staff: Staff, ids: dict[str, str]):
    pages = {page.path.removeprefix("/console") or "/" for page in PAGES if page.method == "GET"}
    assert pages - DOWNLOADS - LOGIN == set(SAMPLES), "give each new page a sample"
    browsers = {}
    for who, address in SAMPLES.values():
        page = browsers.get(who) or browsers.setdefault(who, staff.log_in(who))
        go(page, address.format(**ids))
        expect(page.locator("html")).to_have_attribute("lang", "id")
        expect(page.locator("main h1, h1").first).not_to_have_text("Tidak dapat dilakukan")
        expect(page.locator("p.refusal")).to_have_count(0)
        accessible(page)


def test_the_login_page_and_the_language_switch(staff: Staff, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{staff.system.base}/console/login")
    expect(page.locator("h1")).to_have_text("Masuk")
    accessible(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Log in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.locator("h1")).to_have_text("Masuk")
    context.close()

    operator = staff.log_in("operator")
    operator.get_by_role("button", name="English").click()
    expect(operator.locator("nav")).to_contain_text("Find a person")
    go(operator, "/console/grants/lpj")
    expect(operator.locator("h1")).to_contain_text("LPJ due")
    operator.get_by_role("button", name="Bahasa Indonesia").click()
    expect(operator.locator("h1")).to_contain_text("LPJ yang ditunggu")
    operator.get_by_role("button", name="Keluar").click()
    expect(operator).to_have_url(f"{staff.system.base}/console/login")
    go(operator, "/console/grants/lpj")  # the session ended: back to the login page
    expect(operator.locator("h1")).to_have_text("Masuk")


def test_a_user_the_admin_adds_chooses_their_own_password_at_the_first_login(staff: Staff, browser):
    admin = staff.log_in("admin")
    go(admin, "/console/users")
    admin.fill("#f-username", "operator.baru")
    admin.select_option("#f-role", "operator")
    admin.fill("#f-region", "18.01")
    admin.fill("#f-password", "sandi-dari-admin")
    submit(admin, "form[action='/console/users']")
    expect(admin.locator("section[aria-labelledby=users-title] tr", has_text="operator.baru")).to_contain_text(
        "harus membuat kata sandi")

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{staff.system.base}/console/")
    page.fill("#f-username", "operator.baru")
    page.fill("#f-password", "sandi-dari-admin")
    page.click("form[action$='/login'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Buat kata sandi Anda")  # before anything else
    accessible(page)
    page.fill("#f-password", "sandi-dari-admin")
    page.fill("#f-new_password", "sandi-milik-sendiri")
    page.fill("#f-repeat_password", "sandi-milik-sendiri")
    page.click("form[action$='/password'] button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("operator.baru")
    context.close()


def test_the_treasurer_prints_a_paid_tranches_receipt_and_anyone_checks_its_code(staff: Staff, ids: dict[str, str]):
    treasurer = staff.log_in("treasurer")
    go(treasurer, f"/console/grants/{ids['proposal_id']}")
    link = treasurer.get_by_role("link", name="Cetak kuitansi")
    expect(link).to_have_count(1)  # tranche 1 is paid; nothing to print for tranche 2 yet
    with treasurer.expect_download() as downloaded:
        link.click()
    assert downloaded.value.suggested_filename.startswith("kuitansi-L")
    pdf = Path(downloaded.value.path()).read_bytes()
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "KUITANSI" in text and "Rp 7.000.000" in text and "BRI-PAGES-1" in text, text[:1000]
    code = re.search(r"Kode verifikasi: ([LGT][0-9]+-[0-9A-F]{10})", text)[1]
    checked = treasurer.request.get(f"{staff.system.base}/verify/{code}")  # anyone, no login needed
    assert checked.ok and checked.json()["matches"] is True and checked.json()["amount_rp"] == 7_000_000
    context = staff.browser.new_context(locale="id-ID")  # where the QR code leads, opened by someone not logged in
    staff.contexts.append(context)  # closed with the others
    anyone = context.new_page()
    anyone.goto(f"{staff.system.base}/console/verify/{code}")
    expect(anyone.locator("h1")).to_have_text("Dokumen ini sesuai dengan catatan berdaya")
    expect(anyone.locator("main")).to_contain_text("Rp 7.000.000")
    accessible(anyone)
    expect(treasurer.get_by_role("link", name="Cetak formulir LPJ")).to_have_count(1)
