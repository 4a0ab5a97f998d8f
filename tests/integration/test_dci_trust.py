"""Trust in the DCI API, through the real gateway and registry: a client with a public key registered must sign
its messages (a missing, tampered or foreign signature is refused with the standard's codes and nothing is read),
every answer is signed with the gateway's key as published; a client's searches by NIK or KK are limited per
minute; and granting that search, or registering a client's key, is on the users' change log.

The client's signatures are made here as docs/dci.md tells another system to make them (PyNaCl, canonical JSON,
BLAKE2b-512), not with the gateway's own code: the test is that the documented recipe verifies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import time

import pytest
from nacl.signing import SigningKey, VerifyKey
from nameko.containers import ServiceContainer
from typer.testing import CliRunner

from berdaya.cli.users import users_app
from services.gateway.service import GatewayService
from shared.ed25519 import KeyConfigError
from tests.integration.test_console_audit_users import (  # noqa: F401  (console: the fixture)
    CONSOLE,
    browser,
    console,
    rows_with,
    section,
)
from tests.integration.test_dci import (  # noqa: F401  (registry: the fixture)
    NOTIFY,
    SEARCH,
    SUBSCRIBE,
    by_identifier,
    dci_client,
    households,
    message,
    notify,
    predicate,
    registry,
    search_request,
    subscribe,
)
from tests.integration.test_gateway import Client, GatewaySystem, gateway_running
from tests.support.system import System

pytestmark = pytest.mark.integration

LOOKUPS_PER_MINUTE = 3
JWKS = "/api/v1/dci/.well-known/jwks.json"


@pytest.fixture
def gateway(system: System):
    """The gateway of this module's tests (and of the registry fixture's): 3 lookups by NIK or KK a minute."""
    with gateway_running(system, DCI_IDENTIFIER_LOOKUPS_PER_MINUTE=LOOKUPS_PER_MINUTE) as running:
        yield running


def users(gw: GatewaySystem, *args: str) -> str:
    """`berdaya users …` against this gateway's database, as the office runs it."""
    ran = CliRunner().invoke(users_app, list(args), env={"GATEWAY_DATABASE_URL": gw.database_url})
    assert ran.exit_code == 0, ran.output
    return ran.output


def public_text(key_id: str, key: SigningKey) -> str:
    """A client's public key as the office registers it: '<key id>:<base64 of its 32 bytes>'."""
    return f"{key_id}:{base64.b64encode(bytes(key.verify_key)).decode()}"


def canonical(header: dict, body: dict) -> bytes:
    return json.dumps({"header": header, "message": body}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def signing_string(created: int, expires: int, header: dict, body: dict) -> bytes:
    digest = base64.b64encode(hashlib.blake2b(canonical(header, body), digest_size=64).digest()).decode()
    return f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest}".encode()


def signed(key: SigningKey, key_id: str, sent: dict) -> dict:
    """The message with the standard's signature of its header and message (docs/dci.md)."""
    created = int(time.time())
    expires = created + 300
    signature = base64.b64encode(key.sign(signing_string(created, expires, sent["header"], sent["message"]))
                                 .signature).decode()
    return {**sent, "signature": (f'namespace="spdci",keyId="{sent["header"]["sender_id"]}|{key_id}|ed25519",'
                                  f'algorithm="ed25519",created="{created}",expires="{expires}",'
                                  f'headers="(created) (expires) digest",signature="{signature}"')}


def parameters(signature: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in signature.replace('"', "").split(",", 6))


def answer_verifies(gw: GatewaySystem, answer: dict) -> bool:
    """Whether the answer's signature verifies with the gateway's published key, as a client checks it."""
    keys = Client(gw.base).ok("GET", JWKS)["keys"]
    found = parameters(answer["signature"])
    sender, key_id, algorithm = found["keyId"].split("|")
    key = next(k for k in keys if k["kid"] == key_id)
    public = VerifyKey(base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4)))
    assert (sender, algorithm, key["kty"], key["crv"]) == ("berdaya", "ed25519", "OKP", "Ed25519")
    assert int(found["created"]) <= time.time() < int(found["expires"])
    try:
        public.verify(signing_string(int(found["created"]), int(found["expires"]), answer["header"],
                                     answer["message"]), base64.b64decode(found["signature"]))
    except Exception:  # nacl's BadSignatureError, or a signature that is not one
        return False
    return True


def client_reads(registry: dict, nik: str, client_id: str) -> list[tuple[str, str]]:  # noqa: F811
    reads = registry["staff"].auditor.ok("GET", f"/api/v1/people/{nik}/access-log")["reads"]
    return [(r["read"], r["purpose"]) for r in reads if r["username"] == client_id]


def test_a_keyed_client_must_sign_and_what_is_refused_reads_nothing(
        gateway: GatewaySystem, registry: dict):  # noqa: F811
    client = dci_client(gateway, "bansos.tanda", "18.01", "--identifier-search")
    key = SigningKey.generate()
    users(gateway, "client-key", "bansos.tanda", public_text("k1", key))
    nik = registry["bodies"][0]["members"][0]["nik"]
    asked = message("bansos.tanda", by_identifier("NIK", nik))

    # signed with its key: answered, and the answer is signed with the gateway's published key
    answer = client.ok("POST", SEARCH, signed(key, "k1", asked))
    assert [r["identifier"][0]["identifier_value"] for r in households(answer)] == [
        registry["ids"][registry["bodies"][0]["kk"]]]
    assert answer_verifies(gateway, answer)
    altered = copy.deepcopy(answer)
    altered["message"]["search_response"][0]["data"]["reg_records"][0]["poverty_decile"] = 9
    assert not answer_verifies(gateway, altered)
    assert client_reads(registry, nik, "bansos.tanda") == [("household_identified", "api.dci_sync_search")]

    # tampered after signing (another NIK), signed by another key, or not signed: refused, and nothing read
    other_nik = registry["bodies"][2]["members"][0]["nik"]
    tampered = signed(key, "k1", message("bansos.tanda", by_identifier("NIK", nik)))
    tampered["message"]["search_request"][0]["search_criteria"]["query"]["value"] = other_nik
    stranger = signed(SigningKey.generate(), "k1", message("bansos.tanda", by_identifier("NIK", other_nik)))
    unsigned = message("bansos.tanda", by_identifier("NIK", other_nik))
    for body, code in ((tampered, "err.signature.invalid"), (stranger, "err.signature.invalid"),
                       (unsigned, "err.signature.missing")):
        status, refused = client.post(SEARCH, body)
        assert (status, refused["error"]["code"], refused["error"]["rule"]) == (401, code, "dci.signature"), refused
        assert other_nik not in json.dumps(refused)
    assert client_reads(registry, other_nik, "bansos.tanda") == []
    assert client_reads(registry, nik, "bansos.tanda") == [("household_identified", "api.dci_sync_search")]

    # a subscription and a pull are signed too: unsigned, nothing is stored
    status, refused = client.post(SUBSCRIBE, subscribe("bansos.tanda", "18.01"))
    assert (status, refused["error"]["code"]) == (401, "err.signature.missing")
    with gateway.store.connection() as conn:  # the table says so, not the answer alone
        assert conn.execute("SELECT count(*) FROM dci_subscriptions WHERE client = 'bansos.tanda'").fetchone()[0] == 0
    subscribed = client.ok("POST", SUBSCRIBE, signed(key, "k1", subscribe("bansos.tanda", "18.01")))
    assert answer_verifies(gateway, subscribed)
    code = subscribed["message"]["subscribe_response"][0]["subscription_code"]
    assert client.post(NOTIFY, notify("bansos.tanda", code))[1]["error"]["code"] == "err.signature.missing"
    assert answer_verifies(gateway, client.ok("POST", NOTIFY, signed(key, "k1", notify("bansos.tanda", code))))


def test_an_encrypted_message_is_refused_with_the_standards_code(
        gateway: GatewaySystem, registry: dict):  # noqa: F811
    client = dci_client(gateway, "bansos.sandi", "18.01")
    asked = message("bansos.sandi", search_request(predicate("poverty_decile", "eq", 1)))
    asked["header"]["is_msg_encrypted"] = True
    status, refused = client.post(SEARCH, asked)
    assert (status, refused["error"]["code"], refused["error"]["rule"]) == (
        400, "err.encryption.invalid", "dci.encryption")
    head_nik = registry["bodies"][0]["members"][0]["nik"]
    assert client_reads(registry, head_nik, "bansos.sandi") == []


def test_searches_by_identifier_are_limited_per_minute_and_the_excess_is_not_read(
        gateway: GatewaySystem, registry: dict):  # noqa: F811
    client = dci_client(gateway, "bansos.batas", "18.01", "--identifier-search")
    niks = [body["members"][0]["nik"] for body in registry["bodies"]]
    first = client.ok("POST", SEARCH, message("bansos.batas", by_identifier("NIK", niks[0]),
                                              by_identifier("NIK", niks[1])))
    assert [r["status"] for r in first["message"]["search_response"]] == ["succ", "succ"]
    # predicate searches are not lookups of a person: not counted
    client.ok("POST", SEARCH, message("bansos.batas", search_request(predicate("poverty_decile", "eq", 1))))
    client.ok("POST", SEARCH, message("bansos.batas", by_identifier("NIK", niks[2])))

    # the fourth in the minute: refused whole, with when to try again, and not performed
    refused = client.session.post(gateway.base + SEARCH, json=message("bansos.batas", by_identifier("NIK", niks[3])))
    assert refused.status_code == 429, refused.text
    assert (refused.json()["error"]["code"], refused.json()["error"]["rule"]) == (
        "err.request.too_many_requests", "dci.identifier_rate")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert niks[3] not in refused.text
    lookups = [[read for read in client_reads(registry, nik, "bansos.batas") if read[0] == "household_identified"]
               for nik in niks]
    assert lookups[:3] == [[("household_identified", "api.dci_sync_search")]] * 3 and lookups[3] == []
    # another client has its own count
    other = dci_client(gateway, "bansos.lain", "18.01", "--identifier-search")
    assert other.ok("POST", SEARCH, message("bansos.lain", by_identifier("NIK", niks[3])))["header"]["status"] \
        == "succ"


def test_the_grant_and_the_key_are_on_the_users_change_log(console: GatewaySystem):  # noqa: F811
    console.add_user("admin.pusat", "admin", "")
    dci_client(console, "bansos.catat", "18.01")
    users(console, "identifier-search", "bansos.catat", "--grant")
    users(console, "client-key", "bansos.catat", public_text("k1", SigningKey.generate()))
    users(console, "client-key", "bansos.catat", public_text("k2", SigningKey.generate()))
    users(console, "identifier-search", "bansos.catat", "--revoke")
    status, recorded = console.client("admin.pusat").get("/api/v1/users/changes", params={"username": "bansos.catat"})
    assert status == 200, recorded
    assert [(c["change"], c["by"].startswith("cli:")) for c in recorded] == [
        ("identifier_search_revoked", True), ("public_key_replaced", True), ("public_key_registered", True),
        ("identifier_search_granted", True), ("added", True)]
    # and in the console, where the office reads who changed which user
    changes = section(browser(console, "admin.pusat").page(f"{CONSOLE}/users"), "changes-title")
    for words in ("may search by NIK or KK", "may no longer search by NIK or KK", "public key registered",
                  "public key replaced"):
        assert rows_with(changes, "bansos.catat", words), words


@pytest.mark.parametrize(("setting", "refusal"), [
    ("DCI_SIGNING_KEY", "DCI_SIGNING_KEY of the gateway is not set"),
    ("DCI_IDENTIFIER_LOOKUPS_PER_MINUTE", "DCI_IDENTIFIER_LOOKUPS_PER_MINUTE is not set")])
def test_a_gateway_without_its_dci_key_or_lookup_limit_does_not_start(system: System, setting: str, refusal: str):
    """Fail closed: no built-in key signs the answers, no silent limit lets identifier searches through."""
    gateway = GatewaySystem(system, **{setting: ""})
    container = ServiceContainer(GatewayService, gateway.config)
    try:
        with pytest.raises(KeyConfigError, match=refusal):
            container.start()
    finally:
        container.kill()
        gateway.close()
