"""Training's queries: what its RPC reads answer — people, cohorts, participants, the dashboard, completion rates,
gates and totals — from the read model (a cohort's details from its aggregate).
"""

from __future__ import annotations

from shared.errors import NotFound
from shared.store import in_region


class TrainingQueries:
    """The reads, mixed into TrainingApplication (whose ``query``, ``page`` and ``_cohort`` they use)."""

    def individual(self, person_id: str) -> dict | None:
        rows = self.query("SELECT person_id::text, household_id::text, sex, relation, village_code, status, "
                          "left_reason FROM individuals WHERE person_id = %s", (person_id,))
        return rows[0] if rows else None

    def individuals_summary(self) -> dict:
        row = self.query("SELECT count(*) FILTER (WHERE status = 'active') AS individuals, "
                         "count(*) FILTER (WHERE status = 'active' AND sex = 'P') AS women, "
                         "count(DISTINCT household_id) FILTER (WHERE status = 'active') AS households, "
                         "count(*) FILTER (WHERE status = 'left') AS left_registry FROM individuals")[0]
        return {key: int(value) for key, value in row.items()}

    def cohort(self, cohort_id: str) -> dict:
        cohort = self._cohort(cohort_id)
        sessions = sorted(cohort.sessions.items(), key=lambda item: (item[1]["date"], item[1]["module"]))
        return {
            "cohort_id": str(cohort.id), "village_code": cohort.village_code, "name": cohort.name,
            "facilitator": cohort.facilitator,
            "sessions": [{"session_id": sid, "module": s["module"], "date": s["date"].isoformat(), "place": s["place"]}
                         for sid, s in sessions],
            "participants": [
                {"person_id": person_id, "status": p["status"], "certificate": p["certificate"],
                 "group_id": str(p["group_id"]) if p["group_id"] else None,
                 "attendance": [cohort.attendance.get(sid, {}).get(person_id) for sid, _ in sessions],
                 "modules_present": sorted(cohort.modules_present(person_id))}
                for person_id, p in sorted(cohort.participants.items())
            ],
        }

    def cohorts(self, village_code: str | None = None, page: int = 1, size: int = 50) -> dict:
        sql = ("SELECT c.cohort_id::text, c.village_code, c.name, c.facilitator, c.sessions, "
               "count(p.person_id) FILTER (WHERE p.status <> 'withdrawn') AS participants, "
               "count(p.person_id) FILTER (WHERE p.status = 'completed') AS completed "
               "FROM cohorts c LEFT JOIN participants p USING (cohort_id)")
        where, params = in_region("c.village_code", village_code)
        return self.page(f"{sql} WHERE {where} GROUP BY c.cohort_id ORDER BY c.village_code, c.opened_at", params,
                         page, size)

    def participant(self, person_id: str) -> dict:
        rows = self.query("SELECT cohort_id::text, group_id::text, status, certificate FROM participants "
                          "WHERE person_id = %s ORDER BY cohort_id", (person_id,))
        if not rows:
            raise NotFound(f"person {person_id} is in no cohort", field="person_id", person_id=person_id)
        attendance = self.query("SELECT module, session_date::text, status FROM attendance WHERE person_id = %s "
                                "ORDER BY session_date, module", (person_id,))
        return {"person_id": person_id, "person": self.individual(person_id), "enrolments": rows,
                "attendance": attendance}

    def dashboard(self, region: str | None = None) -> list[dict]:
        """Per village of the region: participants (not withdrawn) and those who completed."""
        where, params = in_region("village_code", region)
        return self.query(
            "SELECT village_code, count(*) FILTER (WHERE status <> 'withdrawn') AS participants, "
            f"count(*) FILTER (WHERE status = 'completed') AS completed FROM participants WHERE {where} "
            "GROUP BY village_code ORDER BY village_code", params)

    def completion_rates(self) -> dict:
        by_village = self.dashboard()
        by_module = self.query(
            "SELECT module, count(*) FILTER (WHERE status = 'present') AS present, count(*) AS marked "
            "FROM attendance GROUP BY module ORDER BY module")
        return {
            "by_village": [{**row, "rate": round(row["completed"] / row["participants"], 3) if row["participants"]
                            else None} for row in by_village],
            "by_module": [{**row, "rate": round(row["present"] / row["marked"], 3) if row["marked"] else None}
                          for row in by_module],
        }

    def gates(self, region: str | None = None) -> list[dict]:
        where, params = in_region("gr.village_code", region)
        return self.query("SELECT g.group_id::text, gr.name, gr.village_code, g.open, g.completed, "
                          "g.representatives FROM gates g LEFT JOIN groups gr USING (group_id) "
                          f"WHERE {where} ORDER BY gr.name", params)

    def totals(self) -> dict:
        row = self.query("SELECT count(DISTINCT person_id) FILTER (WHERE status = 'completed') AS completed, "
                         "count(DISTINCT person_id) FILTER (WHERE status = 'enrolled') AS not_completed, "
                         "count(DISTINCT person_id) FILTER (WHERE status = 'withdrawn') AS withdrawn "
                         "FROM participants")[0]
        gates = self.query("SELECT count(*) FILTER (WHERE open) AS open, count(*) FILTER (WHERE NOT open) AS closed "
                           "FROM gates")[0]
        return {"completed": int(row["completed"]), "not_completed": int(row["not_completed"]),
                "withdrawn": int(row["withdrawn"]), "gate_open_groups": int(gates["open"]),
                "gate_closed_groups": int(gates["closed"])}
