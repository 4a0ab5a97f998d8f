"""The home page: what is waiting for this user, oldest first, with counts — one worklist per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway.console.i18n import N_
from services.gateway.console.web import Redirect, View

# A reviewer's queue: the status a proposal waits in for each level (grants' route).
QUEUE = {"verifier": "submitted", "province": "verified", "ministry": "recommended"}
SHOWN = 10  # rows per worklist on the home page; each links to its whole list


@dataclass
class Worklist:
    kind: str  # how its rows are shown (templates/home.html)
    title: str
    rows: list[dict[str, Any]]
    total: int
    link: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def proposals_waiting(view: View, status: str, title: str) -> Worklist:
    found = view.api("list_proposals", query={"status": status, "order": "oldest", "size": SHOWN})
    return Worklist("proposals", title, found["items"], found["total"], f"/console/proposals?status={status}")


def visits_due(view: View) -> Worklist:
    """The active groups whose monitoring visit is due or overdue (every one: a region has tens, not thousands)."""
    due = view.api("visits_due")
    return Worklist("visits", N_("Monitoring visits due"), due, len(due))


def operator(view: View) -> list[Worklist]:
    due = view.api("lpj_due")
    to_report = [row for row in due if row["lpj"] in (None, "returned")]
    to_review = [row for row in due if row["lpj"] == "submitted"]
    return [
        proposals_waiting(view, "returned", N_("Proposals returned for revision")),
        proposals_waiting(view, "draft", N_("Drafts to submit")),
        Worklist("lpj", N_("LPJ to report"), to_report[:SHOWN], len(to_report), "/console/grants/lpj"),
        Worklist("lpj", N_("LPJ waiting for review by another operator"), to_review[:SHOWN], len(to_review),
                 "/console/grants/lpj"),
        visits_due(view),
    ]


def reviewer(view: View) -> list[Worklist]:
    return [proposals_waiting(view, QUEUE[view.user.role], N_("Proposals waiting for you"))]


def treasurer(view: View) -> list[Worklist]:
    grants = view.api("payable_grants")
    waiting = [g for g in grants if any(t["payable"] or t["status"] in ("instructed", "sent") for t in g["tranches"])]
    return [Worklist("payables", N_("Grants awaiting payment"), waiting[:SHOWN], len(waiting), "/console/grants")]


def facilitator(view: View) -> list[Worklist]:
    cohorts = view.api("list_cohorts", query={"size": SHOWN})
    return [visits_due(view),
            Worklist("cohorts", N_("Family School cohorts"), cohorts["items"], cohorts["total"], "/console/cohorts")]


def auditor(view: View) -> list[Worklist]:
    runs = view.api("audit_runs") if view.user.region == "" else []
    return [Worklist("runs", N_("Last verifications"), runs[:SHOWN], len(runs), "/console/audit")]


def admin(view: View) -> list[Worklist]:
    changes = view.api("user_changes")
    return [Worklist("changes", N_("Latest changes to users"), changes[:SHOWN], len(changes), "/console/users")]


WORKLISTS = {"operator": operator, "verifier": reviewer, "province": reviewer, "ministry": reviewer,
             "treasurer": treasurer, "facilitator": facilitator, "auditor": auditor, "admin": admin}


def home(view: View):
    if view.user.role == "head":  # the head of the office works from the dashboard
        return Redirect("/console/dashboard")
    return view.render("home.html", worklists=WORKLISTS[view.user.role](view))
