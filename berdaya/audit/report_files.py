"""`berdaya audit report`, its files: the CSV files, the charts (matplotlib, Agg backend, embedded as PNG) and the
self-contained report.html, written from the data ``berdaya.audit.report`` collects."""

from __future__ import annotations

import base64
import csv
import html
import io
import statistics
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from berdaya.audit.report import (
    DISBURSEMENT_COLUMNS,
    LEVELS,
    STEPS,
    Report,
    collect,
    decimal_id,
    rupiah,
    wib,
)
from shared.csvcells import neutralised

# --- files -----------------------------------------------------------------------------------------------------

def write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict]) -> Path:
    columns = list(columns)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else neutralised(row[c]) for c in columns})
    return path


def png(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def new_figure(title: str) -> tuple[Figure, Any]:
    figure = Figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def no_data(axes) -> None:
    axes.text(0.5, 0.5, "tidak ada data (no data)", ha="center", va="center", transform=axes.transAxes,
              color="grey")
    axes.set_xticks([])
    axes.set_yticks([])


def chart_district_month(rows: list[dict]) -> str:
    figure, axes = new_figure("Disbursed by district and month (penyaluran per kecamatan, juta Rp)")
    months = sorted({r["month"] for r in rows})
    districts = sorted({r["district"] for r in rows})
    if not rows:
        no_data(axes)
        return png(figure)
    amounts = {(r["district"], r["month"]): r["amount_rp"] for r in rows}
    names = {r["district"]: r["district_name"] for r in rows}
    bottom = [0.0] * len(months)
    positions = list(range(len(months)))  # months ("2026-12") as tick labels: matplotlib would parse them as dates
    for district in districts:
        values = [amounts.get((district, m), 0) / 1e6 for m in months]
        label = f"{district} {names[district]}".strip()
        axes.bar(positions, values, bottom=bottom, label=label, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, months)
    for x, total in enumerate(bottom):
        axes.annotate(decimal_id(total), (x, total),
                      ha="center", va="bottom", fontsize=8)
    axes.set_xlim(-0.5 - max(0, 2 - len(months)) / 2, len(months) - 0.5 + max(0, 2 - len(months)) / 2)
    axes.set_ylim(0, max(bottom) * 1.12)
    axes.set_ylabel("juta Rp")
    axes.set_xlabel("bulan (WIB)")
    axes.legend(fontsize=8, title="kecamatan", title_fontsize=8)
    return png(figure)


def chart_stages(rows: list[dict]) -> str:
    figure, axes = new_figure("Proposals by stage (usulan per tahap)")
    if not any(r["count"] for r in rows):
        no_data(axes)
        return png(figure)
    labels = [r["label"] for r in rows]
    bars = axes.barh(labels, [r["count"] for r in rows], color="#4c72b0")
    axes.bar_label(bars, fontsize=8, padding=2)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("usulan (proposals)")
    return png(figure)


def chart_durations(rows: list[dict]) -> str:
    figure, axes = new_figure("Time spent per approval level (lama di tiap tingkat, jam)")
    data = [[r[column] for r in rows if r[column] is not None] for column, *_ in LEVELS]
    if not any(data):
        no_data(axes)
        return png(figure)
    positions = [i for i, values in enumerate(data, start=1) if values]
    axes.boxplot([data[i - 1] for i in positions], positions=positions, widths=0.5, showfliers=True)
    for position in positions:
        values = data[position - 1]
        axes.annotate(f"median {decimal_id(statistics.median(values), 2)} j (n={len(values)})",
                      (position, max(values)), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8)
    axes.set_xticks(range(1, len(LEVELS) + 1), [label for *_, label in LEVELS], fontsize=8)
    axes.set_xlim(0.5, len(LEVELS) + 0.5)
    axes.set_ylim(bottom=0, top=max(max(values) for values in data if values) * 1.15 or 1)
    axes.set_ylabel("jam (hours)")
    return png(figure)


def chart_family_school(rows: list[dict]) -> str:
    figure, axes = new_figure("Family School completion by village (kelulusan Sekolah Keluarga per desa)")
    rows = [r for r in rows if r["rate"] is not None]
    if not rows:
        no_data(axes)
        return png(figure)
    labels = [r["village_name"] or r["village_code"] for r in rows]
    bars = axes.bar(labels, [r["rate"] * 100 for r in rows], color="#55a868", width=0.6)
    axes.bar_label(bars, labels=[f"{r['rate']:.0%} ({r['completed']}/{r['participants'] - r['withdrawn']})"
                                 for r in rows], fontsize=8)
    axes.set_xlim(-0.5 - max(0, 2 - len(rows)) / 2, len(rows) - 0.5 + max(0, 2 - len(rows)) / 2)
    axes.set_ylim(0, 110)
    axes.set_ylabel("% lulus (completed)")
    axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    return png(figure)


def cell(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def table(headers: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def who_when(row: dict, step: str) -> str:
    by, at = row[f"{step}_by"], row[f"{step}_at"]
    if not by:
        return "—"
    return f"{cell(by)}<br><small>{cell(at.replace('T', ' '))}</small>"


def recorded(text: str | None) -> str:
    return cell(wib(datetime.fromisoformat(text)).replace("T", " ")) if text else "—"


def integrity_section(report: Report) -> str:
    head = report.ledger
    parts = [f"<p>Ledger head now (kepala rantai hash): entry <b>{head['seq']}</b>, "
             f"<code>{cell(head['hash'])}</code>, recorded {recorded(head['recorded_at'])}. "
             "Compare it with the heads you keep elsewhere.</p>"]
    if report.ledger_as_of is not None:
        at = report.ledger_as_of
        parts.append(f"<p>Ledger head at the as-of moment: entry <b>{at['seq']}</b>, <code>{cell(at['hash'])}</code>"
                     f" (recorded {recorded(at['recorded_at'])}).</p>")
    result = report.verification
    if result is None:
        parts.append(f'<p class="bad">audit verify could not run: {cell(report.verification_error)}</p>')
    elif result["ok"]:
        parts.append(f'<p class="ok">audit verify: OK — {result["events_checked"]:,} events replayed, '
                     f'{result["ledger_entries_checked"]:,} ledger entries checked (whole log, now).</p>')
    else:
        parts.append(f'<p class="bad">audit verify: {len(result["problems"])} problem(s) — '
                     f'{result["events_checked"]:,} events replayed (whole log, now).</p>')
        parts.append(table(["service", "position", "kind", "detail"],
                           [[cell(p["service"]), cell(p["position"] if p["position"] is not None else "—"),
                             cell(p["kind"]), cell(p["detail"])] for p in result["problems"]]))
    return "\n".join(parts)


def grievances_section(rows: list[dict]) -> str:
    if not rows:
        return "<p>No grievance recorded (tidak ada pengaduan).</p>"
    return table(["kecamatan", "recorded (dicatat)", "resolved (selesai)", "open (terbuka)", "overdue (terlambat)",
                  "mean days to resolve (rata-rata hari)"],
                 [[f"{cell(r['district'])} {cell(r['district_name'])}", cell(r["recorded"]), cell(r["resolved"]),
                   cell(r["open"]), cell(r["overdue"]),
                   decimal_id(r["mean_days_to_resolve"]) if r["mean_days_to_resolve"] is not None else "—"]
                  for r in rows], numeric=frozenset({1, 2, 3, 4, 5}))


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.6em}
.meta{color:#555}.ok{color:#1a7f37;font-weight:600}.bad{color:#b42318;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1em}
.charts figure{margin:0;border:1px solid #eee;padding:.5em}.charts img{width:100%;height:auto}
.figures{display:flex;gap:2em;flex-wrap:wrap}.figures div{background:#f6f8fa;padding:.6em 1em;border-radius:6px}
.figures b{display:block;font-size:1.3em}
table{border-collapse:collapse;font-size:.82em;width:100%}th,td{border:1px solid #ddd;padding:.3em .45em;
vertical-align:top;text-align:left}th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
small{color:#666}code{font-size:.9em;word-break:break-all}
"""


def render_html(report: Report, charts: dict[str, str], csv_files: list[Path]) -> str:
    scope = (f"events up to <b>{cell(wib(report.as_of))}</b>" if report.as_of else "all events")
    total = sum(r["amount_rp"] for r in report.disbursements)
    proposals = sum(r["count"] for r in report.by_stage)
    approved = sum(r["count"] for r in report.by_stage if r["stage"] == "approved")
    sources = ", ".join(f"{cell(s)}: {v['events']:,} events (to position {v['last_position']:,})"
                        for s, v in report.sources.items())
    figures = (f"<div>Disbursed (tersalurkan)<b>{rupiah(total)}</b></div>"
               f"<div>Payments (pembayaran)<b>{len(report.disbursements):,}</b></div>"
               f"<div>Proposals (usulan)<b>{proposals:,}</b></div>"
               f"<div>Approved (disetujui)<b>{approved:,}</b></div>")
    images = "".join(f'<figure><img alt="{cell(title)}" src="data:image/png;base64,{data}"></figure>'
                     for title, data in charts.items())
    rows = [[cell(r["proposal_id"][:8]) + f"<br><small>{cell(r['payment_id'])}</small>",
             cell(r["group_name"]),
             f"{cell(r['village_name'] or r['village_code'])}<br><small>{cell(r['district'])} "
             f"{cell(r['district_name'])}</small>",
             cell(r["tranche"]), rupiah(r["amount_rp"]),
             cell("tunai (cash)" if r["kind"] == "cash" else "barang (equipment)")
             + f"<br><small>{cell(r['bank_reference'] or r['receiver'])}</small>",
             *(who_when(r, step) for step in STEPS)] for r in report.disbursements]
    disbursements = (table(["usulan / payment", "KUBE", "desa / kecamatan", "tahap", "jumlah", "bentuk / ref.",
                            "drafted (diusulkan)", "verified (diverifikasi)", "recommended (direkomendasikan)",
                            "approved (disetujui)", "instructed (diperintahkan)",
                            "confirmed / delivered (diterima)"], rows, numeric=frozenset({3, 4}))
                     if rows else "<p>No disbursement in this period (tidak ada penyaluran).</p>")
    links = " · ".join(f'<a href="{cell(p.name)}">{cell(p.name)}</a>' for p in csv_files)
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Laporan audit KUBE — audit report</title><style>{STYLE}</style></head>
<body>
<h1>Laporan audit program KUBE — Audit report</h1>
<p class="meta">From the event logs alone, {scope}. Generated {cell(wib(report.generated_at))} (WIB).
Sources: {sources}. Times are Asia/Jakarta (WIB).</p>
<div class="figures">{figures}</div>
<h2>Integrity (integritas)</h2>
{integrity_section(report)}
<h2>Charts (grafik)</h2>
<div class="charts">{images}</div>
<h2>Disbursements and their provenance (penyaluran dan asal-usulnya)</h2>
{disbursements}
<h2>Grievances per district (pengaduan per kecamatan)</h2>
{grievances_section(report.grievances)}
<h2>Data (CSV)</h2>
<p>{links}</p>
</body></html>
"""


def write_report(out_dir: Path, as_of: datetime | None = None, urls: dict[str, str] | None = None) -> list[Path]:
    """Replay grants, registry and training up to ``as_of`` and write the CSV files and report.html to
    ``out_dir`` (created if needed); returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = collect(as_of, urls)
    csv_files = [
        write_csv(out_dir / "disbursements.csv", DISBURSEMENT_COLUMNS, report.disbursements),
        write_csv(out_dir / "disbursed_by_district_month.csv", ("district", "district_name", "month", "amount_rp"),
                  report.by_district_month),
        write_csv(out_dir / "proposals_by_stage.csv", ("stage", "count"), report.by_stage),
        write_csv(out_dir / "approval_level_durations.csv",
                  ("proposal_id", "group_name", "status", "times_returned", "last_submitted_at",
                   *(column for column, *_ in LEVELS)), report.durations),
        write_csv(out_dir / "family_school_completion.csv",
                  ("village_code", "village_name", "participants", "completed", "withdrawn", "rate"),
                  report.family_school),
        write_csv(out_dir / "grievances_by_district.csv", ("district", "district_name", "recorded", "resolved", "open",
                                                            "overdue", "mean_days_to_resolve"), report.grievances),
    ]
    charts = {
        "Disbursed by district and month": chart_district_month(report.by_district_month),
        "Proposals by stage": chart_stages(report.by_stage),
        "Time spent per approval level": chart_durations(report.durations),
        "Family School completion by village": chart_family_school(report.family_school),
    }
    page = out_dir / "report.html"
    page.write_text(render_html(report, charts, csv_files), encoding="utf-8")
    return [*csv_files, page]
