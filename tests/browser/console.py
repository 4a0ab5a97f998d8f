"""The office's people at the console, as the browser tests drive them: each logs in as themselves (Indonesian, the
default), and the steps of the programme are done the way a person does them — choosing from lists, typing in
fields, pressing the buttons the page offers. Nothing here calls the API directly."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from services.gateway.console.i18n import grouped
from tests.browser.staff import STAFF
from tests.support.households import LINES, PASSWORD, group_body, household_body

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".run" / "screenshots"
BLOCKING = ("serious", "critical")  # axe-core impacts that fail a page


@dataclass(frozen=True)
class ConsoleSystem:
    """The running system (tests/browser/serve.py): where the console is, and the databases, to look inside as an
    auditor would (a refusal changed nothing)."""

    base: str
    gateway_database: str
    databases: dict[str, str]

    def sql(self, service: str, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.databases[service], autocommit=True) as conn:
            return conn.execute(query, params).fetchall()


class Api:
    """The HTTP API as another system uses it: for what a test needs in place before a person opens the console."""

    def __init__(self, system: ConsoleSystem, who: str) -> None:
        self.base, self.session = system.base + "/api/v1", requests.Session()
        answer = self.session.post(f"{self.base}/auth/token", json={"username": STAFF[who][0], "password": PASSWORD},
                                   timeout=30)
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, body: dict | None = None, **params) -> dict:
        answer = self.session.request(method, self.base + path, json=body, params=params, timeout=60,
                                      headers={"Idempotency-Key": f"browser-test-{time.time_ns()}"})
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json()

    def upload_bdt(self, text: str) -> dict:
        """A DTKS/BDT file sent to the import, as the office's other systems send it."""
        return self.upload("/imports/bdt", text.encode(), "text/csv")

    def upload(self, path: str, content: bytes, media_type: str, **params) -> dict:
        """A file sent as the body (a DTKS file, a scan to attach), as the office's other systems send it."""
        answer = self.session.post(self.base + path, data=content, params=params, timeout=300,
                                   headers={"Content-Type": media_type})
        assert answer.status_code < 300, (answer.status_code, answer.text)
        return answer.json()


class Staff:
    def __init__(self, system: ConsoleSystem, browser: Browser) -> None:
        self.system, self.browser = system, browser
        self.contexts: list[BrowserContext] = []
        self.pages: dict[str, Page] = {}

    def log_in(self, who: str, *, viewport: dict | None = None) -> Page:
        """A browser of this person's own, logged in through the login form."""
        context = self.browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="id-ID",
                                           timezone_id="Asia/Jakarta")
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        self.pages[who] = page
        page.goto(f"{self.system.base}/console/")
        expect(page).to_have_url(re.compile(r"/console/login"))
        page.fill("#f-username", STAFF[who][0])
        page.fill("#f-password", PASSWORD)
        page.click("form[action$='/login'] button[type=submit]")
        expect(page.locator("header .who")).to_contain_text(STAFF[who][0])
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def go(page: Page, path: str) -> None:
    base = re.match(r"https?://[^/]+", page.url).group(0)
    page.goto(base + path)


def submit(page: Page, form: str) -> None:
    """Press the form's main button (its last submit button), and wait for the page that answers."""
    with page.expect_navigation():
        page.locator(form).locator("button[type=submit]:not([formnovalidate])").last.click()


def notice(page: Page) -> str:
    """What the page says was done (after a redirect)."""
    return " ".join(page.locator("p.notice[role=status]").all_inner_texts())


def refusal(page: Page) -> str:
    """The sentence a refusal is shown with: above the form, or next to its field."""
    shown = page.locator("p.refusal, small.error")
    expect(shown.first).to_be_visible()
    return " ".join(shown.all_inner_texts())


def until(check: Callable[[], object], timeout: float = 30, what: str = "") -> object:
    """Wait for what another service learns by an event (seconds): ``check()``'s first truthy answer."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.3)
    return found


def eventually_on(page: Page, check: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    """Reload the page until ``check()`` holds (what other services learn arrives by events, in seconds)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not shown within {timeout:g} s: {what}")
        time.sleep(0.5)
        page.reload()


def accessible(page: Page) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    result = Axe().run(page)
    blocking = [v for v in result.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, (page.url, [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
                                     for v in blocking])


# --- the programme's steps, as a person does them ----------------------------------------------------------------

def register_household(page: Page, body: dict) -> None:
    go(page, "/console/households/new")
    page.fill("#f-kk", body["kk"])
    page.fill("#f-dtks_id", body["dtks_id"])
    page.fill("#f-decile", str(body["decile"]))
    page.select_option("#f-village_code", body["village_code"])
    page.fill("#f-address", body["address"])
    for index, member in enumerate(body["members"]):
        prefix = f"#f-members-{index}"
        page.fill(f"{prefix}-nik", member["nik"])
        page.fill(f"{prefix}-name", member["name"])
        page.select_option(f"{prefix}-sex", member["sex"])
        page.fill(f"{prefix}-birth_date", member["birth_date"])
        page.select_option(f"{prefix}-relation", member["relation"])
        if member.get("occupation"):
            page.fill(f"{prefix}-occupation", member["occupation"])
    submit(page, "form[action$='/console/households']")


def show_candidates(page: Page, village: str) -> None:
    go(page, "/console/groups/new")
    page.select_option("#f-village_code", village)
    page.select_option("#f-kind", "perempuan")
    with page.expect_navigation():
        page.click("button[name=_show]")


def form_group(page: Page, name: str, households: list[dict], village: str) -> None:
    show_candidates(page, village)
    for body in households:  # the form names households and people by id: pick them as the operator reads them
        page.get_by_label(grouped(body["kk"]), exact=True).check()
    representatives = [f"{body['members'][0]['name']} · {body['kk'][-4:]}" for body in households]
    for role, representative in zip(("ketua", "sekretaris", "bendahara"), representatives, strict=False):
        page.select_option(f"#f-roles-{role}", label=representative)
    page.fill("#f-name", name)
    page.select_option("#f-business_type", "jahit")
    page.fill("#f-bank_account-bank", "BRI")
    page.fill("#f-bank_account-number", "0123-01-000123-50-1")
    page.fill("#f-bank_account-holder", name)
    page.fill("#f-sk_kades", "140/12/SK/2026")
    submit(page, "form[action$='/console/groups']")


def fill_lines(page: Page, prefix: str, lines: list[dict]) -> None:
    for index, line in enumerate(lines):
        for field, value in line.items():
            page.fill(f"#f-{prefix}-{index}-{field}", str(value))


def press(page: Page, name: str) -> None:
    """Press the button with this (Indonesian) name and wait for the answer."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()


def today() -> str:
    """Today where the office is (the services decide on Asia/Jakarta's date too)."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()


# --- what a test needs in place, through the API ------------------------------------------------------------

def recommended_proposal(console: ConsoleSystem, start: int, village: str = "18.01.06.2005") -> str:
    """Seven households, their women's KUBE, and its proposal recommended by the province: through the API."""
    proposal_id = verified_proposal(console, start, village)
    Api(console, "province").call("POST", f"/proposals/{proposal_id}/recommend")
    return proposal_id


def verified_proposal(console: ConsoleSystem, start: int, village: str = "18.01.06.2005") -> str:
    """Seven households, their women's KUBE, and its proposal verified by the district: through the API."""
    operator, verifier = Api(console, "operator"), Api(console, "verifier")
    households = [household_body(start + i, village) for i in range(7)]
    for body in households:
        operator.call("POST", "/households", body)
    group_id = operator.call("POST", "/groups", group_body(f"KUBE Mawar {start}", households, village))["group_id"]
    until(lambda: console.sql("grants", "SELECT 1 FROM groups WHERE group_id = %s", (group_id,)),
          what="grants learns of the group")
    proposal_id = operator.call("POST", "/proposals", {"group_id": group_id, "business_plan": "Usaha jahit",
                                                       "budget_lines": LINES, "form": "cash"})["proposal_id"]
    operator.call("POST", f"/proposals/{proposal_id}/submit")
    verifier.call("POST", f"/proposals/{proposal_id}/verify")
    return proposal_id
