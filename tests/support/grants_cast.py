"""Who acts in the grants unit tests, and where: one cast for every test of grants' domain."""

from __future__ import annotations

from datetime import date

from services.grants.domain import GrantRules
from services.grants.monitoring import VisitFindings, load_monitoring
from shared.actor import Actor

RULES = GrantRules()
MONITORING = load_monitoring()  # the settings monitoring.yaml ships with
# A visit of a 7-household group: revenue Rp 3.5 M, six households still active, Rp 600,000 saved, iuran paid
FINDINGS = VisitFindings(monthly_revenue_rp=3_500_000, members_active=6, savings_rp=600_000, iuran_rp=70_000)
VILLAGE = "18.01.06.2001"  # Jondong, Kalianda, Lampung Selatan
TODAY = date(2025, 6, 15)

OP1 = Actor("op1", "operator", "18.01")
OP2 = Actor("op2", "operator", "18.01")
VER = Actor("ver", "verifier", "18.01")
PROV = Actor("prov", "province", "18")
MIN = Actor("min", "ministry", "")
MIN2 = Actor("min2", "ministry", "")
TR = Actor("tr", "treasurer", "18.01")
TR2 = Actor("tr2", "treasurer", "18.01")  # confirms what TR instructs: never the same treasurer
FAC = Actor("fac", "facilitator", "18.01")
HEAD = Actor("kadis", "head", "18.01")  # the head of Lampung Selatan's office: the regency's budget
HEAD2 = Actor("sekdis", "head", "18.01")
PROV2 = Actor("prov2", "province", "18")
HEAD_PROVINCE = Actor("kadis.lampung", "head", "18")  # a province's head of office: no regency's budget
# the same roles for another regency (18.02) or province (17)
OP_OTHER = Actor("op9", "operator", "18.02")
VER_OTHER = Actor("ver9", "verifier", "18.02")
PROV_OTHER = Actor("prov17", "province", "17")
TR_OTHER = Actor("tr9", "treasurer", "18.02")
FAC_OTHER = Actor("fac9", "facilitator", "18.02")
HEAD_OTHER = Actor("kadis9", "head", "18.02")
