"""Password guessing is throttled per username and per client address, in the gateway's database (issue 15,
item 5): after 5 failures for a username (20 from one address) a login is answered 429 with Retry-After — the
right password too — until the back-off has passed; meanwhile other users log in and are served as usual.
Before, every guess was answered 401 after a full argon2 hash, as fast as a client could send them."""

from __future__ import annotations

import html
import re
import statistics
import threading
import time

import pytest
import requests

from tests.integration.test_console_audit_users import CONSOLE, Browser
from tests.integration.test_gateway import PASSWORD, GatewaySystem
from tests.support.system import System

pytestmark = pytest.mark.integration

BACKOFF_S = 10  # the first block: long enough to try the right password during it on a busy machine
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def gateway(system: System):
    # No service is needed: logging in and GET /api/v1/me are the gateway's own.
    gateway = GatewaySystem(system, LOGIN_BACKOFF_S=BACKOFF_S, CONSOLE_SECURE_COOKIES="false").start()
    try:
        yield gateway
    finally:
        gateway.close()


def log_in(gateway: GatewaySystem, password: str, username: str = "op.kalianda") -> tuple[int, dict, dict]:
    """One login over the API: status, body, headers."""
    answer = requests.post(gateway.base + TOKEN, json={"username": username, "password": password}, timeout=60)
    return answer.status_code, answer.json(), answer.headers


def throttled(status: int, body: dict, headers: dict) -> int:
    """The seconds a 429 says to wait (after checking it is one, in the API's error shape)."""
    assert status == 429, (status, body)
    assert body["error"]["code"] == "too_many_attempts", body
    wait_s = int(headers["Retry-After"])
    assert 1 <= wait_s <= BACKOFF_S, headers
    return wait_s


def median_s(request, times: int = 5) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        request()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def test_twenty_wrong_passwords_throttle_that_user_and_nobody_else(gateway: GatewaySystem):
    gateway.add_user("op.kalianda", "operator", "18.01")
    gateway.add_user("op.natar", "operator", "18.01")

    answers = [log_in(gateway, f"tebakan-{n}") for n in range(20)]
    assert [status for status, _, _ in answers[:5]] == [401] * 5, answers[:5]
    for answer in answers[5:]:
        throttled(*answer)
    assert answers[-1][1]["error"]["rule"] == "login.throttled"
    # The right password is refused too while the back-off lasts: it is not even checked.
    wait_s = throttled(*log_in(gateway, PASSWORD))

    # Meanwhile, with the guessing going on, another user logs in and is served as usual.
    guessing, stop = [], threading.Event()

    def guess() -> None:
        while not stop.is_set():
            guessing.append(log_in(gateway, "tebakan-lagi")[0])

    guesser = threading.Thread(target=guess)
    guesser.start()
    try:
        other = gateway.client("op.natar")
        assert median_s(lambda: other.ok("GET", "/api/v1/me")) < 2.0
    finally:
        stop.set()
        guesser.join(timeout=30)
    assert guessing and set(guessing) == {429}, guessing[:20]

    # After the back-off, the right password logs in, and clears the username's failures: one typo is a 401.
    time.sleep(wait_s + 0.5)
    status, body, _ = log_in(gateway, PASSWORD)
    assert status == 200 and body["access_token"], body
    assert log_in(gateway, "salah-ketik")[0] == 401
    assert log_in(gateway, PASSWORD)[0] == 200


def test_one_address_guessing_many_usernames_is_throttled(gateway: GatewaySystem):
    gateway.add_user("op.kalianda", "operator", "18.01")
    statuses = [log_in(gateway, PASSWORD, f"tebak.{n}")[0] for n in range(20)]  # one guess each: no username reaches 5
    assert statuses == [401] * 20, statuses
    # The address has failed 20 times: from it, even a right password waits.
    wait_s = throttled(*log_in(gateway, PASSWORD))
    time.sleep(wait_s + 0.5)
    assert log_in(gateway, PASSWORD)[0] == 200


def test_the_console_says_how_long_to_wait_in_indonesian_then_english(gateway: GatewaySystem):
    gateway.add_user("op.kalianda", "operator", "18.01")
    browser = Browser(gateway.base)
    browser.read_csrf(f"{CONSOLE}/login")

    def login_form(password: str):
        return browser.post(f"{CONSOLE}/login", {"username": "op.kalianda", "password": password,
                                                 "next": f"{CONSOLE}/"})

    for _ in range(5):
        answer = login_form("tebakan")
        assert answer.status_code == 401 and "Nama pengguna atau kata sandi salah" in html.unescape(answer.text)
    answer = login_form(PASSWORD)
    shown = html.unescape(answer.text)
    assert answer.status_code == 429, shown[:500]
    assert re.search(r"Terlalu banyak percobaan masuk yang gagal\. Tunggu \d+ detik, lalu coba lagi\.", shown), shown
    browser.post(f"{CONSOLE}/language", {"language": "en", "next": f"{CONSOLE}/login"})
    shown = html.unescape(login_form(PASSWORD).text)
    assert re.search(r"Too many failed logins\. Please wait \d+ seconds and try again\.", shown), shown
    assert "berdaya_session" not in browser.http.cookies  # no session was opened
