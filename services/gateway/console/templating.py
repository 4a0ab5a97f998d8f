"""The console's templates (Jinja2, autoescaped) and what every page gets: the user's language and formats, the
CSRF token and a fresh Idempotency-Key for its forms, region labels, the menu of the user's role, and links to the
static files with their content hash (so a browser keeps them until they change).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from services.gateway.auth import User
from services.gateway.console import words
from services.gateway.console.i18n import DEFAULT, LANGUAGES, N_, Language, grouped
from services.gateway.console.refusals import refusal
from services.gateway.console.regions import RegionNames
from services.gateway.console.web import BASE, View, new_key
from shared.masking import mask, sees_in_full

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# The menu: (path, label, roles that see it). Every role has a home page (its worklist) and the dashboard.
MENU = (
    ("/", N_("Home"), None),
    ("/people", N_("Find a person"), {"operator", "verifier", "province", "ministry", "facilitator", "auditor"}),
    ("/households/new", N_("Register a household"), {"operator"}),
    ("/imports/held", N_("DTSEN review"), {"operator", "auditor"}),
    ("/groups", N_("KUBE groups"), {"operator", "verifier", "province", "ministry", "auditor"}),
    ("/proposals", N_("Proposals"), {"operator", "verifier", "province", "ministry", "treasurer", "auditor", "head"}),
    ("/budgets", N_("Budgets"), {"ministry", "province", "treasurer", "auditor", "head"}),
    ("/grants", N_("Disbursements"), {"treasurer", "operator", "auditor"}),
    ("/grants/statement", N_("Bank statement"), {"treasurer"}),
    ("/cohorts", N_("Family School"), {"facilitator", "operator", "auditor", "head"}),
    ("/grievances", N_("Grievances"), {"operator", "verifier", "head", "auditor"}),
    ("/dashboard", N_("Dashboard"), None),
    ("/audit", N_("Audit"), {"auditor", "admin"}),
    ("/users", N_("Users"), {"admin"}),
    ("/erasures", N_("Erasure"), {"admin"}),
)
ROLE_WORDS = {
    "operator": N_("Operator"), "verifier": N_("Verifier"), "province": N_("Province"),
    "ministry": N_("Ministry"), "treasurer": N_("Treasurer"), "facilitator": N_("Facilitator"),
    "auditor": N_("Auditor"), "admin": N_("Admin"), "head": N_("Head of the office"),
    "dci_client": N_("Another system (DCI)"),
}


# What a page says after a redirect (``?done=<code>``): the action it confirms.
DONE = {
    "household_registered": N_("The household is registered."),
    "household_changed": N_("The household is changed."),
    "group_formed": N_("The KUBE is formed."),
    "group_graduated": N_("The KUBE has graduated (mandiri)."),
    "group_dissolved": N_("The KUBE is dissolved."),
    "proposal_drafted": N_("The proposal is saved as a draft."),
    "submitted": N_("The proposal is submitted."),
    "resubmitted": N_("The proposal is submitted again."),
    "verified": N_("The proposal is verified."),
    "recommended": N_("The proposal is recommended."),
    "approved": N_("The proposal is approved."),
    "returned": N_("The proposal is returned for revision."),
    "rejected": N_("The proposal is rejected."),
    "cancelled": N_("The grant is cancelled."),
    "instructed": N_("The payment instruction is recorded."),
    "sent": N_("The payment is marked as sent to the bank."),
    "confirmed": N_("The bank's confirmation is recorded."),
    "failed": N_("The failed transfer is recorded."),
    "payment_cancelled": N_("The payment instruction is cancelled."),
    "delivered": N_("The handover (BAST) is recorded: another person accepts it."),
    "handover_accepted": N_("The handover is accepted: the tranche is paid."),
    "lpj_submitted": N_("The LPJ is submitted."),
    "lpj_reviewed": N_("The LPJ review is recorded."),
    "visit_recorded": N_("The monitoring visit is recorded."),
    "refund_recorded": N_("The refund is recorded."),
    "document_attached": N_("The document is attached: its fingerprint (SHA-256) is on the ledger."),
    "group_document_attached": N_("The paper is attached: its fingerprint (SHA-256) is in the KUBE's record."),
    "ceiling_set": N_("The budget ceiling is set."),
    "cohort_opened": N_("The cohort is opened."),
    "enrolled": N_("The participant is enrolled."),
    "session_scheduled": N_("The session is scheduled."),
    "attendance_recorded": N_("The attendance is saved."),
    "attendance_corrected": N_("The correction is saved."),
    "held_confirmed": N_("The change is confirmed and applied to the household."),
    "held_rejected": N_("The change is rejected: the household stays as it is."),
    "grievance_recorded": N_("The grievance is recorded."),
    "grievance_assigned": N_("The grievance is assigned."),
    "grievance_noted": N_("The note is saved."),
    "grievance_resolved": N_("The grievance is resolved."),
    "user_added": N_("The user is added."),
    "user_disabled": N_("The user is disabled: their sessions have ended."),
    "user_enabled": N_("The user is enabled."),
    "erasure_requested": N_("The erasure is requested: another administrator must approve it."),
    "erasure_approved": N_("The household's personal data is erased."),
    "password_reset": N_("The new password is set: the user's sessions have ended, and they choose their own at the "
                         "next login."),
}
CHANGE_WORDS = {"added": N_("added as {role} for {region}"), "disabled": N_("disabled"),
                "enabled": N_("enabled"), "password_reset": N_("password reset"),
                "password_changed": N_("changed their own password"),
                "identifier_search_granted": N_("may search by NIK or KK (DCI)"),
                "identifier_search_revoked": N_("may no longer search by NIK or KK (DCI)"),
                "public_key_registered": N_("public key registered (DCI signatures)"),
                "public_key_replaced": N_("public key replaced (DCI signatures)")}


@pass_context
def id_number(context: Context, number: str | None) -> str:
    """A NIK or KK as the signed-in user's role may see it: grouped by four in full for the operator and the
    verifier, masked for everyone else (shared/masking.py). Every page shows a NIK or KK through this filter."""
    if not number:
        return "—"
    user = context.get("user")
    return grouped(number) if sees_in_full(user.role if user else None) else mask(number)


def menu(user: User | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    return [(BASE + path, label) for path, label, roles in MENU if roles is None or user.role in roles]


class Templates:
    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        self.versions = {path.relative_to(STATIC).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                         for path in STATIC.rglob("*") if path.is_file()}
        self.regions = RegionNames()
        self.env.filters["id_number"] = id_number
        self.env.globals.update(static=self.static, LANGUAGES=LANGUAGES, BASE=BASE,
                                ROLE_WORDS=ROLE_WORDS, words=words)

    def static(self, name: str) -> str:
        return f"{BASE}/static/{name}?v={self.versions[name]}"

    def render(self, template: str, view: View, context: dict[str, Any]) -> str:
        lang = view.lang

        def region(code: str | None) -> str:
            return self.regions.label(view, code)

        def change_word(change: dict) -> str:
            role = lang.gettext(ROLE_WORDS[change["role"]]) if change.get("role") in ROLE_WORDS else ""
            return lang.gettext(CHANGE_WORDS[change["change"]], role=role, region=region(change.get("region")))

        done = DONE.get(view.request.args.get("done", ""))
        return self.env.get_template(template).render(
            _=lang.gettext, ngettext=lang.ngettext, lang=lang, user=view.user, csrf=view.csrf, new_key=new_key,
            here=view.request.path, args=view.request.args, menu=menu(view.user), region=region,
            status_word=lambda status: lang.gettext(words.STATUS_WORDS.get(status, status)),
            word=lambda table, code: lang.gettext(table.get(code, code)) if code else "—", change_word=change_word,
            options=lambda values, table=None: [(v, lang.gettext(table[v]) if table and v in table else v)
                                                for v in values],
            rule_sentence=lambda rule, **details: refusal(409, {"rule": rule, "details": details}, lang).sentence,
            done=lang.gettext(done) if done else None, **context)

    def render_printout(self, template: str, **context: Any) -> str:
        """A printout's page (printing.py): in Indonesian, the language of the office's papers, whoever prints it;
        for no user, so any NIK or KK on it is masked."""
        lang = Language(DEFAULT)
        return self.env.get_template(template).render(
            _=lang.gettext, lang=lang, user=None,
            status_word=lambda status: lang.gettext(words.STATUS_WORDS.get(status, status)), **context)
