"""Name search benchmark: the registry's find_people (the desk's "am I registered?") at a district's scale.

What is measured, and why
-------------------------
A desk operator types a NIK, a KK or any part of a name; Lampung Selatan has about 1.1 million people in 330,000
households, and the answer must come while the person waits. This script:

1. writes a synthetic DTKS file of ``--households`` households (default 330,000, ~1.14 M people) for regency 18.01
   with ``write_synthetic_bdt`` (realistic Indonesian names), and loads it with ``COPY`` straight into the read-model
   tables (``households``, ``individuals`` with its folded ``name_key``) of a fresh database set up by
   ``RegistryApplication`` itself — so the tables, the pg_trgm extension and the indexes are the service's own. It
   is a benchmark of the query, not of the import (bench/import.py measures that);
2. picks name fragments of several kinds from the loaded names: ``common`` (the most frequent whole words),
   ``rare`` (the least frequent words: the synthetic names come from pools, so even these are shared by dozens),
   ``two_letter`` (the most frequent two-letter word starts: too short for the trigram index), ``middle`` (four
   letters from inside a word, e.g. "priy" of "supriyanto"), and ``nik_or_kk`` (16 digits, half of them KKs);
3. times ``RegistryApplication.find_people(fragment, region="18.01", page=1, size=20)`` — the application method,
   no RPC — ``--queries`` times per kind (the kind's fragments in turn), in this process under eventlet with the
   pure-Python psycopg the services use. Each call is four statements: the total, the 20 ranked rows, their
   households, and the read's row in the access log.

``p50_ms`` / ``p99_ms`` per kind; ``matches_p50``: the median total a fragment of that kind finds; ``plan``: the
indexes the page's query uses (EXPLAIN of one fragment).

**Reference, same run.** ``SELECT count(*)`` of the same ``name_key LIKE '%fragment%'`` in the same region with
index scans switched off (``enable_indexscan``, ``enable_bitmapscan``): a sequential scan of every name, which is
what the search would cost without the trigram index. ``--reference-queries`` per kind (default 20);
``ratio = p50_ms / reference_p50_ms`` (below 1: faster than scanning everything, ranking and transfer included).

Prints one JSON object on stdout; progress goes to stderr. The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python bench/search.py [--households 330000] [--queries 200] [--seed 7] [--keep]
"""

# ruff: noqa: E402 - eventlet must patch, and shared must pick psycopg's wait function, before other imports.
import sys
import warnings
from pathlib import Path

# Python puts this script's folder first on sys.path; a sibling such as bench/http.py would then shadow the
# standard library's ``http``: the project root instead (for bench.machine).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

from shared.runtime import ensure_green_psycopg  # importing shared selects psycopg's green wait

ensure_green_psycopg()

# isort: split

import argparse
import csv
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter

import psycopg

from services.registry.application import RegistryApplication
from services.registry.queries import people_search
from services.registry.synth import write_synthetic_bdt
from services.registry.vault import KeyEncryptionKey, new_kek
from shared.actor import Actor
from shared.reads import ReadBy
from shared.text import fold

# isort: split

from bench.machine import BenchEnvironment, region_table, say

REGENCY = "18.01"
DESK = ReadBy(actor=Actor(user="op.bench", role="operator", region=REGENCY), purpose="rpc.bench")
ENV = BenchEnvironment("berdaya-bench-search", {"registry": "berdaya_bench_search_registry"})
FRAGMENTS_PER_KIND = 50
PAGE_SIZE = 20


# --- the data ---------------------------------------------------------------------------------------------------

def load(path: Path, url: str) -> dict:
    """COPY the file's people and households into the read models; the household rows follow their members (the
    file keeps a household's rows together)."""
    started = time.monotonic()
    households: dict[str, list] = {}
    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor, cursor.copy(
                "COPY individuals (nik, kk, name, name_key, sex, birth_date, relation, marital_status, occupation, "
                "village_code, person_id) FROM STDIN") as copy, open(path, encoding="utf-8", newline="") as source:
            for row in csv.DictReader(source):
                copy.write_row((row["nik"], row["no_kk"], row["nama"], fold(row["nama"]), row["jenis_kelamin"],
                                row["tanggal_lahir"], row["hubungan_keluarga"], row["status_perkawinan"],
                                row["pekerjaan"], row["kode_wilayah"], uuid.uuid4()))
                household = households.setdefault(row["no_kk"], [row["id_dtks"], row["kode_wilayah"], row["alamat"],
                                                                 int(row["desil"]), 0])
                household[4] += 1
        with conn.cursor() as cursor, cursor.copy(
                "COPY households (kk, household_id, dtks_id, village_code, address, decile, bdt_status, "
                "member_count, fingerprint) FROM STDIN") as copy:
            for kk, (dtks_id, village, address, decile, members) in households.items():
                copy.write_row((kk, uuid.uuid4(), dtks_id, village, address, decile, "active", members,
                                "bench"))
        conn.commit()
    copied = time.monotonic() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE individuals")  # also merges the trigram index's pending entries
        conn.execute("VACUUM ANALYZE households")
        individuals = conn.execute("SELECT count(*) FROM individuals").fetchone()[0]
    return {"households": len(households), "individuals": individuals, "copy_seconds": round(copied, 1),
            "vacuum_analyze_seconds": round(time.monotonic() - started - copied, 1)}


def fragments(url: str, seed: int) -> dict[str, list[str]]:
    """Query strings of each kind, drawn from the loaded names and numbers."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        words = Counter(dict(conn.execute(
            "SELECT word, count(*) FROM individuals, unnest(string_to_array(name_key, ' ')) AS word "
            "GROUP BY word").fetchall()))
        # Any people and households, the same ones for a seed's data: ordered by a hash of the number.
        niks = [nik for (nik,) in conn.execute("SELECT nik FROM individuals ORDER BY md5(nik) LIMIT %s",
                                               (FRAGMENTS_PER_KIND // 2,))]
        kks = [kk for (kk,) in conn.execute("SELECT kk FROM households ORDER BY md5(kk) LIMIT %s",
                                            (FRAGMENTS_PER_KIND // 2,))]
    by_count = [word for word, _ in words.most_common()]
    starts = Counter()
    for word, count in words.items():
        starts[word[:2]] += count
    middle_words = [word for word in by_count[len(by_count) // 10: len(by_count) // 2] if len(word) >= 8]
    return {
        "common": by_count[:FRAGMENTS_PER_KIND],
        "rare": by_count[-FRAGMENTS_PER_KIND:],
        "two_letter": [start for start, _ in starts.most_common(FRAGMENTS_PER_KIND) if len(start) == 2],
        "middle": list(dict.fromkeys(word[2:6] for word in rng.sample(middle_words, len(middle_words))))
        [:FRAGMENTS_PER_KIND],
        "nik_or_kk": niks + kks,
    }


# --- measuring --------------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_find_people(app: RegistryApplication, queries: list[str], count: int) -> tuple[list[float], list[int]]:
    millis, totals = [], []
    for index in range(count):
        started = time.perf_counter()
        found = app.find_people(DESK, queries[index % len(queries)], REGENCY, 1, PAGE_SIZE)
        millis.append((time.perf_counter() - started) * 1000)
        totals.append(found["total"])
    return millis, totals


def plan_indexes(url: str, query: str) -> list[str]:
    """The indexes (or sequential scans) in the plan of the page's query, in plan order."""
    search = people_search(query, REGENCY)
    with psycopg.connect(url) as conn:
        plan = conn.execute(f"EXPLAIN (FORMAT JSON) {search.sql} {search.order} LIMIT {PAGE_SIZE}",
                            (*search.params, *search.order_params)).fetchone()[0][0]["Plan"]
    found = []

    def walk(node: dict) -> None:
        if "Index Name" in node:
            found.append(f"{node['Node Type']} {node['Index Name']}")
        elif node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return found


def reference(url: str, queries: list[str], count: int) -> list[float]:
    """Milliseconds of SELECT count(*) of the same LIKE and region with the indexes switched off."""
    millis = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET enable_indexscan = off")
        conn.execute("SET enable_bitmapscan = off")
        for index in range(count):
            key = fold(queries[index % len(queries)])
            started = time.perf_counter()
            conn.execute("SELECT count(*) FROM individuals WHERE name_key LIKE %s "
                         "AND (village_code = %s OR village_code LIKE %s)", (f"%{key}%", REGENCY, REGENCY + ".%"))
            millis.append((time.perf_counter() - started) * 1000)
    return millis


def measure(app: RegistryApplication, url: str, args: argparse.Namespace) -> dict:
    kinds = {}
    for kind, queries in fragments(url, args.seed).items():
        examples = [] if kind == "nik_or_kk" else queries[:3]  # numbers, even synthetic ones, are not shown
        say(f"{kind}: {len(queries)} fragments, e.g. {examples}")
        time_find_people(app, queries, min(len(queries), 10))  # warm the cache and the pool
        millis, totals = time_find_people(app, queries, args.queries)
        kinds[kind] = {
            "fragments": len(queries), "examples": examples,
            "queries": len(millis), "matches_p50": statistics.median(totals),
            "p50_ms": round(percentile(millis, 0.5), 1), "p99_ms": round(percentile(millis, 0.99), 1),
            "max_ms": round(max(millis), 1), "plan": plan_indexes(url, queries[0]),
        }
        if kind != "nik_or_kk":
            scanned = percentile(reference(url, queries, args.reference_queries), 0.5)
            kinds[kind] |= {"reference_p50_ms": round(scanned, 1), "ratio": round(kinds[kind]["p50_ms"] / scanned, 2)}
        say(f"{kind}: {kinds[kind]}")
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=330_000)
    parser.add_argument("--queries", type=int, default=200, help="find_people calls per kind of fragment")
    parser.add_argument("--reference-queries", type=int, default=20, help="sequential-scan counts per kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    regions, _, region_source = region_table()
    ENV.create()
    url = ENV.database_url("registry")
    app = None
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "dtks.csv"
            say(f"writing {args.households} households ({region_source})")
            write_synthetic_bdt(path, args.households, REGENCY, regions, seed=args.seed)
            # The service's own set-up (tables, pg_trgm, indexes); its reads need no household keys, but the registry
            # does not start without a key-encryption key: a fresh one for this bench.
            app = RegistryApplication(url, data_key=KeyEncryptionKey.parse(new_kek("bench1"), "the bench's key"))
            say("loading with COPY")
            loaded = load(path, url)
        say(f"loaded {loaded}")
        kinds = measure(app, url, args)
        print(json.dumps({
            "bench": "search", **loaded, "region": REGENCY, "page_size": PAGE_SIZE, "kinds": kinds,
            "machine": {"cpus": os.cpu_count(), "load_average": [round(v, 2) for v in os.getloadavg()]},
        }, indent=2))
    finally:
        if app is not None:
            app.close()
        if not args.keep:
            ENV.drop()


if __name__ == "__main__":
    main()
