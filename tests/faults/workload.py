"""A mixed workload through the HTTP API, driven the way a careful client drives it during outages, and the ledger
of what it was told — so that afterwards every acknowledged command can be looked for in the stores.

One *unit* of work is one KUBE carried from its households to a confirmed first tranche: seven households
registered, the women's group formed, its proposal drafted and carried up the route (submit, verify, recommend,
approve), tranche 1 instructed under an Idempotency-Key (and the same instruction sent once more, as a double-clicking
treasurer would), marked sent, and confirmed by another treasurer (segregation of duties) — 18 commands. Workers
run units back to back until told to stop.

The client's rules, which are what the API promises (docs/api.md):
- every write carries an Idempotency-Key; on an answer that leaves the outcome unknown (503, 502, no answer, the
  connection refused or cut) the client sends the SAME request with the SAME key again, until it gets an answer;
- a 409 to such a retry may mean "your first attempt did it" (e.g. the household is registered already): the
  client then reads the resource to find out, as a person would. An acknowledged command is one with a 2xx answer,
  or one whose effect the client found that way;
- every answer is timed: a 503 must come within a bounded time, and no request may hang.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests

from tests.integration.test_gateway import group_body

VILLAGES = ("18.01.04.2001", "18.01.04.2002", "18.01.06.2001", "18.01.06.2005")
HOUSEHOLDS_PER_GROUP = 7  # a women's KUBE has 7–10
APPROVED_RP = 14_000_000  # of Rp 16,500,000 requested; the cap is Rp 2,000,000 per household
LINES = [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000},
         {"item": "Kain dan benang", "quantity": 1, "unit": "paket", "unit_price_rp": 4_000_000}]
TRANCHE_1_RP = APPROVED_RP * 70 // 100
CLIENT_TIMEOUT_S = 30.0  # a request unanswered this long counts as a hang
GIVE_UP_S = 240.0  # a command still without an answer after this long is lost (the test fails)
AMBIGUOUS = {502, 503, 504}
STAFF = {  # username: (role, region)
    "op.faults": ("operator", "18.01"), "kabid.faults": ("verifier", "18.01"), "dinsos.faults": ("province", "18"),
    "kemensos.faults": ("ministry", ""), "bendahara.faults": ("treasurer", "18.01"),
    "bendahara2.faults": ("treasurer", "18.01"),  # confirms what bendahara.faults instructs
}


class Lost(Exception):
    """A command that got no definite answer within GIVE_UP_S."""


class Refused(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body

    @property
    def rule(self) -> str | None:
        return (self.body.get("error") or {}).get("rule") if isinstance(self.body, dict) else None


@dataclass
class Ledger:
    """What the clients were told, and how the API behaved while they were told it."""

    commands: int = 0  # acknowledged commands
    attempts: int = 0  # requests sent (writes and reads)
    households: set[str] = field(default_factory=set)
    groups: dict[str, str] = field(default_factory=dict)  # group id → name
    approved: set[str] = field(default_factory=set)  # proposal ids
    payments: dict[str, str] = field(default_factory=dict)  # idempotency key → payment id
    confirmed: set[str] = field(default_factory=set)  # payment ids
    unavailable_s: list[float] = field(default_factory=list)  # how long each 503 took to come
    refused_connections: int = 0
    hangs: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    failed_units: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **changes: Any) -> None:
        with self.lock:
            for name, value in changes.items():
                target = getattr(self, name)
                if isinstance(target, set):
                    target.add(value)
                elif isinstance(target, dict):
                    target.update(value)
                elif isinstance(target, list):
                    target.append(value)
                else:
                    setattr(self, name, target + value)


class Client:
    """One member of staff: a token, a session, and the retry discipline above."""

    def __init__(self, base: str, token: str, ledger: Ledger) -> None:
        self.base, self.ledger = base, ledger
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _send(self, method: str, path: str, body: Any, key: str | None, params: dict | None) -> tuple[int, Any]:
        """One request; (None, reason) when there was no answer."""
        headers = {"Idempotency-Key": key} if key else {}
        started = time.monotonic()
        self.ledger.add(attempts=1)
        try:
            response = self.session.request(method, self.base + path, json=body, headers=headers, params=params,
                                            timeout=CLIENT_TIMEOUT_S)
        except requests.ConnectionError as exc:
            if "timed out" in str(exc).lower() or "read timeout" in str(exc).lower():
                self.ledger.add(hangs=f"{method} {path}: {exc}")
            else:
                self.ledger.add(refused_connections=1)
            return 0, str(exc)
        except requests.Timeout as exc:
            self.ledger.add(hangs=f"{method} {path}: no answer in {CLIENT_TIMEOUT_S:g} s ({exc})")
            return 0, str(exc)
        elapsed = time.monotonic() - started
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:500]
        if response.status_code == 503:
            self.ledger.add(unavailable_s=elapsed)
        elif response.status_code >= 500:  # 502: a service failed on something other than an outage (a bug)
            self.ledger.add(server_errors=f"{method} {path} → {response.status_code}: {answer}")
        return response.status_code, answer

    def read(self, path: str, params: dict | None = None) -> Any:
        """A GET, repeated through outages until it is answered; a 4xx raises Refused."""
        deadline = time.monotonic() + GIVE_UP_S
        while True:
            status, answer = self._send("GET", path, None, None, params)
            if 200 <= status < 300:
                return answer
            if 400 <= status < 500:
                raise Refused(status, answer)
            if time.monotonic() > deadline:
                raise Lost(f"GET {path}: no answer in {GIVE_UP_S:g} s (last {status}: {answer})")
            time.sleep(0.5)

    def command(self, method: str, path: str, body: Any = None, *, key: str | None = None,
                already_done: Callable[[Refused], Any] | None = None) -> Any:
        """Send a write until it has a definite outcome; return the answer of the one that counted.

        ``already_done(refusal)`` is asked when a RETRY is refused: it returns what the first attempt achieved
        (read back from the API) or None when the refusal stands.
        """
        key = key or f"faults-{uuid.uuid4()}"
        deadline, ambiguous = time.monotonic() + GIVE_UP_S, False
        while True:
            status, answer = self._send(method, path, body, key, None)
            if 200 <= status < 300:
                self.ledger.add(commands=1)
                return answer
            if status == 409 and isinstance(answer, dict) and answer["error"].get("rule") == "idempotency.in_progress":
                ambiguous = True  # the first attempt is still running somewhere: wait for its stored answer
            elif 400 <= status < 500:
                refusal = Refused(status, answer)
                found = already_done(refusal) if ambiguous and already_done else None
                if found is None:
                    raise refusal
                self.ledger.add(commands=1)
                return found
            else:
                ambiguous = True
            if time.monotonic() > deadline:
                self.ledger.add(lost=f"{method} {path} (key {key}): last answer {status}: {answer}")
                raise Lost(f"{method} {path}: no definite answer in {GIVE_UP_S:g} s")
            time.sleep(0.5)


def household_body(number: int, village: str) -> dict:
    """A mother (the representative, 27–51) and her grown son; KK and NIKs unique per ``number`` for any run."""
    mother = date(1975 + number % 25, 1 + number // 25 % 12, 1 + number // 300 % 28)
    son = date(2005 + number % 10, 1 + number // 10 % 12, 1 + number // 120 % 28)
    region6 = village.replace(".", "")[:6]

    def nik(born: date, woman: bool, combinations: int) -> str:
        serial = 1 + number // combinations % 9999
        return f"{region6}{born.day + (40 if woman else 0):02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"

    return {
        "kk": f"{region6}{number:010d}", "dtks_id": f"DTKS-F{number:08d}", "village_code": village,
        "address": f"Dusun {number % 7 + 1}", "decile": 1 + number % 4,
        "members": [
            {"nik": nik(mother, True, 8400), "name": f"Siti Rahayu {number}", "sex": "P",
             "birth_date": mother.isoformat(), "relation": "Kepala Keluarga", "occupation": "Pedagang"},
            {"nik": nik(son, False, 3360), "name": f"Budi {number}", "sex": "L", "birth_date": son.isoformat(),
             "relation": "Anak", "occupation": "Buruh Tani"},
        ],
    }


class Office:
    """The office's staff as API clients, and the units of work they carry out."""

    def __init__(self, base: str, tokens: dict[str, str], ledger: Ledger) -> None:
        self.ledger = ledger
        self.operator, self.verifier, self.province, self.ministry, self.treasurer, self.treasurer_2 = (
            Client(base, tokens[name], ledger) for name in STAFF)

    def unit(self, number: int) -> None:
        proposal_id = self.approved_proposal(number)
        self.pay_first_tranche(number, proposal_id)

    def approved_proposal(self, number: int) -> str:
        """Households registered, their group formed, its proposal drafted and approved: the proposal's id."""
        village = VILLAGES[number % len(VILLAGES)]
        households = [household_body(number * HOUSEHOLDS_PER_GROUP + i, village) for i in range(HOUSEHOLDS_PER_GROUP)]
        for body in households:
            self.operator.command("POST", "/api/v1/households", body,
                                  already_done=lambda refusal, kk=body["kk"]: self._household(kk, refusal))
            self.ledger.add(households=body["kk"])
        name = f"KUBE Tangguh {number}"
        group = self.operator.command("POST", "/api/v1/groups", group_body(name, households, village),
                                      already_done=lambda refusal: self._group(name, village))
        group_id = group["group_id"]
        self.ledger.add(groups={group_id: name})

        draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah", "budget_lines": LINES,
                 "form": "cash"}
        proposal_id = self._draft(draft, village)["proposal_id"]
        for client, action, body in ((self.operator, "submit", None), (self.verifier, "verify", None),
                                     (self.province, "recommend", None),
                                     (self.ministry, "approve", {"amount_rp": APPROVED_RP, "form": "cash",
                                                                 "fiscal_year": 2026, "source": "APBN"})):
            answer = client.command("POST", f"/api/v1/proposals/{proposal_id}/{action}", body,
                                    already_done=lambda refusal, a=action: self._proposal_moved(proposal_id, a))
        assert answer["status"] == "approved", answer
        self.ledger.add(approved=proposal_id)
        return proposal_id

    def pay_first_tranche(self, number: int, proposal_id: str) -> None:
        """Tranche 1 instructed (twice with one key: one payment) and sent by one treasurer, confirmed by another."""
        key = f"unit-{number}-tranche-1"
        path = f"/api/v1/grants/{proposal_id}/tranches/1/disburse"
        payment = self.treasurer.command("POST", path, key=key)
        again = self.treasurer.command("POST", path, key=key)  # the treasurer clicked twice
        assert again["payment_id"] == payment["payment_id"], (payment, again)
        payment_id = payment["payment_id"]
        self.ledger.add(payments={key: payment_id})
        for client, step, body in ((self.treasurer, "sent", None),
                                   (self.treasurer_2, "confirm", {"bank_reference": f"BRI-F-{number:08d}"})):
            grant = client.command(
                "POST", f"/api/v1/grants/{proposal_id}/payments/{payment_id}/{step}", body,
                already_done=lambda refusal, s=step: self._payment_moved(proposal_id, payment_id, s))
        assert grant["disbursed_rp"] == TRANCHE_1_RP, grant
        self.ledger.add(confirmed=payment_id)

    # --- reading back what an ambiguous attempt did -----------------------------------------------------------

    def _household(self, kk: str, refusal: Refused) -> Any:
        if refusal.status != 409:
            return None
        try:
            return self.operator.read(f"/api/v1/households/{kk}")
        except Refused:
            return None

    def _group(self, name: str, village: str) -> dict | None:
        page = 1
        while True:
            listed = self.operator.read("/api/v1/groups", {"region": village, "page": page, "size": 200})
            for group in listed["items"]:
                if group["name"] == name:
                    return group
            if page * 200 >= listed["total"]:
                return None
            page += 1

    def _draft(self, draft: dict, village: str) -> dict:
        """Draft once grants has learnt of the group (it hears of it through registry's events)."""
        deadline = time.monotonic() + GIVE_UP_S
        while True:
            try:
                return self.operator.command("POST", "/api/v1/proposals", draft,
                                             already_done=lambda refusal: self._proposal_of(draft["group_id"],
                                                                                            village))
            except Refused as refusal:
                if refusal.status != 404 or time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def _proposal_of(self, group_id: str, village: str) -> dict | None:
        listed = self.operator.read("/api/v1/proposals", {"region": village, "status": "draft", "size": 200})
        return next((p for p in listed["items"] if p["group_id"] == group_id), None)

    ROUTE = ("draft", "submitted", "verified", "recommended", "approved")
    STATUS_AFTER = {"submit": "submitted", "verify": "verified", "recommend": "recommended", "approve": "approved"}

    def _proposal_moved(self, proposal_id: str, action: str) -> dict | None:
        proposal = self.operator.read(f"/api/v1/proposals/{proposal_id}")
        reached = self.ROUTE.index(self.STATUS_AFTER[action])
        return proposal if proposal["status"] in self.ROUTE[reached:] else None

    def _payment_moved(self, proposal_id: str, payment_id: str, step: str) -> dict | None:
        grant = self.treasurer.read(f"/api/v1/grants/{proposal_id}")
        status = next(p["status"] for p in grant["payments"] if p["payment_id"] == payment_id)
        return grant if status in ({"sent", "confirmed"} if step == "sent" else {"confirmed"}) else None


class Workload:
    """``workers`` threads carrying out units until :meth:`stop`; unit numbers never repeat within a run."""

    def __init__(self, office: Office, workers: int = 6, first_unit: int = 0) -> None:
        self.office, self.workers = office, workers
        self.stopping = threading.Event()
        self._next = first_unit
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.units_done = 0

    def _take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _run(self) -> None:
        while not self.stopping.is_set():
            number = self._take()
            try:
                self.office.unit(number)
            except (Lost, Refused, AssertionError, KeyError, StopIteration) as exc:
                self.office.ledger.add(failed_units=f"unit {number}: {type(exc).__name__}: {exc}")
                continue
            with self._lock:
                self.units_done += 1

    def start(self) -> Workload:
        self._threads = [threading.Thread(target=self._run, name=f"worker-{i}", daemon=True)
                         for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = GIVE_UP_S * 4) -> None:
        """Let each worker finish the unit it is in (a command is never abandoned half-way), then return."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout)
