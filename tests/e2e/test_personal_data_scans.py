"""Issue 16 item 7: after the programme's scenario, personal data is only where the registry keeps it.

The scenario is tests/e2e/test_http.py's (the demo's story for one group, through the gateway's HTTP API, every
service a `nameko run` process): seven households registered, a women's KUBE formed, its proposal approved, both
tranches paid with an LPJ and the Family School between them; then the registrations the demo shows refused. Then,
with the processes stopped (their logs complete, nothing consuming), what the system holds outside the registry is
read as an intruder would read it — each database's `pg_dump`, every message waiting in a queue (dead letters too)
or kept by a stream, every log the processes wrote — and scanned for every KK, DTKS id, NIK and name the scenario
sent. The registry's access
log must name each read of the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.config import SERVICES
from shared.topology import dead_letter_queue_name, event_stream_name
from tests.e2e.test_http import group_to_tranche_two
from tests.support.dumps import pg_dump, waiting_messages
from tests.support.http_system import HttpSystem
from tests.support.personal_data import found_in_dump, found_in_text, identifying_values

pytestmark = pytest.mark.e2e


@dataclass
class Scenario:
    http: HttpSystem
    households: list[dict]  # registered
    refused: list[dict]  # registrations sent and refused

    @property
    def registered(self) -> set[str]:
        """Every KK, DTKS id, NIK and name the scenario sent."""
        return identifying_values(self.households + self.refused)

    def person_ids(self) -> set[str]:
        """The registry's pseudonymous ids of the people the scenario registered."""
        people = self.http.system.sql("registry", "SELECT person_id::text FROM individuals")
        return {person_id for (person_id,) in people}


@pytest.fixture(scope="module")
def scenario():
    http = HttpSystem()
    failed = True
    try:
        http.start()
        households = group_to_tranche_two(http)
        refused = refused_registrations(http, households)
        http.stop()  # the logs complete; nothing takes messages off the queues while they are read
        failed = False
        yield Scenario(http, households, refused)
    finally:
        http.close(failed)


def refused_registrations(http: HttpSystem, households: list[dict]) -> list[dict]:
    """What the demo shows refused, through the API: a KK registered again, a NIK claimed by another household.
    Returns what was sent (its values are looked for too: a refusal's message, logged, would leak them)."""
    operator = http.client("op3.kalianda", "operator", "18.01")
    taken = households[0]
    claimant = {**taken, "kk": taken["kk"][:-4] + "9999", "dtks_id": "DTKS-REFUSED"}
    for body in (taken, claimant):
        status, answer = operator.post("/api/v1/households", body)
        assert status == 409, answer
    return [claimant]


def test_the_databases_of_grants_training_and_the_gateway_hold_no_personal_data(scenario: Scenario):
    http = scenario.http
    dumps = {"grants": pg_dump(http.system.database("grants")),
             "training": pg_dump(http.system.database("training")),
             "gateway": pg_dump(http.gateway_db)}
    assert {name: found_in_dump(dump, scenario.registered) for name, dump in dumps.items()} == {
        name: set() for name in dumps}
    # the scan reads real rows: grants and training know the people, by the registry's ids
    representatives = {h["members"][0]["nik"] for h in scenario.households}
    assert len(representatives) == 7
    for name in ("grants", "training"):
        assert len(found_in_dump(dumps[name], scenario.person_ids())) >= len(representatives), name


def test_no_queue_stream_or_dead_letter_holds_personal_data(scenario: Scenario):
    messages = waiting_messages(scenario.http.system.amqp_uri, scenario.http.system.vhost)
    for service in SERVICES:
        assert event_stream_name(service) in messages
    assert {dead_letter_queue_name("grants"), dead_letter_queue_name("training")} <= set(messages)
    found = {queue: found_in_text("\n".join(bodies), scenario.registered)
             for queue, bodies in messages.items()}
    assert {queue: hits for queue, hits in found.items() if hits} == {}
    # the registry's stream carried every registration, by id
    registry_stream = "\n".join(messages[event_stream_name("registry")])
    assert found_in_text(registry_stream, scenario.person_ids()) == scenario.person_ids()


def test_the_services_logs_hold_no_personal_data(scenario: Scenario):
    logs = {process.log_path.name: process.log_path.read_text(errors="replace")
            for process in scenario.http.processes}
    assert len(logs) == 4 and all(logs.values())
    found = {name: found_in_text(text, scenario.registered) for name, text in logs.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}



READS = "SELECT username, role, region, purpose, route, read, households::text[], returned FROM access_log ORDER BY seq"


def test_the_access_log_names_every_read_of_the_scenario(scenario: Scenario):
    """Every route of the scenario that showed a person's data: the operator's search of the village and the group's
    page, the facilitator's cohort with its participants' names — each read logged with who, role and purpose,
    naming every household it showed (by id)."""
    system = scenario.http.system
    reads = system.sql("registry", READS)
    assert {read[:6] for read in reads} == {
        ("op.kalianda", "operator", "18.01", "api.search_households", "api", "households_in"),
        ("op.kalianda", "operator", "18.01", "api.get_group", "api", "group"),
        ("fasilitator.rina", "facilitator", "18.01", "api.get_cohort", "api", "names"),
    }
    households = {household_id for (household_id,) in system.sql("registry",
                                                                  "SELECT household_id::text FROM households")}
    assert len(households) == len(scenario.households)
    for purpose in ("api.search_households", "api.get_group", "api.get_cohort"):
        shown = [set(read[6]) for read in reads if read[3] == purpose]
        assert set().union(*shown) == households, (purpose, shown)
