"""The Family School (Sekolah Keluarga): cohorts, their sessions and participants, the attendance checklist a
facilitator ticks on a phone at the village hall, corrections with a reason, completions and the groups' gates."""

from __future__ import annotations

from services.gateway.console.forms import Form
from services.gateway.console.i18n import N_
from services.gateway.console.web import ROUTE, View
from shared.vocabulary import ATTENDANCE


def cohorts(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    found = view.api("list_cohorts", query={"page": view.args.get("page", 1), "size": 50})
    return view.render("cohorts.html", status=status, found=found, gates=view.api("list_gates"),
                       errors=errors or {}, refusal=refusal,
                       villages=view.console.templates.regions.villages(view, view.user.region),
                       values={"facilitator": view.user.username},
                       may_open=view.user.role in ROUTE["open_cohort"].roles)


def open_cohort(view: View):
    form = Form(view.form, view.lang)
    body = {"village_code": form.text("village_code"), "facilitator": form.text("facilitator", max_length=100),
            "name": form.text("name", required=False, max_length=200)}
    opened = form.send(view, "open_cohort", body=body)
    if form.status:
        return cohorts(view, **form.shown_again)
    return view.redirect(f"/cohorts/{opened['cohort_id']}", done="cohort_opened")


def curriculum(view: View) -> tuple[dict[str, str], list[str]]:
    """The modules' titles (retired ones too: past sessions keep their meaning), and the active modules."""
    found = view.api("get_curriculum")
    return {code: module["title"] for code, module in found["modules"].items()}, found["active"]


def cohort(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    found = view.api("get_cohort", path={"cohort_id": view.path["cohort_id"]})
    titles, active = curriculum(view)
    return view.render("cohort.html", status=status, cohort=found, errors=errors or {}, refusal=refusal,
                       titles=titles, module_options=[("", "—")] + [(code, titles[code]) for code in active],
                       may={name: view.user.role in ROUTE[name].roles for name in ("enrol", "schedule_session",
                                                                                     "record_attendance")})


def cohort_change(view: View):
    """Enrol a person (the facilitator types the NIK on their card; training is told the registry's id), or schedule
    a session."""
    form = Form(view.form, view.lang)
    if view.path["action"] == "enrol":
        person = form.read(view, "get_person", path={"nik": form.digits("nik")})
        if person is None:
            return cohort(view, **form.shown_again)
        route, body, done = "enrol", {"person_id": person["person_id"]}, "enrolled"
    else:
        route, done = "schedule_session", "session_scheduled"
        body = {"module": form.text("module", max_length=50), "session_date": form.day("session_date"),
                "place": form.text("place", max_length=200)}
    form.send(view, route, path={"cohort_id": view.path["cohort_id"]}, body=body)
    if form.status:
        return cohort(view, **form.shown_again)
    return view.redirect(f"/cohorts/{view.path['cohort_id']}", done=done)


def attendance(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    """The checklist of one session: everyone not yet marked gets a choice; who is marked can be corrected."""
    found = view.api("get_cohort", path={"cohort_id": view.path["cohort_id"]})
    index = next((i for i, s in enumerate(found["sessions"]) if s["session_id"] == view.path["session_id"]), None)
    if index is None:
        return view.render("error.html", status=404, refusal=None)
    session = found["sessions"][index]
    people = [{**p, "mark": p["attendance"][index]} for p in found["participants"] if p["status"] != "withdrawn"]
    return view.render("attendance.html", status=status, cohort=found, session=session,
                       title=curriculum(view)[0].get(session["module"], session["module"]),
                       unmarked=[p for p in people if p["mark"] is None],
                       marked=[p for p in people if p["mark"] is not None], choices=ATTENDANCE,
                       errors=errors or {}, refusal=refusal)


def record_attendance(view: View):
    form = Form(view.form, view.lang)
    path = {"cohort_id": view.path["cohort_id"], "session_id": view.path["session_id"]}
    if "person_id" in view.form:  # a correction of one participant's mark
        route, done = "correct_attendance", "attendance_corrected"
        body = {"person_id": form.text("person_id"), "status": form.choice("status", ATTENDANCE),
                "reason": form.text("reason")}
    else:
        route, done = "record_attendance", "attendance_recorded"
        marks = {key.removeprefix("mark."): value for key, value in view.form.items() if key.startswith("mark.")}
        body = {"marks": {person_id: form.choice(f"mark.{person_id}", ATTENDANCE) for person_id in marks}}
        if not marks:
            form.wrong("marks", N_("Tick the attendance of at least one participant."))
    answer = form.send(view, route, path=path, body=body)
    if form.status:
        return attendance(view, **form.shown_again)
    return view.redirect(f"/cohorts/{path['cohort_id']}/sessions/{path['session_id']}", done=done,
                         completed=len(answer["completed"]) or None)
