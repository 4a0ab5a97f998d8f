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


def grievances_overdue(view: View) -> Worklist:
    overdue = view.api("list_grievances", query={"overdue": True})
    return Worklist("grievances", N_("Grievances overdue"), overdue[:SHOWN], len(overdue),
                    "/console/grievances?overdue=1")


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
        grievances_overdue(view),
        visits_due(view),
    ]


def reviewer(view: View) -> list[Worklist]:
    return [proposals_waiting(view, QUEUE[view.user.role], N_("Proposals waiting for you"))]


def verifier(view: View) -> list[Worklist]:
    """The district's reviewer also looks into the grievances assigned to them, the earliest due first."""
    mine = view.api("list_grievances", query={"assigned_to": view.user.username, "status": "assigned"})
    return [*reviewer(view), Worklist("grievances", N_("Grievances assigned to you"), mine[:SHOWN], len(mine),
                                      "/console/grievances")]


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
    """The region's erasure requests awaiting a second admin; a national admin's also the latest changes to users
    (users are national: a regional admin erases, but manages no user)."""
    pending = view.api("pending_erasures")
    lists = [Worklist("erasures", N_("Erasure requests awaiting approval"), pending[:SHOWN], len(pending),
                      "/console/erasures")]
    if view.user.region == "":
        changes = view.api("user_changes")
        lists.append(Worklist("changes", N_("Latest changes to users"), changes[:SHOWN], len(changes),
                              "/console/users"))
    return lists


WORKLISTS = {"operator": operator, "verifier": verifier, "province": reviewer, "ministry": reviewer,
             "treasurer": treasurer, "facilitator": facilitator, "auditor": auditor, "admin": admin}


def home(view: View):
    if view.user.role == "head":  # the head of the office works from the dashboard
        return Redirect("/console/dashboard")
    return view.render("home.html", worklists=WORKLISTS[view.user.role](view))
