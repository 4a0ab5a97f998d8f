"""Every page of the console, opened by a role that works with it, with real records behind it: it answers (no
refusal, no error), it is in Indonesian (``lang="id"``), and axe-core finds no serious or critical violation. The
page table is the list: a page added without a sample here fails the test. English is a switch away."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.gateway.console.pages import PAGES
from tests.browser.console import Api, Staff, accessible, go, recommended_proposal, submit, today, until

pytestmark = pytest.mark.browser

HAJIMENA = "18.01.04.2001"  # Hajimena, Natar
# page → who opens it, and the address (with the ids of the records made below)
SAMPLES = {
    "/": ("operator", "/console/"),
    "/people": ("operator", "/console/people?q=aminah"),
    "/households/new": ("operator", "/console/households/new"),
    "/households/{kk}": ("operator", "/console/households/{kk}"),
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
    "/dashboard": ("head", "/console/dashboard"),
    "/audit": ("auditor", "/console/audit"),
    "/audit/head": ("auditor", "/console/audit/head"),
    "/audit/replay": ("auditor", "/console/audit/replay?as_of_date=" + "{today}"),
    "/users": ("admin", "/console/users"),
    "/password": ("operator", "/console/password"),
}
DOWNLOADS = {"/dashboard.csv", "/audit/report"}  # files, not pages
LOGIN = {"/login"}  # checked below, logged out


@pytest.fixture(scope="module")
def ids(console) -> dict[str, str]:
    """A grant with tranche 1 paid, its group and households, the Family School's cohort with a session today."""
    proposal_id = recommended_proposal(console, 3000, village=HAJIMENA)  # a village of its own: other tests' data
    Api(console, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(console, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    treasurer = Api(console, "treasurer")
    payment = treasurer.call("POST", f"/grants/{proposal_id}/tranches/1/disburse")
    treasurer.call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    Api(console, "treasurer_2").call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                                     {"bank_reference": "BRI-PAGES-1"})
    [(group_id, kk)] = console.sql("grants", "SELECT p.group_id::text, m ->> 'kk' FROM proposals p JOIN groups g "
                                             "USING (group_id), jsonb_array_elements(g.members) m "
                                             "WHERE p.proposal_id = %s LIMIT 1", (proposal_id,))
    [(cohort_id,)] = until(lambda: console.sql("training", "SELECT cohort_id::text FROM participants WHERE "
                                                           "group_id = %s LIMIT 1", (group_id,)),
                           what="the cohort of the group")
    session = Api(console, "facilitator").call("POST", f"/cohorts/{cohort_id}/sessions", {
        "module": "keuangan", "session_date": today(), "place": "Balai Desa Hajimena"})
    return {"kk": kk, "group_id": group_id, "proposal_id": proposal_id, "cohort_id": cohort_id,
            "session_id": session["session_id"], "today": today()}


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
