"""The programme's fixed lists, once: the words the services' rules check and the console offers to choose from.

Values are what is stored and sent (relations and business types in Indonesian, as on the KK and in the office;
codes in English where the domain decides on them); how the console shows each is in its catalogs.
"""

from __future__ import annotations

# --- who acts (docs/domain.md, "Who acts"); head: the head of the office (Kepala Dinas), who reads the dashboard ---
# dci_client: another system (a programme checking for double aid, the province's dashboard) reading the registry
# through the DCI social-registry API (docs/dci.md) — not a person: no console, and only the routes that name it.
ROLES = ("operator", "verifier", "province", "ministry", "treasurer", "facilitator", "auditor", "admin", "head",
         "dci_client")
SYSTEM_ROLES = ("dci_client",)
STAFF_ROLES = tuple(role for role in ROLES if role not in SYSTEM_ROLES)  # the office's people

# --- households (Kartu Keluarga) ---
HEAD_OF_HOUSEHOLD = "Kepala Keluarga"
RELATIONS = (
    HEAD_OF_HOUSEHOLD, "Istri", "Suami", "Anak", "Menantu", "Cucu", "Orang Tua", "Mertua", "Famili Lain", "Lainnya",
)
MARITAL_STATUSES = ("Belum Kawin", "Kawin", "Cerai Hidup", "Cerai Mati")
SEXES = ("L", "P")
BDT_STATUSES = ("active", "graduated", "removed")
# Why a member joins or leaves a household (kelahiran, kematian, perkawinan, pindah).
JOIN_REASONS = ("birth", "marriage", "moved_in", "other")
LEAVE_REASONS = ("death", "marriage", "moved_out", "other")

# --- KUBE groups ---
GROUP_ROLES = ("ketua", "sekretaris", "bendahara")
GROUP_KINDS = ("perempuan", "umum")  # a women's KUBE, or a general one
# A KUBE's own papers (docs/documents.md): the village head's decree forming it, the village meeting's minutes.
GROUP_DOCUMENT_KINDS = ("sk_kades", "meeting_minutes")
BUSINESS_TYPES = ("warung/kios", "ternak kambing", "jahit", "olahan makanan", "pertanian", "perikanan", "lainnya")
GROUP_STATUSES = ("formed", "funded", "active", "graduated", "dissolved")
CLOSED_GROUP_STATUSES = ("graduated", "dissolved")  # a KUBE's life has ended: no member change, no monitoring

# --- grants ---
BUDGET_SOURCES = ("APBN", "APBD-provinsi", "APBD-kabupaten")
# Whoever pays: the role that sets a source's ceilings and approves the grants it funds (the ministry; the province
# for its province; the regency's head of office, on the regent's decree, for its regency).
BUDGET_OWNERS = {"APBN": "ministry", "APBD-provinsi": "province", "APBD-kabupaten": "head"}
# The status a proposal has reached when its payer decides: a province or regency funds what its district verified,
# the ministry what the province recommended.
APPROVED_AFTER = {"APBN": "recommended", "APBD-provinsi": "verified", "APBD-kabupaten": "verified"}
DECREED_SOURCES = ("APBD-kabupaten",)  # approved on the regent's decree (SK Bupati): its number is recorded
FORMS = ("cash", "equipment", "mixed")
PROPOSAL_STATUSES = ("draft", "submitted", "verified", "recommended", "approved", "returned", "rejected", "cancelled")
BUSINESS_STATUSES = ("running", "struggling", "stopped")  # a monitoring visit's finding
# The ministry's stages of a funded KUBE, lowest first: a monitoring visit classifies the group in one of them.
KUBE_STAGES = ("tumbuh", "berkembang", "maju")
REVENUE_TRENDS = ("rising", "steady", "falling")  # a visit's monthly revenue against the previous visit's
# Evidence attached to what it proves (docs/documents.md): a proposal's, its approval's, a delivery's, an LPJ's, a
# monitoring visit's.
DOCUMENT_KINDS = ("signed_proposal", "rab", "decision_letter", "bast", "delivery_photo", "receipt", "visit_photo")
# A household's standing in the KUBE programme, as another programme checks it before paying (double aid): it
# receives a grant (approved), applies (a proposal under way), is a member of a KUBE (not dissolved), or none.
ENROLMENT_STATUSES = ("receiving", "applying", "member", "none")

# --- Family School ---
ATTENDANCE = ("present", "excused", "absent")

# --- grievances (pengaduan) ---
# exclusion: "my family should be included"; inclusion: "that family is not poor"; the rest as named.
GRIEVANCE_CATEGORIES = ("exclusion", "inclusion", "payment_not_received", "misuse", "other")
ANONYMOUS_CATEGORIES = ("misuse",)  # a misuse report may come without a name (a whistle-blower); others need one
GRIEVANCE_OUTCOMES = ("upheld", "not_upheld", "referred")  # founded and acted on; unfounded; sent to another body
GRIEVANCE_STATUSES = ("recorded", "assigned", "resolved")
