"""`berdaya demo`: the whole system end to end, on its own databases and RabbitMQ vhost (recreated each run).

The story: an operator imports the official region table and a DTKS file of Lampung Selatan (with the typical
errors real files have), forms women's KUBE groups in villages with enough eligible households, and sees the
registry refuse what the programme rules forbid. Grants and training learn every household from events.

Longer than ~400 lines because it is one story told in order, from the region table to the audit.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time
from collections import defaultdict
from datetime import timedelta

import psycopg
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from psycopg.conninfo import conninfo_to_dict
from rich.markup import escape

from berdaya.audit import verify
from berdaya.audit.report_files import write_report
from berdaya.bank.statement import mt940
from berdaya.cli import dtsen_story, erasure_story, evidence_story, grievance_story, kube_life_story
from berdaya.cli.bdt_import import import_bdt, registration
from berdaya.cli.papers import print_papers
from berdaya.cli.processes import (
    PROCESSES,
    ROOT,
    RUN_DIR,
    ServiceProcess,
    development_actor_keys,
    development_data_key,
    development_event_keys,
    start_service,
    stop_pid,
    wait_until_ready,
)
from berdaya.cli.remote import SigningRpc, cli_actor, operator_signer
from services.gateway.auth import hash_password
from services.gateway.store import GatewayStore
from services.grants.bankfiles import payment_reference
from services.registry.bdt import HouseholdRecord, MemberRecord, read_bdt
from services.registry.domain import KubeRules, age_on, is_excluded_occupation
from services.registry.synth import write_synthetic_bdt
from shared.actor_assertion import actor_process_environment
from shared.config import SERVICES
from shared.errors import from_remote
from shared.ids import jakarta_today
from shared.regions import RegionTable, builtin_lampung_selatan, load_region_csv

DEMO_VHOST = "berdaya-demo"
CONSOLE_URL = "http://127.0.0.1:8080/console/"
USERS_FILE = RUN_DIR / "demo-users.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"
REGION_FILES = (SHARED_DATA / "wilayah_kabupaten_id.csv", SHARED_DATA / "wilayah_lampung.csv")
GROUP_NAMES = ("Mawar", "Melati", "Anggrek", "Kenanga", "Cempaka", "Teratai", "Dahlia", "Flamboyan")


class Demo:
    def __init__(self, admin_url: str, broker: str, say) -> None:
        self.admin_url = admin_url
        self.amqp_uri = f"pyamqp://guest:guest@{broker}/{DEMO_VHOST}"
        self.say = say
        self.processes: list[ServiceProcess] = []

    def database_url(self, service: str) -> str:
        """The demo's databases; set up by the superuser, used by the service's own restricted role."""
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/berdaya_demo_{service}"

    def runtime_url(self, service: str) -> str:
        host = conninfo_to_dict(self.admin_url).get("host", "127.0.0.1")
        port = conninfo_to_dict(self.admin_url).get("port", "5432")
        role = f"berdaya_{service}_app"
        return f"postgresql://{role}:{role}@{host}:{port}/berdaya_demo_{service}"

    def environment(self) -> dict[str, str]:
        """What every process of the demo runs with — the services, and the gateway that `berdaya up --demo`
        starts on what the demo left (its console users live in the demo's own gateway database)."""
        env = {"AMQP_URI": self.amqp_uri, "IDLE_CATCH_UP_S": "1",
               "GATEWAY_DATABASE_URL": self.database_url("gateway"), **development_event_keys(),
               **development_data_key()}
        for service in SERVICES:
            env |= {f"{service.upper()}_DATABASE_URL": self.runtime_url(service),
                    f"{service.upper()}_SETUP_DATABASE_URL": self.database_url(service)}
        return env

    def exists(self) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            found = conn.execute("SELECT count(*) FROM pg_database WHERE datname = ANY(%s)",
                                 ([f"berdaya_demo_{p}" for p in PROCESSES],)).fetchone()[0]
        return found == len(PROCESSES)

    def reset(self) -> None:
        """A clean slate: fresh databases and vhost, so the demo tells the same story every run."""
        # One demo at a time on a machine: a second would drop the first one's databases under it.
        self._lock = psycopg.connect(self.admin_url, autocommit=True)
        if not self._lock.execute("SELECT pg_try_advisory_lock(hashtext('berdaya demo'))").fetchone()[0]:
            raise RuntimeError("another `berdaya demo` is running on this machine: wait for it to finish")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for service in PROCESSES:
                conn.execute(f"DROP DATABASE IF EXISTS berdaya_demo_{service} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE berdaya_demo_{service}")
        for args in (("delete_vhost", DEMO_VHOST), ("add_vhost", DEMO_VHOST),
                     ("set_permissions", "-p", DEMO_VHOST, "guest", ".*", ".*", ".*")):
            result = subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60)
            if result.returncode != 0 and args[0] != "delete_vhost":
                raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")

    def start(self) -> None:
        for service in SERVICES:
            env = {**self.environment(), **actor_process_environment(service, development_actor_keys())}
            self.processes.append(start_service(service, env, log_name=f"demo-{service}"))
        wait_until_ready(self.amqp_uri, processes=self.processes)
        self.say(f"services running: {', '.join(p.service for p in self.processes)} (logs in .run/demo-*.log)")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_pid(process.process.pid)
            process.process.wait()
        self.say("services stopped")
        self.processes = []
        self._lock.close()

    def run(self, households: int, seed: int) -> dict:
        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=120) as proxy:
            rpc = SigningRpc(proxy, operator_signer())  # the demo's people act through the operators' CLI key
            regions = self.import_regions(rpc)
            started = time.monotonic()
            imported, records = self.import_households(regions, households, seed)
            groups, refusals = self.form_groups(rpc, records)
            self._wait_for(lambda: rpc.grants.households_summary()["households"] == imported["households_imported"]
                           and rpc.training.individuals_summary()["individuals"]
                           == rpc.registry.counts()["individuals"])
            story = self.fund_groups(rpc, groups)
            sealed = rpc.grants.seal_ledger("demo.auditor")
            self.say(f"ledger sealed at entry {sealed['seq']}: head {sealed['hash'][:16]}… published")
            self.settle(rpc)
            papers = self.print_papers(rpc, story)
            dtsen = self.dtsen_update(rpc, records, groups)
            kube_life = self.kube_life(rpc, story)
            evidence = evidence_story.attach_bast_scan(rpc, self.say, story.get("equipment", (None,))[0], OPERATOR)
            erasure = self.erase(rpc, story, records, groups)
            grievance = grievance_story.about_the_group_paid_in_full(rpc, self.say, story, groups)
            os.environ.update(development_data_key())  # the audit reads the registry's log as its processes do
            verified = verify.verify(urls={service: self.database_url(service) for service in SERVICES})
            self.say(f"audit verify: {'ok' if verified['ok'] else 'NOT OK'} — {verified['events_checked']} events "
                     f"replayed, {verified['ledger_entries_checked']} ledger entries, "
                     f"{verified['documents_checked']} documents re-hashed, head "
                     f"{verified['ledger_head'][:16]}…")
            report = write_report(RUN_DIR / "audit-report", urls={s: self.database_url(s) for s in SERVICES})
            self.say(f"audit report: {report[-1].relative_to(ROOT)} and {len(report) - 1} CSV files")
            users = self.add_console_users()
            return {
                "registry": {**rpc.registry.counts(), "import": imported, "groups_formed": len(groups),
                             "refusals": refusals},
                "grants": {**rpc.grants.totals(), "households": rpc.grants.households_summary(),
                           "by_village": rpc.grants.households_by_village(), "budgets": rpc.grants.budgets(2026)},
                "training": {**rpc.training.totals(), "individuals": rpc.training.individuals_summary(),
                             "gates": rpc.training.gates()},
                "backbone": {service: rpc[service].backbone_status() for service in SERVICES},
                "audit": {**{key: verified[key] for key in ("ok", "events_checked", "ledger_entries_checked",
                                                            "documents_checked", "ledger_head", "problems")},
                          "report": [str(path.relative_to(ROOT)) for path in report]},
                "printouts": [{"path": str(paper["path"].relative_to(ROOT)), "code": paper["code"],
                               "matches": paper["check"]["matches"]} for paper in papers],
                "dtsen_update": dtsen,
                "evidence": evidence,
                "erasure": erasure,
                "grievance": grievance,
                "kube_life": kube_life,
                "seconds": {"import_to_projected": round(time.monotonic() - started, 3)},
                "console": {"url": CONSOLE_URL, "start": "make up DEMO=1",
                            "users_file": str(USERS_FILE.relative_to(ROOT)),
                            "users": [{"username": u, "role": r, "region": g} for u, r, g, _ in users]},
            }

    def add_console_users(self) -> list[tuple[str, str, str, str]]:
        """One console user per role, each with a new random password, kept in .run/demo-users.txt (only the
        owner may read it): the demo's data is then theirs to open in the console (`make up DEMO=1`)."""
        store = GatewayStore(self.database_url("gateway"), pool_size=1)
        users = [(username, role, region, secrets.token_urlsafe(9)) for username, role, region in CONSOLE_USERS]
        try:
            store.ensure_schema()
            for username, role, region, password in users:
                # The development set-up: whoever ran the demo is every one of its users, and reads the passwords
                # in .run/demo-users.txt to try each role — nobody else knows them.
                store.add_user(username, hash_password(password), role, region, by="berdaya demo",
                               must_change_password=False)
        finally:
            store.close()
        RUN_DIR.mkdir(exist_ok=True)
        USERS_FILE.write_text("".join(f"{u}\t{r}\t{g or 'nasional'}\t{p}\n" for u, r, g, p in users))
        os.chmod(USERS_FILE, 0o600)
        self.say(f"console users: one per role, passwords in {USERS_FILE.relative_to(ROOT)}")
        return users

    def import_regions(self, rpc) -> RegionTable:
        if all(path.exists() for path in REGION_FILES):
            rows = [row._asdict() for path in REGION_FILES for row in load_region_csv(path)]
            source = "../shared/data (official Kepmendagri 2025 list)"
        else:
            rows = [row._asdict() for row in builtin_lampung_selatan().rows()]
            source = "built-in Lampung Selatan table"
        result = rpc.registry.import_regions({"rows": rows, "source": source, "actor": DEMO_ADMIN.on_the_wire()})
        self.say(f"region table: {result['codes']} codes imported from {source}")
        return RegionTable((r["code"], r["name"], r["level"]) for r in rows)

    def import_households(self, regions: RegionTable, households: int, seed: int) -> tuple[dict, list]:
        RUN_DIR.mkdir(exist_ok=True)
        path = RUN_DIR / "demo-bdt.csv"
        # Households of the ten villages named in the programme's facts (Natar, Kalianda): enough per village
        # to form groups, as in a district's real intake.
        summary = write_synthetic_bdt(path, households, "18.01", builtin_lampung_selatan(), seed, error_share=0.02)
        self.say(f"generated {path.relative_to(ROOT)}: {summary.households} households, {summary.individuals} "
                 f"people, {len(summary.injected_errors)} with a typical error")
        first = import_bdt(path, self.amqp_uri, DEMO_OPERATOR).as_dict()
        self.say(f"import: {first['households_imported']} households ({first['individuals_imported']} people) "
                 f"imported, {first['households_rejected']} rejected ({len(first['rejected_rows'])} rows)")
        for row in first["rejected_rows"][:5]:
            self.say(escape(f"  line {row['line']} KK {row['no_kk']}: {row['reason']}"))
        again = import_bdt(path, self.amqp_uri, DEMO_OPERATOR).as_dict()
        self.say(f"the same file again: {again['households_imported']} imported, {again['unchanged']} unchanged")
        report = {key: first[key] for key in ("households_imported", "individuals_imported", "households_rejected")}
        report["rejected_rows"] = len(first["rejected_rows"])
        report["reimport_unchanged"] = again["unchanged"]
        report["reimport_imported"] = again["households_imported"]
        return report, list(read_bdt(path, regions).households)

    def form_groups(self, rpc, records: list[HouseholdRecord]) -> tuple[list, list[dict]]:
        """Women's KUBE of 10 in every village with enough eligible households; then the refused cases."""
        today, rules = jakarta_today(), KubeRules()
        eligible: dict[str, list[tuple[HouseholdRecord, MemberRecord]]] = defaultdict(list)
        others: dict[str, list[HouseholdRecord]] = defaultdict(list)
        for record in records:
            woman = representative(record, today, rules)
            if record.decile <= rules.max_decile and woman:
                eligible[record.village_code].append((record, woman))
            else:
                others[record.village_code].append(record)
        villages = [v for v, found in sorted(eligible.items(), key=lambda kv: -len(kv[1])) if len(found) >= 11]
        formed: list[tuple[str, list]] = []
        for name, village in zip(GROUP_NAMES[:5], villages, strict=False):
            members = eligible[village][:10]
            group_id = rpc.registry.form_group(group_payload(f"KUBE {name}", village, members))
            formed.append((group_id, members))
            self.say(f"formed women's KUBE {name} in {village} with 10 households (id {group_id[:8]}…)")
        refusals = self.refused_cases(rpc, eligible, others, villages, formed)
        return formed, refusals

    def fund_groups(self, rpc, formed: list) -> dict:
        """The money's route for each group, and the Family School deciding who gets tranche 2; each story's
        proposal, group and representatives."""
        if len(formed) < 5:
            self.say("fewer than five groups formed: skipping the grants story")
            return {}
        rpc.grants.set_budget_ceiling({"actor": MINISTRY, "fiscal_year": 2026, "source": "APBN",
                                       "ceiling_rp": 200_000_000})
        self.say("Kemensos set the 2026 APBN ceiling: Rp 200,000,000")
        rpc.grants.set_budget_ceiling({"actor": HEAD, "fiscal_year": 2026, "source": "APBD-kabupaten",
                                       "region": "18.01", "ceiling_rp": 50_000_000})
        self.say("the head of Dinas Sosial Lampung Selatan set the regency's 2026 APBD ceiling: Rp 50,000,000")
        for group_id, _ in formed:
            self._wait_for(lambda group_id=group_id: rpc.grants.group(group_id) is not None)
        story = {}
        for (group_id, members), (label, form) in zip(formed, STORIES, strict=False):
            proposal_id = rpc.grants.draft_proposal({
                "actor": OPERATOR, "group_id": group_id, "form": form, "business_plan": BUSINESS_PLAN,
                "budget_lines": BUDGET_LINES})
            story[label] = (proposal_id, group_id, [nik for _, nik in representatives_of(members)])
            rpc.grants.submit({"actor": OPERATOR, "proposal_id": proposal_id})
        steps = Steps(rpc, self.say)
        steps.reject(story["rejected"][0])
        for label in ("paid_in_full", "equipment", "returned"):
            proposal_id = story[label][0]
            if label == "returned":
                steps.return_and_resubmit(proposal_id)
            steps.approve(proposal_id, form="equipment" if label == "equipment" else "cash")
        steps.approve_by_the_regency(story["first_tranche"][0])
        steps.pay_with_a_failure(story["paid_in_full"][0])
        steps.deliver(story["equipment"][0])
        steps.pay_by_bank_files([(story["returned"][0], "demo-returned-t1"),
                                 (story["first_tranche"][0], "demo-first-t1")])
        steps.lpj_with_a_balance_returned(story["paid_in_full"][0])
        steps.lpj(story["equipment"][0])
        for label, share in (("paid_in_full", 1.0), ("equipment", 0.5)):
            proposal_id, group_id, niks = story[label]
            steps.family_school(group_id, niks, share)
        self.settle(rpc)  # grants has heard every gate training decided
        steps.tranche_two(story["paid_in_full"][0], "cash")
        steps.tranche_two(story["equipment"][0], "equipment")
        return story

    def print_papers(self, rpc, story: dict) -> list[dict]:
        """The group paid in full: its first tranche's receipt and its chair's certificate, under .run/printouts/,
        each code checked as anyone checks a paper."""
        if "paid_in_full" not in story:
            return []
        proposal_id, _, niks = story["paid_in_full"]
        chair = rpc.registry.person({"actor": OPERATOR, "purpose": "cli.demo.printouts"}, niks[0])["person_id"]
        printed = print_papers(rpc, RUN_DIR / "printouts", proposal_id, chair, OPERATOR)
        for paper in printed:
            verdict = "matches the ledger" if paper["check"]["matches"] else "DOES NOT MATCH"
            self.say(f"printed {paper['path'].relative_to(ROOT)}: code {paper['code']} {verdict}")
        return printed

    def dtsen_update(self, rpc, records: list[HouseholdRecord], formed: list) -> dict:
        """A DTSEN update arrives (dtsen_story): a KUBE household's decile change held for review and confirmed, a
        household in no KUBE removed at once. The one removed is the last such household: erase() takes the first."""
        if not formed:
            return {}
        grouped = {record.kk for _, members in formed for record, _ in members}
        alone = next(record for record in reversed(records) if record.kk not in grouped)
        return dtsen_story.dtsen_update(rpc, self.amqp_uri, DEMO_OPERATOR, OPERATOR, self.say,
                                        RUN_DIR / "demo-dtsen-update.csv", records, formed[-1][1][-1][0], alone)

    def kube_life(self, rpc, story: dict) -> dict:
        """The group paid in full after funding: its cohort's facilitator named, visited and classified."""
        if "paid_in_full" not in story:
            return {}
        proposal_id, group_id, niks = story["paid_in_full"]
        reader = {"actor": OPERATOR, "purpose": "cli.demo.kube_life"}
        chair = rpc.registry.person(reader, niks[0])["person_id"]
        cohort_id = kube_life_story.assign_facilitator(rpc, self.say, chair, FACILITATOR, OPERATOR)
        return {"cohort_id": cohort_id, **kube_life_story.visit_and_classify(rpc, self.say, proposal_id, group_id,
                                                                              FACILITATOR, reader)}

    def erase(self, rpc, story: dict, records: list[HouseholdRecord], formed: list) -> dict:
        """A household in no KUBE erased for good, and one member of another erased alone (not its head: a household
        keeps its head), after an erasure refused for a household whose KUBE's grant is not accounted for yet; the
        money totals are the same before and after (the ledger never held a person)."""
        totals = rpc.grants.totals()
        held = (erasure_story.refused_under_hold(rpc, self.say, story["paid_in_full"][2][0])
                if "paid_in_full" in story else None)
        grouped = {record.kk for _, members in formed for record, _ in members}
        alone = [record for record in records if record.kk not in grouped]
        erased = erasure_story.erase_household(rpc, self.say, alone[0].members[0].nik)
        family = next((record for record in alone[1:] if len(record.members) > 2), None)
        erased_alone = (erasure_story.erase_person(rpc, self.say, family.members[-1].nik, family.members[0].nik)
                        if family else None)
        self.settle(rpc)
        unchanged = rpc.grants.totals() == totals
        self.say(f"money totals after the erasures: {'unchanged' if unchanged else 'CHANGED'}")
        return {"refused_under_hold": held, "erased": erased, "erased_alone": erased_alone,
                "money_unchanged": unchanged}

    def refused_cases(self, rpc, eligible, others, villages, formed) -> list[dict]:
        if not formed:
            return []
        village = villages[0]
        spare = eligible[village][10]
        first_members = formed[0][1]
        cases = []
        richer = next((r for v in villages for r in others[v] if r.decile > 4 and r.village_code == v), None)
        if richer is not None:
            cases.append(("a household above decile 4", group_payload(
                "KUBE Uji Desil", richer.village_code,
                [*eligible[richer.village_code][10:19], (richer, richer.members[0])])))
        man = next(((r, m) for r, _ in eligible[village][10:] for m in r.members if m.sex == "L"), None)
        if man is not None:
            cases.append(("a man representing a women's KUBE", group_payload(
                "KUBE Uji Wakil", village, [*[e for e in eligible[village][10:] if e[0] is not man[0]][:9], man])))
        cases.append(("a household already in an active KUBE", group_payload(
            "KUBE Uji Ganda", village, [*first_members[:9], spare])))
        cases.append(("a women's KUBE of 6 households", group_payload("KUBE Uji Kecil", village, first_members[:6])))
        taken = formed[0][1][0][0]
        claimant = registration(taken, DEMO_OPERATOR.on_the_wire()) | {"kk": "1801" + taken.kk[4:10] + "999999"}
        cases.append(("a NIK already registered in another household", claimant))
        refusals = []
        for label, payload in cases:
            try:
                if "members" in payload and "relation" in payload["members"][0]:
                    rpc.registry.register_household(payload)
                else:
                    rpc.registry.form_group(payload)
                refusals.append({"case": label, "rule": None, "message": "accepted (unexpected)"})
            except RemoteError as remote:
                error = from_remote(remote.exc_type, remote.value)
                rule = getattr(error, "rule", None) or (error.details.get("field") if error else None)
                refusals.append({"case": label, "rule": rule, "message": error.message if error else remote.value})
        for refusal in refusals:
            self.say(escape(f"refused — {refusal['case']}: [{refusal['rule']}] {refusal['message']}"))
        return refusals

    def settle(self, rpc) -> None:
        """Wait until every consumer has applied everything its upstreams have logged."""
        def settled() -> bool:
            status = {service: rpc[service].backbone_status() for service in SERVICES}
            return all(consumer["position"] >= status[upstream]["last_position"]
                       for service in SERVICES for upstream, consumer in status[service]["consumers"].items())

        self._wait_for(settled)

    @staticmethod
    def _wait_for(check, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError("grants and training did not catch up with registry in time")
            time.sleep(0.2)


OPERATOR = {"user": "op.lamsel", "role": "operator", "region": "18.01"}
OPERATOR_2 = {"user": "op2.lamsel", "role": "operator", "region": "18.01"}
VERIFIER = {"user": "kabid.pemberdayaan", "role": "verifier", "region": "18.01"}
PROVINCE = {"user": "dinsos.lampung", "role": "province", "region": "18"}
MINISTRY = {"user": "kemensos.dirjen", "role": "ministry", "region": ""}
HEAD = {"user": "kadis.lamsel", "role": "head", "region": "18.01"}  # the regency's budget: its head of office
TREASURER = {"user": "bendahara.lamsel", "role": "treasurer", "region": "18.01"}
TREASURER_2 = {"user": "bendahara2.lamsel", "role": "treasurer", "region": "18.01"}  # confirms TREASURER's transfers
FACILITATOR = {"user": "fasilitator.demo", "role": "facilitator", "region": "18.01"}
# Who runs the operator tools (see cli_actor): the admin the region table, nationally; an operator the DTKS file of
# Lampung Selatan and the KUBE formed from it, for that regency.
DEMO_ADMIN = cli_actor("demo.admin", role="admin")
DEMO_OPERATOR = cli_actor("demo.operator", "18.01")


def demo_users() -> list[list[str]]:
    """The demo's console users as written by the last demo: username, role, region, password."""
    return [line.split("\t") for line in USERS_FILE.read_text().splitlines()] if USERS_FILE.exists() else []


# Who logs in to the console on the demo's data: the demo's own actors, and one person for each other role.
CONSOLE_USERS = tuple((actor["user"], actor["role"], actor["region"])
                      for actor in (OPERATOR, OPERATOR_2, VERIFIER, PROVINCE, MINISTRY, TREASURER, TREASURER_2,
                                    HEAD)) + (
    ("pendamping.lamsel", "facilitator", "18.01"), ("inspektorat", "auditor", ""), ("admin.berdaya", "admin", ""))
BUSINESS_PLAN = "Usaha olahan makanan: keripik pisang dan kemplang, dipasarkan ke warung dan pasar Kalianda"
BUDGET_LINES = [
    {"item": "Peralatan dapur (wajan, kompor, spinner)", "quantity": 2, "unit": "paket", "unit_price_rp": 4_500_000},
    {"item": "Bahan baku awal", "quantity": 1, "unit": "paket", "unit_price_rp": 6_000_000},
    {"item": "Kemasan dan label", "quantity": 1, "unit": "paket", "unit_price_rp": 2_000_000},
]  # Rp 17,000,000 for a group of 10: cap Rp 20,000,000
STORIES = (("paid_in_full", "cash"), ("equipment", "equipment"), ("returned", "cash"), ("rejected", "cash"),
           ("first_tranche", "cash"))


class Steps:
    """The demo's actors at work, each step through the services' RPC like the gateway will call them."""

    def __init__(self, rpc, say) -> None:
        self.rpc, self.say = rpc, say

    def reject(self, proposal_id: str) -> None:
        self.rpc.grants.reject({"actor": VERIFIER, "proposal_id": proposal_id,
                                "reason": "usaha sejenis sudah banyak di desa ini"})
        self.say("district rejected a proposal: usaha sejenis sudah banyak di desa ini")

    def return_and_resubmit(self, proposal_id: str) -> None:
        self.rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})
        self.rpc.grants.return_for_revision({"actor": PROVINCE, "proposal_id": proposal_id,
                                             "reason": "lampirkan harga pembanding peralatan"})
        self.rpc.grants.resubmit({"actor": OPERATOR, "proposal_id": proposal_id})
        self.say("province returned a proposal for revision; the operator resubmitted it")

    def approve(self, proposal_id: str, form: str) -> None:
        status = self.rpc.grants.proposal(proposal_id)["status"]
        if status == "submitted":
            self.rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})
        self.rpc.grants.recommend({"actor": PROVINCE, "proposal_id": proposal_id})
        self.rpc.grants.approve({"actor": MINISTRY, "proposal_id": proposal_id, "amount_rp": 15_000_000,
                                 "form": form, "fiscal_year": 2026, "source": "APBN"})
        self.say(f"Kemensos approved Rp 15,000,000 ({form}): tranches Rp 10,500,000 + Rp 4,500,000")

    def approve_by_the_regency(self, proposal_id: str) -> None:
        """A district-funded grant: the regency pays, so its head of office approves what the district verified,
        on the regent's decree — no province or ministry step."""
        self.rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})
        self.rpc.grants.approve({"actor": HEAD, "proposal_id": proposal_id, "amount_rp": 15_000_000, "form": "cash",
                                 "fiscal_year": 2026, "source": "APBD-kabupaten",
                                 "decree_number": "400.9/123/IV.02/2026"})
        self.say("the regency approved Rp 15,000,000 from its APBD on the regent's decree 400.9/123/IV.02/2026")

    def pay(self, proposal_id: str, tranche: int, key: str, fail_first: bool = False) -> None:
        payment = self.rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": tranche,
                                            "idempotency_key": key})
        step = {"actor": TREASURER, "proposal_id": proposal_id, "payment_id": payment["payment_id"]}
        self.rpc.grants.mark_sent(step)
        if fail_first:
            self.rpc.grants.fail({**step, "reason": "nomor rekening tidak sesuai"})
            self.say(f"tranche {tranche} failed at the bank: nomor rekening tidak sesuai — instructed again")
            return self.pay(proposal_id, tranche, key + "-retry")
        self.rpc.grants.confirm({**step, "actor": TREASURER_2, "bank_reference": f"BRI-{key.upper()}"})
        self.say(f"tranche {tranche} confirmed by the bank (Rp {payment['amount_rp']:,}; recorded by another "
                 "treasurer)")

    def pay_by_bank_files(self, payments: list[tuple[str, str]]) -> None:
        """Tranche 1 of these grants (proposal, idempotency key) the office's usual way: instructed, one bulk-transfer
        file taken for the bank, and the bank's statement uploaded by the other treasurer — its lines confirm the
        transfers, a bank fee's line waits for a person, and the same statement again changes nothing."""
        refs = [{"proposal_id": proposal_id, **self.rpc.grants.instruct({
            "actor": TREASURER, "proposal_id": proposal_id, "tranche": 1, "idempotency_key": key})}
            for proposal_id, key in payments]
        batch = self.rpc.grants.take_batch({"actor": TREASURER, "payments": [
            {"proposal_id": ref["proposal_id"], "payment_id": ref["payment_id"]} for ref in refs]})
        self.say(f"bulk-transfer file {batch['file_name']}: {batch['count']} transfers sent to the bank")
        statement = mt940(*[("D", ref["amount_rp"], payment_reference(ref["payment_id"]), f"BRI26120200{n:02d}",
                             "TRANSFER BLPS UEP") for n, ref in enumerate(refs, start=1)],
                          ("D", 6_500, "NONREF", "BRI2612020099", "BIAYA ADMIN TRANSFER"))
        upload = {"actor": TREASURER_2, "format": "mt940", "content_base64": base64.b64encode(statement).decode()}
        result = self.rpc.grants.reconcile_statement(upload)
        self.say(f"the bank's statement reconciled by another treasurer: {result['applied']} transfers confirmed, "
                 f"{result['awaiting']} line awaiting a decision (a bank fee)")
        if self.rpc.grants.reconcile_statement(upload)["repeated"]:
            self.say("the same statement uploaded again: nothing changed")

    def pay_with_a_failure(self, proposal_id: str) -> None:
        self.pay(proposal_id, 1, "demo-full-t1", fail_first=True)

    def deliver(self, proposal_id: str, tranche: int = 1, key: str = "demo-equipment-t1") -> None:
        amount = self.rpc.grants.grant(proposal_id)["tranches"][tranche - 1]["amount_rp"]
        delivery = self.rpc.grants.deliver({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": tranche,
                                            "idempotency_key": key, "receiver": "Ketua KUBE",
                                            "handover_date": jakarta_today().isoformat(),
                                            "items": [{"item": "Peralatan dapur", "quantity": 2, "value_rp": amount}]})
        self.rpc.grants.accept_handover({"actor": TREASURER, "proposal_id": proposal_id,
                                         "payment_id": delivery["payment_id"]})
        self.say(f"equipment for tranche {tranche} handed over with a BAST (Rp {amount:,}), the handover accepted by "
                 "the treasurer")

    def lpj(self, proposal_id: str) -> None:
        amount = self.rpc.grants.grant(proposal_id)["tranches"][0]["amount_rp"]
        self.rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": [
            {"description": "Belanja tahap 1", "receipt_number": "NOTA-001", "amount_rp": amount,
             "receipt_date": jakarta_today().isoformat()}]})
        self.rpc.grants.review_lpj({"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True})
        self.say("the LPJ of tranche 1 was submitted and accepted (by another operator)")

    def lpj_with_a_balance_returned(self, proposal_id: str, unspent: int = 250_000) -> None:
        """The group spent less than tranche 1: it returns the balance (a refund) and the LPJ names the refund."""
        amount = self.rpc.grants.grant(proposal_id)["tranches"][0]["amount_rp"]
        self.rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": [
            {"description": "Belanja tahap 1", "receipt_number": "NOTA-011", "amount_rp": amount - unspent,
             "receipt_date": jakarta_today().isoformat()}]})
        self.rpc.grants.record_refund({"actor": TREASURER, "proposal_id": proposal_id, "amount_rp": unspent,
                                       "reason": "sisa dana tahap 1 dikembalikan", "reference": "STS-DEMO-001"})
        self.rpc.grants.review_lpj({"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True,
                                    "refund_reference": "STS-DEMO-001"})
        self.say(f"the LPJ of tranche 1 accounts for Rp {amount - unspent:,}: the Rp {unspent:,} left was returned "
                 "(refund STS-DEMO-001) and the LPJ accepted")

    def family_school(self, group_id: str, niks: list[str], share: float) -> None:
        """Six monthly sessions; ``share`` of the representatives attend five of them (training knows them by the
        ids the registry gave them)."""
        reader = {"actor": DEMO_OPERATOR.on_the_wire(), "purpose": "cli.demo.family_school"}
        people = [self.rpc.registry.person(reader, nik)["person_id"] for nik in niks]
        cohort_id = self._cohort_of(people[0])
        attending = set(people[: round(len(people) * share)])
        for index, module in enumerate(self.rpc.training.curriculum()["active"]):
            day = jakarta_today() - timedelta(days=30 * (6 - index))
            session_id = self.rpc.training.schedule_session({
                "cohort_id": cohort_id, "module": module, "session_date": day.isoformat(),
                "place": "Balai Desa", "actor": FACILITATOR})
            self.rpc.training.record_attendance({
                "cohort_id": cohort_id, "session_id": session_id, "actor": FACILITATOR,
                "marks": {person: "present" if person in attending and index < 5 else "absent"
                          for person in people}})
        self.say(f"Family School: {len(attending)} of {len(people)} representatives attended five modules")

    def _cohort_of(self, person_id: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                return self.rpc.training.participant(person_id)["enrolments"][0]["cohort_id"]
            except RemoteError:
                time.sleep(0.2)
        raise TimeoutError(f"training did not enrol {person_id}")

    def tranche_two(self, proposal_id: str, form: str) -> None:
        try:
            if form == "equipment":
                self.deliver(proposal_id, tranche=2, key="demo-equipment-t2")
            else:
                self.pay(proposal_id, 2, "demo-full-t2")
        except RemoteError as remote:
            error = from_remote(remote.exc_type, remote.value)
            self.say(escape(f"tranche 2 refused: [{error.rule}] {error.message}"))


def representatives_of(members: list[tuple[HouseholdRecord, MemberRecord]]) -> list[tuple[str, str]]:
    return [(record.kk, member.nik) for record, member in members]


def representative(record: HouseholdRecord, today, rules: KubeRules) -> MemberRecord | None:
    """A woman aged 18–59 who may represent the household in a women's KUBE."""
    for member in record.members:
        if (member.sex == "P" and rules.min_age <= age_on(member.birth_date, today) <= rules.max_age
                and not is_excluded_occupation(member.occupation)):
            return member
    return None


def group_payload(name: str, village: str, members: list[tuple[HouseholdRecord, MemberRecord]]) -> dict:
    niks = [member.nik for _, member in members]
    return {
        "name": name, "village_code": village, "business_type": "olahan makanan", "kind": "perempuan",
        "members": [{"kk": record.kk, "representative_nik": member.nik} for record, member in members],
        "roles": {"ketua": niks[0], "sekretaris": niks[1], "bendahara": niks[2]},
        "bank_account": {"bank": "BRI", "number": "0123-01-" + village.replace(".", "")[-6:], "holder": name},
        "sk_kades": f"140/{village[-4:]}/SK/2026", "actor": DEMO_OPERATOR.on_the_wire(),
    }

