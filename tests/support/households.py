"""Valid household payloads for tests: real Lampung Selatan village codes, NIKs that encode sex and birth date."""

from __future__ import annotations

from datetime import date

VILLAGES = ("18.01.04.2001", "18.01.04.2002", "18.01.06.2001", "18.01.06.2005")


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
        "registered_by": "operator.lamsel",
        "members": [
            {"nik": nik("180106", mother_birth, "P", 1 + 2 * (number % 4999)), "name": f"Ibu {number}",
             "sex": "P", "birth_date": mother_birth.isoformat(), "relation": "Kepala Keluarga"},
            {"nik": nik("180104", son_birth, "L", 2 + 2 * (number % 4999)), "name": f"Anak {number}",
             "sex": "L", "birth_date": son_birth.isoformat(), "relation": "Anak"},
        ],
    }
