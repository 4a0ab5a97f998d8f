"""A refusal of the API as a sentence a person in the office understands, in their language.

The services refuse with a ``rule`` (``kube.decile``, ``tranche.lpj``…) and the values involved (``details``);
the API passes both on. Here each rule has one sentence (an English message id, translated by the catalogs), filled
with those values. A rule without a sentence here falls back to the kind of refusal, so nothing is ever shown as a
stack of technical words — and a unit test lists every rule the services raise that has no sentence yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway.console.i18n import N_, Language, grouped
from services.gateway.console.words import STATUS_WORDS

SENTENCES: dict[str, str] = {
    # who may act
    "role.forbidden": N_("Your role may not do this."),
    "region.scope": N_("This belongs to another region than yours."),
    "actor.unverified": N_("The services could not verify who sent this. Please log in again."),
    "csrf.token": N_("The form was stale. Please try again."),
    "session.ended": N_("Your session has ended. Please log in again."),
    "password.change_required": N_("An administrator set your password: choose your own before you continue."),
    "password.unchanged": N_("The new password must differ from the current one."),
    "login.throttled": N_("Too many failed logins. Please wait {retry_after_s} seconds and try again."),
    "proposal.maker_checker": N_("You took the previous step on this proposal: another person must take the next "
                                 "one (maker–checker)."),
    "lpj.maker_checker": N_("You submitted this LPJ: another operator must review it (maker–checker)."),
    "payment.maker_checker": N_("You instructed this payment: another treasurer must confirm it (maker–checker)."),
    "bast.maker_checker": N_("You recorded this handover: another person must accept it (maker–checker)."),
    "idempotency.in_progress": N_("This form is still being processed. Wait a moment and reload the page."),
    "idempotency.key_reused": N_("This form was already sent with other values. Reload the page and try again."),
    "concurrency": N_("Someone changed this at the same moment. Please try again."),
    "user.exists": N_("A user with this name exists already."),
    # households and people
    "kk.format": N_("A KK number has exactly 16 digits."),
    "kk.region_unknown": N_("KK {kk}: its first digits are not a known regency code."),
    "nik.format": N_("A NIK has exactly 16 digits."),
    "nik.serial": N_("NIK {nik}: the last four digits cannot be 0000."),
    "nik.unique": N_("NIK {nik} is registered already."),
    "nik.regency_unknown": N_("NIK {nik}: its first digits are not a known regency code."),
    "nik.birth_date_mismatch": N_("NIK {nik} does not match the birth date (for a woman the day is +40)."),
    "nik.sex_mismatch": N_("NIK {nik} does not match the sex (for a woman the day of birth is +40)."),
    "nik.birth_date_invalid": N_("NIK {nik}: the date of birth in it is not a real date."),
    "household.registered": N_("This KK is registered already."),
    "household.members": N_("A household keeps at least one member."),
    "household.one_head": N_("A household has exactly one head (Kepala Keluarga): name the new head first."),
    "household.new_head": N_("Name a new head only when the head leaves."),
    "member.relation": N_("Choose the relation to the head from the list."),
    "member.sex": N_("Sex is L or P."),
    "member.reason": N_("Choose a reason from the list."),
    "member.birth_date_future": N_("The birth date cannot be in the future."),
    "member.correctable": N_("This field cannot be corrected here."),
    "correction.reason": N_("A correction needs a reason."),
    "correction.empty": N_("Change at least one field."),
    "decile.range": N_("The welfare decile is a number from 1 to 10."),
    "bdt.status": N_("Choose the BDT status from the list."),
    "bdt.status_reason": N_("A change of status needs a reason."),
    "household.move_reason": N_("A move needs a reason."),
    "bdt.review_decided": N_("This change was decided already."),
    "bdt.review_stale": N_("The member left the household already: reject this change."),
    "search.prefix": N_("Type at least two letters of the name."),
    "search.too_short": N_("Type at least two letters of the name, or a 16-digit NIK or KK."),
    "village.required": N_("Choose a village."),
    "regions.missing": N_("The official region list has not been imported yet."),
    "village.unknown": N_("This village code is not in the official region list."),
    "village.format": N_("A village code looks like 18.01.06.2001."),
    # KUBE groups
    "kube.size": N_("A KUBE of this kind has {low}–{high} member households, not {households}."),
    "kube.roles": N_("Choose a chair, a secretary and a treasurer."),
    "kube.roles_distinct": N_("The chair, the secretary and the treasurer must be three different people."),
    "kube.role_holder": N_("The chair, the secretary and the treasurer must be representatives of member "
                           "households."),
    "kube.distinct_households": N_("A household appears twice in the group."),
    "kube.same_village": N_("Household {kk} lives in another village than the group."),
    "kube.bdt_active": N_("Household {kk} is not active in the BDT."),
    "kube.decile": N_("Household {kk} is in decile {decile}, above the limit of {limit}."),
    "kube.one_active_group": N_("Household {kk} is already a member of an active KUBE."),
    "kube.representative_member": N_("The representative of household {kk} is not a member of that household."),
    "kube.representative_age": N_("The representative of household {kk} is {age} years old: a representative is "
                                  "{min_age}–{max_age}."),
    "kube.women_representative": N_("The representative of household {kk} must be a woman (women's KUBE)."),
    "kube.occupation": N_("The representative of household {kk} is a civil servant, TNI/Polri or a pensioner, who "
                          "cannot join a KUBE."),
    "kube.name": N_("Give the group a name."),
    "kube.business_type": N_("Choose the type of business."),
    "kube.kind": N_("Choose the kind of KUBE."),
    "kube.sk_kades": N_("Give the number of the village head's decree (SK Kades)."),
    "kube.bank_account": N_("Give the bank and the account number."),
    "kube.bank_account_holder": N_("The account must be in the group's name."),
    "kube.member_change": N_("Choose a household to add, to remove, or both."),
    "kube.member_change_reason": N_("A change of members needs a reason."),
    "kube.dissolve_reason": N_("Dissolving a group needs a reason."),
    "kube.inactive": N_("This group is no longer active."),
    "kube.lifecycle": N_("Not now: a group is funded, then active (its first tranche paid), then graduated or "
                         "dissolved, in that order."),
    "kube.graduate_reason": N_("Graduating a group needs a reason."),
    # erasure of a person's or a household's personal data
    "erasure.reason": N_("An erasure request needs a reason."),
    "erasure.four_eyes": N_("You asked for this erasure: another administrator must approve it (maker–checker)."),
    "erasure.approved": N_("This erasure request was approved already."),
    "erasure.done": N_("This person or household is erased already."),
    "erasure.grant_open": N_("Refused while the law requires keeping the data: the household's group has a grant "
                             "whose accountability report (LPJ) is not accepted yet."),
    "erasure.head_of_household": N_("The head of a household that stays cannot be erased alone: the household "
                                    "would have no head. Ask for the whole household's erasure."),
    "erasure.last_member": N_("This person is alone in their household now. Ask for the whole household's "
                              "erasure."),
    "erasure.household_key": N_("This household was registered before each member had a key of their own: its "
                                "members can only be erased with the whole household."),
    # grievances (pengaduan)
    "grievance.category": N_("Choose the grievance's category."),
    "grievance.description": N_("Say what the grievance is about."),
    "grievance.anonymous": N_("Only a report of misused funds may be anonymous: give the resident's name."),
    "grievance.assignee": N_("A grievance is assigned to a verifier of its region."),
    "grievance.assignee_unknown": N_("There is no active user with this name."),
    "grievance.note": N_("A note needs its text."),
    "grievance.received_on": N_("A grievance cannot be received in the future."),
    "grievance.not_assigned": N_("Only the verifier this grievance is assigned to resolves it."),
    "grievance.outcome": N_("Choose the grievance's outcome."),
    "grievance.resolution": N_("Say how the grievance was resolved."),
    "grievance.resolved": N_("This grievance was resolved already."),
    # proposals and budgets
    "proposal.one_open": N_("This group has a proposal in progress already."),
    "proposal.group_status": N_("This group cannot propose now (it is not formed, or it was dissolved)."),
    "proposal.household_eligible": N_("A member household of this group is no longer eligible."),
    "proposal.member_households": N_("A KUBE has 5–20 member households."),
    "proposal.business_plan": N_("Write the business plan."),
    "proposal.form": N_("Choose the form of the aid: cash, equipment or mixed."),
    "proposal.transition": N_("This cannot be done while the proposal is {status}."),
    "proposal.reason": N_("Give a reason."),
    "proposal.flagged": N_("The proposal is flagged: return it for revision first."),
    "rab.empty": N_("Add at least one budget line."),
    "rab.line": N_("Each budget line needs an item and a unit."),
    "rab.quantity": N_("The quantity is at least 1."),
    "approval.above_requested": N_("The amount is more than was requested."),
    "approval.above_cap": N_("The amount is above the cap of the group (Rp 2,000,000 per member household)."),
    "budget.ceiling": N_("Not enough budget left under this ceiling: {available_rp} available."),
    "budget.ceiling_below_committed": N_("The ceiling cannot be lower than what is already committed."),
    "budget.source": N_("Choose the source of funds."),
    "budget.fiscal_year": N_("Choose a fiscal year."),
    "budget.release": N_("This amount was not committed."),
    "budget.region": N_("This budget is not for this region: APBN is national or a province's, APBD-provinsi a "
                        "province's, APBD-kabupaten a regency's."),
    "budget.owner": N_("This budget belongs to another office: only whoever pays sets its ceiling and approves from "
                       "it."),
    "budget.none": N_("No ceiling of this year and source funds this group yet: its owner sets one first."),
    "approval.decree": N_("A grant from the regency's budget is approved on the regent's decree: give its number."),
    # grants and money
    "tranche.once": N_("Tranche {tranche} is already {status}: a tranche is paid once."),
    "tranche.order": N_("Tranche {tranche} waits for the tranche before it to be paid."),
    "tranche.lpj": N_("Tranche {tranche} waits for the LPJ of the tranche before it to be accepted."),
    "tranche.family_school": N_("Tranche {tranche} waits for the Family School: not enough of the group's "
                                "representatives have completed it."),
    "tranche.form": N_("Cash is transferred and equipment is handed over with a BAST: use the other action."),
    "grant.above_approved": N_("This payment would exceed the approved amount."),
    "grant.cancel_after_payment": N_("A grant cannot be cancelled after a payment."),
    "grant.cancelled": N_("This grant was cancelled: nothing more is paid."),
    "payment.transition": N_("This cannot be done while the payment is {status}."),
    "payment.bank_reference": N_("Give the bank's reference number."),
    "payment.reason": N_("Give the reason."),
    "payment.id_reused": N_("This payment was recorded already."),
    # the treasurer's bank files
    "batch.layout": N_("This bank layout is not configured."),
    "batch.duplicate": N_("A payment is selected twice."),
    "batch.bank_account": N_("A selected group has no bank account on record: transfer it by hand."),
    "statement.format": N_("Choose MT940 or CSV."),
    "statement.encoding": N_("The file could not be read."),
    "statement.empty": N_("The statement has no transactions: is it the right file and format?"),
    "statement.too_long": N_("The statement has too many lines: upload it in parts."),
    "statement.amount": N_("An amount in the statement is not whole rupiah."),
    "statement.csv_columns": N_("The CSV statement lacks a column it needs (see docs/treasury.md)."),
    "statement.unreadable": N_("The file cannot be read as a statement in the format chosen."),
    "idempotency_key.required": N_("This action must be sent from its form."),
    "bast.items": N_("The handover record lists at least one item."),
    "bast.quantity": N_("The quantity is at least 1."),
    "bast.receiver": N_("Give the name of who received the goods."),
    "bast.date_future": N_("The handover date cannot be in the future."),
    "lpj.lines": N_("The LPJ lists at least one spending line."),
    "lpj.receipt": N_("Each line needs its receipt number."),
    "lpj.receipt_date": N_("A receipt date cannot be in the future."),
    "lpj.after_payment": N_("An LPJ is reported after its tranche is paid."),
    "lpj.transition": N_("This LPJ cannot be reviewed now (it is not waiting for review)."),
    "lpj.reason": N_("Returning an LPJ needs a reason."),
    "document.not_yet": N_("There is nothing to print yet: what this paper records has not happened."),
    "document.unknown": N_("No document has this verification code: the paper was not printed by berdaya, or what "
                           "it records was changed since."),
    "document.code_format": N_("A verification code looks like L42-9F3A2C1B7D: a letter, a number, a dash and ten "
                               "characters 0–9 or A–F."),
    "document.throttled": N_("Too many wrong codes. Please wait {retry_after_s} seconds and try again."),
    "evidence.type": N_("Only a PDF, JPEG or PNG file can be attached. What the file contains decides, not its "
                        "name."),
    "evidence.too_large": N_("The file is larger than 10 MB."),
    "evidence.empty": N_("The file is empty."),
    "evidence.unreadable": N_("The file is damaged: it cannot be read as a PDF, JPEG or PNG."),
    "evidence.encoding": N_("The file did not arrive whole. Please upload it again."),
    "evidence.kind": N_("This kind of document is not attached here."),
    "evidence.attached": N_("This file is attached already."),
    "evidence.not_yet": N_("This document cannot be attached yet: what it proves has not been recorded."),
    "evidence.altered": N_("The stored file no longer matches what was recorded. Tell the auditor."),
    "lpj.above_tranche": N_("The receipts total {spent_rp}, {difference_rp} more than the tranche of {tranche_rp}: "
                            "return the LPJ for correction."),
    "lpj.balance_unsettled": N_("{balance_rp} of the tranche is not accounted for: give the reference of its refund "
                                "or explain it."),
    "lpj.refund_unknown": N_("No refund with this reference is recorded on this grant: the treasurer records it "
                             "first."),
    "lpj.refund_used": N_("This refund already settled another LPJ."),
    "visit.status": N_("Choose the business status."),
    "visit.date_future": N_("The visit date cannot be in the future."),
    "visit.members_active": N_("Members still active: from 0 to the group's {members} households."),
    "visit.before_payment": N_("Monitoring starts on the day the first tranche is paid."),
    "visit.order": N_("A later visit is recorded already: visits are recorded in date order."),
    "visit.group_closed": N_("The group has graduated or was dissolved: its monitoring has ended."),
    "refund.reason": N_("A refund needs a reason."),
    "refund.above_disbursed": N_("The refund is more than was disbursed."),
    # Family School
    "cohort.facilitator": N_("Name the facilitator of the cohort."),
    "cohort.facilitator_unchanged": N_("This is already the cohort's facilitator."),
    "enrolment.exists": N_("This person is already in the cohort."),
    "enrolment.left_registry": N_("This person has left the registry."),
    "session.module": N_("Choose a module of the curriculum."),
    "session.place": N_("Give the place of the session."),
    "session.duplicate": N_("This module is already scheduled on that day in this cohort."),
    "attendance.future": N_("Attendance is recorded on the day of the session or after, not before."),
    "attendance.status": N_("Choose present, excused or absent."),
    "attendance.withdrawn": N_("NIK {nik} was withdrawn from this cohort."),
    "attendance.empty": N_("Tick the attendance of at least one participant."),
    "attendance.recorded": N_("Attendance of this session is recorded already: correct one person with a reason "
                              "instead."),
    "attendance.unchanged": N_("The attendance is already that."),
    "attendance.reason": N_("A correction needs a reason."),
    "attendance.certified": N_("NIK {nik} has completed and holds a certificate: the attendance is final."),
    "completion.modules": N_("NIK {nik} has not attended enough modules yet."),
}

# What the API's field checks say, by pydantic's error type (the last part of the rule).
CHECKS: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "too_short": N_("Add at least one."),
    "string_pattern_mismatch": N_("The format is not right."),
    "string_too_long": N_("This is too long."),
    "int_type": N_("Give a whole number."),
    "int_parsing": N_("Give a whole number."),
    "greater_than": N_("Give a number above zero."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "date_from_datetime_parsing": N_("Give a date."),
    "date_parsing": N_("Give a date."),
    "literal_error": N_("Choose one of the options."),
    "bool_type": N_("Choose yes or no."),
}

# By HTTP status, when neither the rule nor the check is known.
BY_STATUS: dict[int, str] = {
    400: N_("Some of what was entered is not valid."),
    401: N_("Please log in."),
    403: N_("You may not do this."),
    404: N_("This was not found, or it is not in your region."),
    409: N_("This cannot be done in the current state."),
    413: N_("The file is too large."),
    502: N_("A service failed. The office's technical staff can see why in its log."),
    503: N_("A service is not available right now. Please try again in a moment."),
}


@dataclass(frozen=True)
class Refusal:
    """An API error as the console shows it: the sentence, and the form field it belongs next to (if any)."""

    status: int
    sentence: str
    field: str | None
    rule: str | None
    details: dict[str, Any] = field(default_factory=dict)  # as the API sent them (ids, numbers)


def refusal(status: int, error: dict[str, Any], lang: Language) -> Refusal:
    rule = error.get("rule")
    details = {key: _shown(key, value, lang) for key, value in (error.get("details") or {}).items()}
    sentence = None
    if rule in SENTENCES:
        try:
            sentence = lang.gettext(SENTENCES[rule], **details) if details else lang.gettext(SENTENCES[rule])
        except (KeyError, IndexError):  # an older service without the values: the general sentence
            sentence = None
    if sentence is None and rule and rule.rsplit(".", 1)[-1] in CHECKS:
        sentence = lang.gettext(CHECKS[rule.rsplit(".", 1)[-1]])
    if sentence is None:
        sentence = lang.gettext(BY_STATUS.get(status, BY_STATUS[409 if status < 500 else 502]))
    return Refusal(status, sentence, error.get("field"), rule, error.get("details") or {})


def _shown(key: str, value: Any, lang: Language) -> str:
    if key in ("kk", "nik") and isinstance(value, str):
        return grouped(value)
    if key.endswith("_rp") and isinstance(value, int):
        return lang.rupiah(value)
    if key == "status" and isinstance(value, str):
        return lang.gettext(STATUS_WORDS.get(value, value))
    return str(value)

