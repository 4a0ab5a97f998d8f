"""Training (Family School) domain: the default curriculum. Pure: no I/O.

Cohorts, sessions and attendance arrive with the Family School issue; the curriculum is what they will refer to.
"""

from __future__ import annotations

DEFAULT_MODULES = (
    ("pengasuhan", "Pengasuhan dan pendidikan anak"),
    ("keuangan", "Pengelolaan keuangan keluarga"),
    ("kesehatan", "Kesehatan dan gizi"),
    ("perlindungan", "Perlindungan anak"),
    ("kesejahteraan", "Kesejahteraan sosial"),
    ("usaha", "Usaha ekonomi produktif"),
)
