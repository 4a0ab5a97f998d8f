"""How the console says the programme's codes: statuses, events of a history, reasons, forms of aid — each an
English message id translated by the catalogs (Indonesian words from ../shared/design/console.md)."""

from __future__ import annotations

from services.gateway.console.i18n import N_

STATUS_WORDS: dict[str, str] = {
    "draft": N_("draft"), "submitted": N_("submitted"), "verified": N_("verified"),
    "recommended": N_("recommended"), "approved": N_("approved"), "returned": N_("returned for revision"),
    "rejected": N_("rejected"), "cancelled": N_("cancelled"),
    "pending": N_("not paid"), "instructed": N_("payment instructed"), "sent": N_("sent to the bank"),
    "confirmed": N_("confirmed"), "failed": N_("failed"), "recorded": N_("handover recorded, awaiting acceptance"),
    "delivered": N_("handed over"),
    "formed": N_("formed"), "funded": N_("funded"), "active": N_("active"), "graduated": N_("graduated"),
    "dissolved": N_("dissolved"), "removed": N_("removed"), "enrolled": N_("enrolled"),
    "completed": N_("completed"), "withdrawn": N_("withdrawn"), "accepted": N_("accepted"),
    "present": N_("present"), "excused": N_("excused"), "absent": N_("absent"),
    "running": N_("running"), "struggling": N_("struggling"), "stopped": N_("stopped"),
    # the ministry's stages of a funded KUBE, and a visit's revenue trend
    "tumbuh": N_("growing (tumbuh)"), "berkembang": N_("developing (berkembang)"), "maju": N_("advanced (maju)"),
    "rising": N_("rising"), "steady": N_("steady"), "falling": N_("falling"),
}

# The events of a history (households, groups, proposals, grants, budgets, cohorts), by their domain name.
EVENT_WORDS: dict[str, str] = {
    "Registered": N_("Registered"), "MemberAdded": N_("Member added"), "MemberRemoved": N_("Member removed"),
    "MemberCorrected": N_("Member's data corrected"), "StatusChanged": N_("BDT status changed"),
    "DecileChanged": N_("Decile changed"), "Moved": N_("Moved"), "Erased": N_("Personal data erased"),
    "Formed": N_("KUBE formed"), "MemberChanged": N_("KUBE member changed"),
    "Funded": N_("KUBE funded"), "Dissolved": N_("KUBE dissolved"), "Activated": N_("KUBE active (tranche 1 paid)"),
    "Graduated": N_("KUBE graduated (mandiri)"), "FacilitatorAssigned": N_("Facilitator assigned"),
    "Drafted": N_("Drafted"), "Submitted": N_("Submitted"), "Resubmitted": N_("Submitted again"),
    "Verified": N_("Verified (district)"), "Recommended": N_("Recommended (province)"),
    "Approved": N_("Approved (ministry)"), "Returned": N_("Returned for revision"), "Rejected": N_("Rejected"),
    "Cancelled": N_("Cancelled"), "Flagged": N_("Flagged"),
    "Opened": N_("Opened"), "Instructed": N_("Payment instructed"), "Sent": N_("Sent to the bank"),
    "Confirmed": N_("Confirmed by the bank"), "Failed": N_("Transfer failed"),
    "PaymentCancelled": N_("Payment instruction cancelled"), "DeliveryRecorded": N_("Handover recorded (BAST)"),
    "Delivered": N_("Handover accepted (BAST)"),
    "LpjSubmitted": N_("LPJ submitted"), "LpjAccepted": N_("LPJ accepted"), "LpjReturned": N_("LPJ returned"),
    "Visited": N_("Monitoring visit"), "Monitored": N_("Monitoring visit"), "Refunded": N_("Refund recorded"),
    "DocumentAttached": N_("Document attached"),
    "CeilingSet": N_("Ceiling set"), "Committed": N_("Budget committed"), "Released": N_("Budget released"),
    "Enrolled": N_("Enrolled"), "Withdrawn": N_("Withdrawn"), "SessionScheduled": N_("Session scheduled"),
    "AttendanceRecorded": N_("Attendance recorded"), "AttendanceCorrected": N_("Attendance corrected"),
    "Completed": N_("Completed"),
}

REASON_WORDS: dict[str, str] = {
    "birth": N_("birth"), "marriage": N_("marriage"), "moved_in": N_("moved in"), "death": N_("death"),
    "moved_out": N_("moved out"), "other": N_("other"),
}
# Why a DTSEN file removes a household, and why one of its changes waits for review (services/registry/updates.py).
REMOVAL_WORDS: dict[str, str] = {"deceased": N_("deceased"), "moved": N_("moved"), "duplicate": N_("duplicate")}
HELD_RULE_WORDS: dict[str, str] = {
    "kube.decile": N_("above the decile limit of a KUBE member household"),
    "kube.bdt_active": N_("a KUBE member household must stay active in the BDT"),
    "kube.representative_left": N_("the KUBE's representative of this household"),
}
FORM_WORDS: dict[str, str] = {"cash": N_("cash"), "equipment": N_("equipment"), "mixed": N_("mixed")}
KIND_WORDS: dict[str, str] = {"perempuan": N_("women's KUBE"), "umum": N_("general KUBE")}
# Evidence attached to a proposal or its grant, and a KUBE's own papers (shared/vocabulary.py DOCUMENT_KINDS,
# GROUP_DOCUMENT_KINDS).
DOCUMENT_WORDS: dict[str, str] = {
    "signed_proposal": N_("Signed proposal"), "rab": N_("Budget (RAB)"), "decision_letter": N_("Decision letter (SK)"),
    "bast": N_("Signed handover record (BAST)"), "delivery_photo": N_("Photo of the handover"),
    "receipt": N_("Receipt of the LPJ"), "visit_photo": N_("Photo of a monitoring visit"),
    "sk_kades": N_("Village head's decree forming the KUBE (SK Kades)"),
    "meeting_minutes": N_("Minutes of the village meeting (musyawarah desa)")}
ROLE_IN_GROUP: dict[str, str] = {"ketua": N_("chair"), "sekretaris": N_("secretary"), "bendahara": N_("treasurer")}
SEX_WORDS: dict[str, str] = {"L": N_("male"), "P": N_("female")}
# What reconciling the bank's statement said of a line (services/grants/banking.py).
VERDICT_WORDS: dict[str, str] = {
    "confirm": N_("confirmed"), "fail": N_("recorded as failed"), "recorded_before": N_("recorded before"),
    "amount_differs": N_("amount differs"), "unknown_reference": N_("unknown reference"),
    "duplicate": N_("duplicate line"), "not_awaiting": N_("payment not waiting for the bank"),
    "no_bank_reference": N_("no bank reference"), "refused": N_("not recorded: another treasurer decides"),
}
# Grievances (pengaduan): categories, how far one went, and how it ended.
GRIEVANCE_CATEGORY_WORDS: dict[str, str] = {
    "exclusion": N_("exclusion — my family should be included"),
    "inclusion": N_("inclusion — that family is not poor"),
    "payment_not_received": N_("payment not received"), "misuse": N_("misuse of funds"), "other": N_("other"),
}
GRIEVANCE_STATUS_WORDS: dict[str, str] = {"recorded": N_("awaiting assignment"), "assigned": N_("being handled"),
                                          "resolved": N_("resolved")}
GRIEVANCE_OUTCOME_WORDS: dict[str, str] = {"upheld": N_("upheld"), "not_upheld": N_("not upheld"),
                                           "referred": N_("referred to another body")}
