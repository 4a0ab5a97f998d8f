"""Sealing benchmark: what the registry's sealing mapper costs per household, in-process.

What is measured, and why
-------------------------
The registry stores personal fields sealed with the data keys of the household and of each member
(services/registry/sealing.py: a registration of 3 members is 4 boxes under 4 keys); every
registration pays for sealing, every read (a repository load, the relay, an audit replay) for opening. This script
builds ``--households`` registrations (default 2,000; each a ``Household.Registered`` event of 3 members, as the
BDT import makes them) and converts them, in rounds that alternate the paths (``--rounds``, default 3):

- ``plain``, the reference, same run: the library's ``Mapper`` with the registry's transcoder,
  ``to_stored_event`` then ``to_domain_event`` of every event;
- ``sealed``: ``SealingMapper`` on the same events, the keys in the vault's cache (warm, as the
  registry that just registered them);
- ``sealed_cold``: ``SealingMapper.to_domain_event`` of the same stored events by a fresh vault (empty cache: the
  relay or an auditor reading a long log, a second registry process), the mapper told the batch first
  (``prefetch``) as the relay, an auditor's replay and the repository do; ``key_queries`` the key reads it made.

Figures: microseconds per household for ``seal_us`` (to_stored_event) and ``open_us`` (to_domain_event), the best
round of each path, in CPU time of this process (the machine is shared, and wall time swings with the others' load;
the cold path's wait for its key query is therefore not in it: ``key_queries`` counts them); ``overhead_us`` =
sealed − plain (seal + open).

A fresh database (``berdaya_bench_sealing``) holds the data keys, dropped at the end.

    .venv/bin/python bench/sealing.py [--households 2000] [--rounds 3]
"""

# ruff: noqa: E402 - the project root goes on sys.path before the project's imports.
import sys
from pathlib import Path

sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# isort: split

import argparse
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import psycopg
from eventsourcing.persistence import Mapper

from bench.databases import fresh_database
from services.registry.application import RegistryApplication
from services.registry.domain import Household, Member
from services.registry.sealing import SealingMapper
from services.registry.vault import VAULT_DDL, KeyEncryptionKey, Vault, new_kek
from shared.store import event_transcoder

DATABASE = "berdaya_bench_sealing"


def registrations(count: int) -> list:
    """``count`` Registered events, each a household of 3 (head, spouse, child)."""
    events = []
    for number in range(count):
        members = [Member(nik=f"1801{number:08d}{serial:04d}", name=f"{role} {number}", sex=sex,
                          birth_date=date(1970 + number % 30 + 20 * (role == "Anak"), 1 + number % 12, 1 + serial),
                          relation=relation, marital_status="Kawin" if role != "Anak" else "Belum Kawin",
                          occupation="Petani" if role != "Anak" else "Pelajar")
                   for serial, (role, sex, relation) in enumerate((("Bapak", "L", "Kepala Keluarga"),
                                                                   ("Ibu", "P", "Istri"), ("Anak", "L", "Anak")))]
        household = Household.register(kk=f"1801060{number:09d}", dtks_id=f"DTKS-{number:08d}",
                                       village_code="18.01.06.2001", address=f"Dusun {number % 7 + 1} RT 0{number % 9}",
                                       decile=1 + number % 4, members=members, registered_by="bench")
        events.extend(household.collect_events())
    return events


@contextmanager
def counting(conn: psycopg.Connection, queries: list[int]) -> Iterator[psycopg.Cursor]:
    queries[0] += 1
    with conn.cursor() as cursor:
        yield cursor


def timed(convert: Callable, items: list) -> tuple[list, float]:
    started = time.process_time()
    converted = [convert(item) for item in items]
    return converted, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    events = registrations(args.households)
    kek = KeyEncryptionKey.parse(new_kek("bench"), "bench")
    per_household = 1e6 / args.households
    best: dict[str, dict[str, float]] = {}

    def keep(path: str, **seconds: float) -> None:
        for name, value in seconds.items():
            best.setdefault(path, {})[name] = min(best.get(path, {}).get(name, float("inf")), value * per_household)

    with fresh_database(DATABASE) as url, psycopg.connect(url, autocommit=True) as conn:
        for ddl in VAULT_DDL:
            conn.execute(ddl)
        plain = Mapper(transcoder=event_transcoder(RegistryApplication))
        vault = Vault(kek, conn.cursor)
        sealing = SealingMapper(event_transcoder(RegistryApplication), vault)
        vault.prepare(holder for event in events  # each household's key and each member's
                      for holder in (event.originator_id, *(member.id for member in event.members)))
        key_queries = []
        for _ in range(args.rounds):
            stored, seal = timed(plain.to_stored_event, events)
            _, open_ = timed(plain.to_domain_event, stored)
            keep("plain", seal_us=seal, open_us=open_)
            stored, seal = timed(sealing.to_stored_event, events)
            opened, open_ = timed(sealing.to_domain_event, stored)
            keep("sealed", seal_us=seal, open_us=open_)
            assert [vars(e) for e in opened] == [vars(e) for e in events], "sealed events did not read back"
            queries = [0]
            cold = SealingMapper(event_transcoder(RegistryApplication),
                                 Vault(kek, lambda queries=queries: counting(conn, queries)))
            started = time.process_time()
            cold.prefetch(stored)  # told the batch first, as by the relay, an auditor's replay or the repository
            for stored_event in stored:
                cold.to_domain_event(stored_event)
            keep("sealed_cold", open_us=time.process_time() - started)
            key_queries.append(queries[0])
    figures = {path: {name: round(value, 1) for name, value in values.items()} for path, values in best.items()}
    figures["sealed_cold"]["key_queries"] = max(key_queries)
    figures["overhead_us"] = round(sum(best["sealed"].values()) - sum(best["plain"].values()), 1)
    print(json.dumps({"households": args.households, "members_per_household": 3, "rounds": args.rounds,
                      **figures}, indent=2))


if __name__ == "__main__":
    main()
