"""Valid household payloads for tests: real Lampung Selatan village codes, NIKs that encode sex and birth date."""

from __future__ import annotations

import csv
import io
from datetime import date

from services.registry.bdt import BDT_COLUMNS

VILLAGES = ("18.01.04.2001", "18.01.04.2002", "18.01.06.2001", "18.01.06.2005")
VILLAGE = "18.01.06.2001"  # Jondong, Kalianda
PASSWORD = "kata-sandi-rahasia"  # of the test users


def actor(user: str, role: str = "operator", region: str = "18.01") -> dict:
    """Who gives a command, as it travels over RPC (the gateway sends the signed-in user's; the services' edge checks
    it): a user of Lampung Selatan, an operator unless said otherwise."""
    return {"user": user, "role": role, "region": region}


def reader(user: str = "reader.tests", role: str = "operator", region: str = "", purpose: str = "rpc.tests") -> dict:
    """Who reads personal data in a test, and why, as the registry's reads take it (the signing proxy signs the
    actor): a national operator unless said otherwise, so that a read's answer depends on the data alone."""
    return {"actor": actor(user, role, region), "purpose": purpose}


def person_id(rpc, nik_: str) -> str:
    """The id the registry gave the person with this NIK: what grants and training know them by."""
    return rpc.registry.person(reader(), nik_)["person_id"]


def nik(regency_district: str, birth: date, sex: str, serial: int) -> str:
    day = birth.day + (40 if sex == "P" else 0)
    return f"{regency_district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def household(number: int, village: str | None = None, decile: int = 2) -> dict:
    """Household ``number`` (unique per test): a mother as head and a son."""
    village = village or VILLAGES[number % len(VILLAGES)]
    mother_birth, son_birth = date(1980 + number % 20, 1 + number % 12, 1 + number % 28), date(2010, 3, 12)
    return {
        "kk": f"180106{number:010d}",
        "dtks_id": f"DTKS-{number:08d}",
        "village_code": village,
        "address": f"Dusun {number % 7 + 1}",
        "decile": decile,
        "actor": actor("operator.lamsel", region=village[:5]),  # an operator of the village's regency
        "members": [
            {"nik": nik("180106", mother_birth, "P", 1 + 2 * (number % 4999)), "name": f"Ibu {number}",
             "sex": "P", "birth_date": mother_birth.isoformat(), "relation": "Kepala Keluarga"},
            {"nik": nik("180104", son_birth, "L", 2 + 2 * (number % 4999)), "name": f"Anak {number}",
             "sex": "L", "birth_date": son_birth.isoformat(), "relation": "Anak"},
        ],
    }


# --- as an operator sends them to the HTTP API (and types them into the console) ----------------------------------

def household_body(number: int, village: str = VILLAGE, decile: int = 2) -> dict:
    """A household of two: a woman head (the KUBE representative) and her son; KK and NIKs unique per number."""
    region6 = village.replace(".", "")[:6]
    return {
        "kk": f"{region6}{number:010d}", "dtks_id": f"DTKS-{number}", "village_code": village,
        "address": f"Dusun {number % 7 + 1}", "decile": decile,
        "members": [
            {"nik": nik(region6, date(1985, 3, 5), "P", number % 9000 + 1), "name": f"Siti Aminah {number}", "sex": "P",
             "birth_date": "1985-03-05", "relation": "Kepala Keluarga", "marital_status": "Cerai Mati",
             "occupation": "Pedagang"},
            {"nik": nik(region6, date(2010, 7, 12), "L", number % 9000 + 1), "name": f"Budi {number}", "sex": "L",
             "birth_date": "2010-07-12", "relation": "Anak", "marital_status": "Belum Kawin",
             "occupation": "Pelajar"},
        ],
    }


STATUS_COLUMN = "KETERANGAN"  # what an office's export may call the BDT status column


def bdt_text(households: list[dict], statuses: dict[str, str] | None = None) -> str:
    """The households as a DTSEN/DTKS file lists them (one row per person); with ``statuses`` (KK → the status
    cell), a status column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*BDT_COLUMNS, STATUS_COLUMN] if statuses is not None else BDT_COLUMNS)
    for household in households:
        for m in household["members"]:
            writer.writerow([household["dtks_id"], household["kk"], m["nik"], m["name"], m["sex"], m["birth_date"],
                             m["relation"], m["marital_status"], m["occupation"], household["village_code"],
                             household["address"], str(household["decile"]),
                             *([statuses.get(household["kk"], "")] if statuses is not None else [])])
    return out.getvalue()



def group_body(name: str, members: list[dict], village: str = VILLAGE) -> dict:
    representatives = [m["members"][0]["nik"] for m in members]
    return {
        "name": name, "village_code": village, "business_type": "jahit", "kind": "perempuan",
        "members": [{"kk": m["kk"], "representative_nik": m["members"][0]["nik"]} for m in members],
        "roles": {"ketua": representatives[0], "sekretaris": representatives[1], "bendahara": representatives[2]},
        "bank_account": {"bank": "BRI", "number": "0123-01-000123-50-1", "holder": name},
        "sk_kades": "140/12/SK/2026",
    }


LINES = [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000},
         {"item": "Kain dan benang", "quantity": 1, "unit": "paket", "unit_price_rp": 4_000_000}]
