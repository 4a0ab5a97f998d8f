"""The head of the office's dashboard: per district (kecamatan) — households, KUBE by status, proposals by stage,
rupiah approved and disbursed against the budget ceiling, LPJ overdue, Family School completion, grievances (open,
overdue, resolved, mean days to resolve) — with charts
drawn on the server as SVG (no script), and the same table as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from services.gateway.console.web import Download, View
from shared.csvcells import neutralised_row
from shared.vocabulary import GROUP_STATUSES, PROPOSAL_STATUSES

BAR_WIDTH = 560  # of the longest bar, in the SVG's units


def bars(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each row's values as bar lengths, scaled to the largest value of any key."""
    top = max((row[key] for row in rows for key in keys), default=0) or 1
    return [{**row, **{f"{key}_bar": round(row[key] * BAR_WIDTH / top, 1) for key in keys}} for row in rows]


def dashboard(view: View):
    found = view.api("dashboard", query={"region": view.args.get("region") or None})
    rows = found["rows"]
    totals = {key: sum(row[key] for row in rows) for key in ("households", "approved_rp", "disbursed_rp",
                                                              "lpj_overdue", "visits_overdue", "participants",
                                                              "completed", "grievances_overdue")}
    stages = {status: sum(row["proposals"].get(status, 0) for row in rows) for status in PROPOSAL_STATUSES}
    ceiling = {key: sum(budget[key] for budget in found["budgets"]) for key in ("ceiling_rp", "committed_rp")}
    money = {"ceiling_rp": ceiling["ceiling_rp"], "committed_rp": ceiling["committed_rp"],
             "disbursed_rp": totals["disbursed_rp"]}
    return view.render("dashboard.html", found=found, rows=bars(rows, ("approved_rp", "disbursed_rp")),
                       totals=totals, stages=stages, ceiling=ceiling, width=BAR_WIDTH,
                       budget_bars=bars([money], tuple(money))[0])


def dashboard_csv(view: View):
    found = view.api("dashboard", query={"region": view.args.get("region") or None})
    _ = view.lang.gettext
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Code"), _("Area"), _("Households"),
                     *(_("KUBE {status}", status=_(status)) for status in GROUP_STATUSES),
                     *(_("Proposals {status}", status=_(status)) for status in PROPOSAL_STATUSES),
                     _("Approved (Rp)"), _("Disbursed (Rp)"), _("LPJ overdue"), _("Family School participants"),
                     _("Family School completed"), _("Grievances"), _("Grievances open"), _("Grievances overdue"),
                     _("Grievances resolved"), _("Mean days to resolve a grievance")])
    regions = view.console.templates.regions
    for row in found["rows"]:
        writer.writerow(neutralised_row([
            row["code"], regions.name(view, row["code"]) or "", row["households"],
            *(row["groups"].get(status, 0) for status in GROUP_STATUSES),
            *(row["proposals"].get(status, 0) for status in PROPOSAL_STATUSES),
            row["approved_rp"], row["disbursed_rp"], row["lpj_overdue"], row["participants"], row["completed"],
            row["grievances"], row["grievances_open"], row["grievances_overdue"], row["grievances_resolved"],
            row["grievance_days_to_resolve"] if row["grievance_days_to_resolve"] is not None else ""]))
    region = found["region"] or "nasional"
    return Download(out.getvalue().encode("utf-8-sig"), f"berdaya-dasbor-{region}.csv", "text/csv")
