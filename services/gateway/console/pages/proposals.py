"""Proposals (usulan): the queues, drafting one with its budget lines (RAB), and a proposal's page with the
decisions of each level — district, province, ministry, or the regency's head when the regency pays — and the
operator's submission and resubmission; the budget ceilings, each set by whoever pays."""

from __future__ import annotations

from typing import Any

from services.gateway.console.forms import Form, compact
from services.gateway.console.web import ROUTE, View
from shared.vocabulary import APPROVED_AFTER, BUDGET_OWNERS, BUDGET_SOURCES, DECREED_SOURCES, FORMS, PROPOSAL_STATUSES

LINE_FIELDS = ("item", "quantity", "unit", "unit_price_rp")
NEW_LINES = 3
# The status a proposal waits in for each reviewer: their queue (the route itself is the domain's).
QUEUE = {"verifier": "submitted", "province": "verified", "ministry": "recommended", "operator": "returned",
         "head": "verified"}
# What can be done to a proposal in each status: (action, the API route). The page offers those whose route the
# user's role may call; whether it may be done now (maker–checker, region, budget…) the API decides and says.
ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "draft": (("submit", "submit_proposal"),),
    "returned": (("resubmit", "resubmit_proposal"),),
    "submitted": (("verify", "verify_proposal"), ("return", "return_proposal"), ("reject", "reject_proposal")),
    "verified": (("recommend", "recommend_proposal"), ("approve", "approve_proposal"), ("return", "return_proposal"),
                 ("reject", "reject_proposal")),
    "recommended": (("approve", "approve_proposal"), ("return", "return_proposal"), ("reject", "reject_proposal")),
    "approved": (("cancel", "cancel_proposal"),),
}
ROUTE_OF = {action: route for actions in ACTIONS.values() for action, route in actions}
DONE = {"submit": "submitted", "resubmit": "resubmitted", "verify": "verified", "recommend": "recommended",
        "approve": "approved", "return": "returned", "reject": "rejected", "cancel": "cancelled"}


def proposals(view: View):
    status = view.args.get("status") or QUEUE.get(view.user.role)
    found = view.api("list_proposals", query={"status": status, "order": "oldest", "page": view.args.get("page", 1),
                                              "size": 50})
    counts = view.api("proposal_counts")
    return view.render("proposals.html", found=found, shown_status=status, counts=counts, statuses=PROPOSAL_STATUSES)


# --- drafting ---

def lines_from(form: Form) -> tuple[list[dict[str, Any]], int]:
    lines = [{"item": form.text(f"budget_lines.{i}.item", max_length=200),
              "quantity": form.integer(f"budget_lines.{i}.quantity", 1, 1_000_000),
              "unit": form.text(f"budget_lines.{i}.unit", max_length=50),
              "unit_price_rp": form.rupiah(f"budget_lines.{i}.unit_price_rp")}
             for i in form.rows("budget_lines")]
    total = sum((line["quantity"] or 0) * (line["unit_price_rp"] or 0) for line in lines)
    return lines, total


def shown_lines(form: Form) -> list[dict[str, str]]:
    return [{field: form.raw(f"budget_lines.{i}.{field}") for field in LINE_FIELDS}
            for i in form.rows("budget_lines")]


def new_proposal(view: View):
    group = view.api("get_group", path={"group_id": view.args.get("group", "")}) if view.args.get("group") else None
    return view.render("proposal_new.html", group=group, values={"form": "cash"}, lines=[{}] * NEW_LINES, total=0,
                       errors={}, refusal=None, forms=FORMS)


def rab_total(view: View):
    """The RAB's sum as it is typed (htmx swaps it in; without script, the form's "recalculate" shows it)."""
    form = Form(compact(view.form, "budget_lines", LINE_FIELDS), view.lang)
    _lines, total = lines_from(form)
    return view.render("_rab_total.html", total=total)


def draft_proposal(view: View):
    form = Form(compact(view.form, "budget_lines", LINE_FIELDS), view.lang)
    group_id = form.raw("group_id")
    group = view.api("get_group", path={"group_id": group_id})
    lines, total = lines_from(form)
    values = {"business_plan": form.raw("business_plan"), "form": form.raw("form")}
    if "_more" in view.form or "_total" in view.form:
        form.errors.clear()  # not sent yet: only more rows, or the sum
        return view.render("proposal_new.html", group=group, values=values,
                           lines=shown_lines(form) + ([{}] if "_more" in view.form else []), total=total, errors={},
                           refusal=None, forms=FORMS)
    body = {"group_id": group_id, "business_plan": form.text("business_plan"), "budget_lines": lines,
            "form": form.choice("form", FORMS)}
    drafted = form.send(view, "draft_proposal", body=body)
    if not form.status:
        return view.redirect(f"/proposals/{drafted['proposal_id']}", done="proposal_drafted")
    return view.render("proposal_new.html", group=group, values=values, lines=shown_lines(form) or [{}], total=total,
                       forms=FORMS, **form.shown_again)


# --- a proposal and its decisions ---

def paying_sources(role: str, status: str | None = None) -> list[str]:
    """The sources whose budgets ``role`` owns (and, given a proposal's ``status``, approves from now)."""
    return [source for source, owner in BUDGET_OWNERS.items()
            if owner == role and status in (None, APPROVED_AFTER[source])]


def proposal(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    found = view.api("get_proposal", path={"proposal_id": view.path["proposal_id"]})
    group = view.api("get_group", path={"group_id": found["group_id"]})
    sources = paying_sources(view.user.role, found["status"])
    actions = [action for action, route in ACTIONS.get(found["status"], ())
               if view.user.role in ROUTE[route].roles and (action != "approve" or sources)]
    budgets = [b for b in view.api("list_budgets") if b["source"] in sources] if "approve" in actions else []
    last = found["history"][-1] if found["history"] else {}
    return view.render("proposal.html", status=status, proposal=found, group=group, actions=actions,
                       budgets=budgets, sources=sources, decreed=[s for s in sources if s in DECREED_SOURCES],
                       forms=FORMS, errors=errors or {}, refusal=refusal,
                       took_last_step=last.get("by") == view.user.username and bool(actions))


def decide(view: View):
    action = view.path["action"]
    if action not in ROUTE_OF:
        return view.redirect(f"/proposals/{view.path['proposal_id']}")
    form = Form(compact(view.form, "budget_lines", LINE_FIELDS), view.lang)
    body: dict[str, Any] | None = None
    if action in ("return", "reject", "cancel"):
        body = {"reason": form.text("reason")}
    elif action == "approve":
        body = {"amount_rp": form.rupiah("amount_rp"), "form": form.choice("form", FORMS),
                "fiscal_year": form.integer("fiscal_year", 2000, 2100), "source": form.choice("source", BUDGET_SOURCES),
                "decree_number": form.text("decree_number", required=False, max_length=100)}
    elif action == "resubmit":
        lines, _total = lines_from(form)
        body = {"business_plan": form.text("business_plan"), "budget_lines": lines, "form": form.choice("form", FORMS)}
    form.send(view, ROUTE_OF[action], path={"proposal_id": view.path["proposal_id"]}, body=body)
    if form.status:
        return proposal(view, **form.shown_again)
    return view.redirect(f"/proposals/{view.path['proposal_id']}", done=DONE[action])


# --- budgets ---

def budgets(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    """Every ceiling; whoever pays sets its own: the ministry APBN (nationally, or allotted to a province), a
    province its APBD, a regency's head its APBD (for their own region: the form starts from it)."""
    return view.render("budgets.html", status=status, budgets=view.api("list_budgets"),
                       sources=paying_sources(view.user.role), own_region=view.user.region, errors=errors or {},
                       refusal=refusal, may_set=view.user.role in ROUTE["set_budget_ceiling"].roles)


def set_ceiling(view: View):
    form = Form(view.form, view.lang)
    year, source = form.integer("fiscal_year", 2000, 2100), form.choice("source", BUDGET_SOURCES)
    ceiling = form.rupiah("ceiling_rp", positive=False)
    region = form.text("region", required=False, max_length=20)
    form.send(view, "set_budget_ceiling", path={"fiscal_year": year, "source": source},
              body={"ceiling_rp": ceiling, "region": region})
    if form.status:
        return budgets(view, **form.shown_again)
    return view.redirect("/budgets", done="ceiling_set")
