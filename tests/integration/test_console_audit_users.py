"""The console's pages for admins and auditors, on the real gateway and services, driven as a browser would (forms,
cookies, redirects): users added, disabled, enabled and given a new password — with the sessions that ends — and
the audit (the ledger's head, a verification, the report, the state as of a moment, a disbursement's provenance).

Pages are read in English (the language switch), so the sentences checked are the message ids themselves.
"""

from __future__ import annotations

import html
import io
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import requests

from tests.integration.test_gateway import (
    PASSWORD,
    Client,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway_running,
    register_group,
    set_budget,
)
from tests.integration.test_gateway_audit import BANK_REFERENCE, caught_up
from tests.support.system import System

pytestmark = pytest.mark.integration

CONSOLE = "/console"
WIB = timezone(timedelta(hours=7))
NEW_PASSWORD = "sandi-baru-lampung-2026"
OWN_PASSWORD = "sandi-pilihan-sendiri-natar"
OWN_AGAIN = "sandi-pilihan-kedua-natar"


class Browser:
    """One browser: its cookies, the console in English, forms sent with their CSRF token and a fresh key."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()
        self.csrf = ""

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=300, **kwargs)

    def post(self, path: str, data: dict | None = None) -> requests.Response:
        form = {"_csrf": self.csrf, "_key": uuid.uuid4().hex, **(data or {})}
        return self.http.post(self.base + path, data=form, allow_redirects=False, timeout=300)

    def page(self, path: str, status: int = 200) -> str:
        """A page's text (entities decoded), after checking its status."""
        response = self.get(path)
        assert response.status_code == status, (path, response.status_code, response.headers, response.text[:500])
        return html.unescape(response.text)

    def read_csrf(self, path: str) -> None:
        """The form token of the page at ``path``, or of the page it sends this user to (the head's home: the
        dashboard)."""
        response = self.http.get(self.base + path, timeout=300)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        self.csrf = re.search(r'name="_csrf" value="([^"]+)"', response.text).group(1)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        self.read_csrf(f"{CONSOLE}/login")  # before login: the double-submit cookie's token
        self.post(f"{CONSOLE}/language", {"language": "en", "next": f"{CONSOLE}/login"})
        answer = self.post(f"{CONSOLE}/login", {"username": username, "password": password, "next": f"{CONSOLE}/"})
        if answer.status_code == 303:
            self.read_csrf(f"{CONSOLE}/")  # the session's token
        return answer

    def choose_password(self, username: str, current: str, new: str) -> requests.Response:
        """The change-password form, as the login leads to it (sent with the CSRF token of the form shown)."""
        return self.post(f"{CONSOLE}/password", {"username": username, "password": current, "new_password": new,
                                                 "repeat_password": new, "forced": "1", "next": f"{CONSOLE}/"})

    def logged_in(self, username: str, password: str = PASSWORD) -> Browser:
        answer = self.login(username, password)
        assert answer.status_code == 303 and answer.headers["Location"] == f"{CONSOLE}/", (answer.status_code,
                                                                                         answer.text[:500])
        return self

    def done(self, answer: requests.Response, code: str) -> str:
        """A write's redirect (with what it confirms), followed."""
        assert answer.status_code == 303, (answer.status_code, html.unescape(answer.text)[:1500])
        location = answer.headers["Location"]
        assert location.endswith(f"done={code}"), location
        return self.page(location)


def rows(text: str) -> list[str]:
    """Every table row of a page, as its cells' text separated by ' | '."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        found.append(" | ".join(" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells))
    return found


def rows_with(text: str, *parts: str) -> list[str]:
    return [row for row in rows(text) if all(part in row for part in parts)]


def section(text: str, title_id: str) -> str:
    """The page's ``<section>`` whose heading has this id."""
    return re.search(rf'<section aria-labelledby="{title_id}">(.*?)</section>', text, re.S).group(1)


@pytest.fixture
def console(system: System):
    with gateway_running(system, CONSOLE_SECURE_COOKIES="false") as gateway:  # plain http: cookies sent back
        yield gateway


def browser(gateway: GatewaySystem, username: str | None = None, password: str = PASSWORD) -> Browser:
    opened = Browser(gateway.base)
    return opened.logged_in(username, password) if username else opened


def first_login(gateway: GatewaySystem, username: str, given: str, own: str) -> Browser:
    """A user whose password an administrator set logs in: the console asks for their own before anything else,
    and then they are in."""
    opened = Browser(gateway.base)
    answer = opened.login(username, given)
    text = html.unescape(answer.text)
    assert answer.status_code == 200 and "<h1>Choose your password</h1>" in text, (answer.status_code, text[:800])
    assert "An administrator set your password. Choose your own before you continue" in text
    assert "berdaya_session" not in opened.http.cookies  # no session until it is changed
    answer = opened.choose_password(username, given, own)
    assert answer.status_code == 303 and answer.headers["Location"] == f"{CONSOLE}/", (answer.status_code,
                                                                                     answer.text[:800])
    opened.read_csrf(f"{CONSOLE}/")
    return opened


def must_change(gateway: GatewaySystem, username: str, password: str) -> bool:
    """What the API says to this password: a token (False), or that it must be changed first (True)."""
    status, answer = Client(gateway.base).post("/api/v1/auth/token", {"username": username, "password": password})
    assert status in (200, 403), (status, answer)
    if status == 403:
        assert answer["error"]["code"] == "password_change_required", answer
        assert answer["error"]["rule"] == "password.change_required", answer
    return status == 403


# --- users -----------------------------------------------------------------------------------------------------

def test_an_admin_adds_disables_enables_and_resets_a_user(console: GatewaySystem):
    admin = browser(console, console.add_user("admin.pusat", "admin", ""))
    text = admin.page(f"{CONSOLE}/users")
    assert rows_with(section(text, "users-title"), "admin.pusat", "Admin", "national", "active")
    new_user = {"username": "op.natar", "role": "operator", "region": "18.01", "password": PASSWORD}

    # Added: in the list, to choose a password of their own, and its change with who made it.
    text = admin.done(admin.post(f"{CONSOLE}/users", new_user), "user_added")
    assert "The user is added." in text
    assert rows_with(section(text, "users-title"), "op.natar", "Operator", "18.01", "active", "must choose a password")
    assert rows_with(section(text, "changes-title"), "op.natar", "added as Operator for 18.01", "admin.pusat")

    # The same name again: the API's sentence next to the username, and nothing changed.
    answer = admin.post(f"{CONSOLE}/users", {**new_user, "role": "auditor", "region": ""})
    assert answer.status_code == 409, answer.status_code
    shown = re.search(r'<small class="error" id="error-username">(.*?)</small>', html.unescape(answer.text))
    assert shown and shown.group(1) == "A user with this name exists already."
    text = admin.page(f"{CONSOLE}/users")
    assert len(rows_with(section(text, "users-title"), "op.natar")) == 1
    assert rows_with(section(text, "users-title"), "op.natar", "Operator", "18.01")
    assert len(rows_with(section(text, "changes-title"), "op.natar", "added as")) == 1

    # A form's own checks before anything is sent: a short password, no role.
    answer = admin.post(f"{CONSOLE}/users", {"username": "pendek", "role": "", "region": "", "password": "1234567"})
    assert answer.status_code == 400
    assert re.search(r'id="error-password">At least 8 characters\.<', answer.text)
    assert re.search(r'id="error-role">Choose one of the options\.<', answer.text)
    assert "pendek" not in {user.username for user in console.store.users()}

    # The password the admin typed gets no token; at the first login the console asks for their own first.
    assert must_change(console, "op.natar", PASSWORD)
    operator = first_login(console, "op.natar", PASSWORD, OWN_PASSWORD)
    assert operator.get(f"{CONSOLE}/").status_code == 200
    assert not must_change(console, "op.natar", OWN_PASSWORD)
    assert Browser(console.base).login("op.natar", PASSWORD).status_code == 401  # the admin's is gone
    text = admin.page(f"{CONSOLE}/users")
    assert not rows_with(section(text, "users-title"), "op.natar", "must choose a password")
    assert rows_with(section(text, "changes-title"), "op.natar", "changed their own password", "op.natar")

    # Disabled: their open session ends at once, and they cannot log in again.
    text = admin.done(admin.post(f"{CONSOLE}/users/op.natar/disable"), "user_disabled")
    assert rows_with(section(text, "users-title"), "op.natar", "disabled")
    ended = operator.get(f"{CONSOLE}/")
    assert ended.status_code == 303 and ended.headers["Location"].startswith(f"{CONSOLE}/login"), ended.headers
    assert Browser(console.base).login("op.natar", OWN_PASSWORD).status_code == 401

    # Enabled: they log in again.
    admin.done(admin.post(f"{CONSOLE}/users/op.natar/enable"), "user_enabled")
    operator = browser(console, "op.natar", OWN_PASSWORD)

    # A new password: too short is said next to that user's field; then set, it ends their session.
    answer = admin.post(f"{CONSOLE}/users/op.natar/password", {"password": "kurang"})
    assert answer.status_code == 400 and "At least 8 characters." in answer.text
    assert operator.get(f"{CONSOLE}/").status_code == 200
    text = admin.done(admin.post(f"{CONSOLE}/users/op.natar/password", {"password": NEW_PASSWORD}),
                      "password_reset")
    assert ("The new password is set: the user's sessions have ended, and they choose their own at the next login."
            in text)
    assert rows_with(section(text, "users-title"), "op.natar", "must choose a password")
    ended = operator.get(f"{CONSOLE}/")
    assert ended.status_code == 303 and ended.headers["Location"].startswith(f"{CONSOLE}/login")
    assert Browser(console.base).login("op.natar", OWN_PASSWORD).status_code == 401
    assert must_change(console, "op.natar", NEW_PASSWORD)

    # The reset password must be changed too — not to itself, and with the current one: refused, nothing changed.
    again = Browser(console.base)
    assert "<h1>Choose your password</h1>" in again.login("op.natar", NEW_PASSWORD).text
    answer = again.choose_password("op.natar", NEW_PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 400, answer.status_code
    assert re.search(r'id="error-new_password">The new password must differ from the current one\.<',
                     html.unescape(answer.text))
    answer = again.choose_password("op.natar", "bukan-sandinya", OWN_AGAIN)
    assert answer.status_code == 401 and "Wrong username or password" in html.unescape(answer.text)
    assert "berdaya_session" not in again.http.cookies
    assert must_change(console, "op.natar", NEW_PASSWORD)  # re-read: still the admin's password, still to change
    assert Browser(console.base).login("op.natar", OWN_AGAIN).status_code == 401
    operator = first_login(console, "op.natar", NEW_PASSWORD, OWN_AGAIN)
    assert operator.get(f"{CONSOLE}/").status_code == 200

    # The record: who did what to whom, oldest last, in the console and in the API, and it cannot be rewritten.
    changes = section(admin.page(f"{CONSOLE}/users"), "changes-title")
    for change in ("disabled", "enabled", "password reset"):
        assert rows_with(changes, "op.natar", change, "admin.pusat"), (change, rows(changes))
    assert len(rows_with(changes, "op.natar", "changed their own password", "op.natar")) == 2
    status, recorded = console.client("admin.pusat").get("/api/v1/users/changes", params={"username": "op.natar"})
    assert status == 200
    assert [(c["change"], c["by"]) for c in recorded] == [
        ("password_changed", "op.natar"), ("password_reset", "admin.pusat"), ("enabled", "admin.pusat"),
        ("disabled", "admin.pusat"), ("password_changed", "op.natar"), ("added", "admin.pusat")]
    assert all(datetime.fromisoformat(c["at"]).utcoffset() is not None for c in recorded)
    for rewrite in ("UPDATE user_changes SET by = 'siapa.saja'", "DELETE FROM user_changes", "TRUNCATE user_changes"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"), console.store.connection() as conn:
            conn.execute(rewrite)
    assert len(console.store.user_changes("op.natar")) == 6


def test_an_operator_may_not_manage_users(console: GatewaySystem):
    operator = browser(console, console.add_user("op.kalianda", "operator", "18.01"))
    text = operator.page(f"{CONSOLE}/users", status=403)
    assert "Your role may not do this." in text
    answer = operator.post(f"{CONSOLE}/users", {"username": "siluman", "role": "admin", "region": "",
                                                "password": PASSWORD})
    assert answer.status_code == 403 and "Your role may not do this." in answer.text
    assert "siluman" not in {user.username for user in console.store.users()}
    assert operator.post(f"{CONSOLE}/users/op.kalianda/disable").status_code == 403
    assert not next(u for u in console.store.users() if u.username == "op.kalianda").disabled
    # The audit is for national auditors and admins.
    assert "Your role may not do this." in operator.page(f"{CONSOLE}/audit", status=403)


# --- audit -----------------------------------------------------------------------------------------------------

def test_an_auditor_verifies_replays_downloads_and_follows_a_disbursement(console: GatewaySystem):
    staff = Staff(console)
    set_budget(staff)
    group_id, _ = register_group(staff, 700, name="KUBE Melati")
    proposal_id = approved_proposal(staff, group_id)
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": "console-audit-tranche-1"})
    grant = f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}"
    staff.treasurer.ok("POST", f"{grant}/sent")
    staff.treasurer_2.ok("POST", f"{grant}/confirm", {"bank_reference": BANK_REFERENCE})
    caught_up(console.system)
    auditor = browser(console, "inspektorat")

    # The page renders without running the audit; the ledger's head comes as a fragment (htmx) or a page.
    text = auditor.page(f"{CONSOLE}/audit")
    assert "No verification has been run yet." in text
    assert f'hx-get="{CONSOLE}/audit/head" hx-trigger="load"' in text
    fragment = auditor.get(f"{CONSOLE}/audit/head", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    head = re.search(r"<pre[^>]*><code>([0-9a-f]{64})</code></pre>", fragment.text)
    assert head, fragment.text
    assert '<html lang="en">' in auditor.page(f"{CONSOLE}/audit/head")

    # Verify now: the result, then the run at the top of the last verifications, by whom.
    answer = auditor.post(f"{CONSOLE}/audit/verify")
    text = html.unescape(answer.text)
    assert answer.status_code == 200, text[:2000]
    assert "No problem found" in text, section(text, "result-title")
    assert head.group(1) in section(text, "result-title")
    runs = rows(section(auditor.page(f"{CONSOLE}/audit"), "runs-title"))
    assert len(runs) == 2 and "inspektorat" in runs[1] and "| ok |" in runs[1], runs  # a header row, one run

    # The report: a zip with the HTML and the CSV files.
    report = auditor.get(f"{CONSOLE}/audit/report")
    assert report.status_code == 200 and report.headers["Content-Type"] == "application/zip"
    assert report.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "report.html" in zipfile.ZipFile(io.BytesIO(report.content)).namelist()

    # The state as of a moment in WIB: now, and before anything happened; a wrong date is said next to its field.
    today = datetime.now(WIB)
    tomorrow = (today + timedelta(days=1)).date().isoformat()
    text = auditor.page(f"{CONSOLE}/audit/replay?as_of_date={tomorrow}&as_of_time=")
    proposals = rows_with(section(text, "proposals-title"), "KUBE Melati")
    assert proposals and "approved" in proposals[0] and "Rp" in proposals[0], rows(text)
    assert "Tranche 1: confirmed" in proposals[0], proposals
    assert rows_with(section(text, "groups-title"), "KUBE Melati", "7")
    assert rows_with(section(text, "budgets-title"), "2026", "APBN")
    text = auditor.page(f"{CONSOLE}/audit/replay?as_of_date=2020-01-01&as_of_time=08:00")
    assert "1 January 2020, 08:00 WIB" in text and "No proposal was drafted yet." in text
    text = auditor.page(f"{CONSOLE}/audit/replay?as_of_date=kemarin&as_of_time=25:00", status=400)
    assert re.search(r'id="error-as_of_date">Give a date\.<', text)
    assert re.search(r'id="error-as_of_time">A time of day, e\.g\. 16:30\.<', text)

    # The provenance of the disbursement: from the drafting to the payment, who and when, top to bottom.
    text = auditor.page(f"{CONSOLE}/grants/{proposal_id}/provenance")
    payments = rows_with(section(text, "payments-title"), "Tranche 1", BANK_REFERENCE)
    assert payments and all(name in payments[0] for name in ("bendahara.lamsel", "bendahara2.lamsel", "confirmed")), \
        payments
    assert "kemensos.pusat" in section(text, "approval-title") and "Rp 14,000,000" in section(text, "approval-title")
    timeline = section(text, "timeline-title")
    steps = ["Drafted", "Submitted", "Verified (district)", "Recommended (province)", "Approved (ministry)",
             "Payment instructed", "Sent to the bank", "Confirmed by the bank"]
    places = [timeline.find(f"<strong>{step}</strong>") for step in steps]
    assert -1 not in places and places == sorted(places), dict(zip(steps, places, strict=True))
    for who in ("op.kalianda", "kabid.lamsel", "dinsos.lampung", "kemensos.pusat", "bendahara.lamsel"):
        assert f"by {who}" in timeline, who
    # Any role that may read the grant may follow it; another region's may not.
    operator = browser(console, "op.kalianda")
    assert BANK_REFERENCE in operator.page(f"{CONSOLE}/grants/{proposal_id}/provenance")
    console.add_user("op.tanggamus", "operator", "18.06")
    other = browser(console, "op.tanggamus")
    assert other.get(f"{CONSOLE}/grants/{proposal_id}/provenance").status_code == 404  # as if it did not exist
