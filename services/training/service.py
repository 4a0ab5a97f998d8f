"""Training service: thin nameko entrypoints over the Family School application."""

from __future__ import annotations

from services.training import commands as cmd
from services.training.application import TrainingApplication
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc


class TrainingService(BackboneEntrypoints):
    name = "training"
    app: TrainingApplication = Backbone(TrainingApplication)

    # --- curriculum ---
    @domain_rpc
    def curriculum(self) -> dict:
        curriculum = self.app.curriculum()
        return {"modules": curriculum.modules, "active": curriculum.active}

    @domain_rpc
    def add_module(self, payload: dict) -> None:
        self.app.add_module(self.edge.parse(cmd.AddModule, payload))

    @domain_rpc
    def retire_module(self, payload: dict) -> None:
        self.app.retire_module(self.edge.parse(cmd.RetireModule, payload))

    # --- cohorts ---
    @domain_rpc
    def open_cohort(self, payload: dict) -> str:
        return self.app.open_cohort(self.edge.parse(cmd.OpenCohort, payload))

    @domain_rpc
    def assign_facilitator(self, payload: dict) -> None:
        self.app.assign_facilitator(self.edge.parse(cmd.AssignFacilitator, payload))

    @domain_rpc
    def enrol(self, payload: dict) -> None:
        self.app.enrol(self.edge.parse(cmd.Enrol, payload))

    @domain_rpc
    def schedule_session(self, payload: dict) -> str:
        return self.app.schedule_session(self.edge.parse(cmd.ScheduleSession, payload))

    @domain_rpc
    def record_attendance(self, payload: dict) -> list[dict]:
        return self.app.record_attendance(self.edge.parse(cmd.RecordAttendance, payload))

    @domain_rpc
    def correct_attendance(self, payload: dict) -> list[dict]:
        return self.app.correct_attendance(self.edge.parse(cmd.CorrectAttendance, payload))

    # --- queries ---
    @domain_rpc
    def cohort(self, cohort_id: str) -> dict:
        return self.app.cohort(cohort_id)

    @domain_rpc
    def cohorts(self, village_code: str | None = None, page: int = 1, size: int = 50) -> dict:
        return self.app.cohorts(village_code, page, size)

    @domain_rpc
    def participant(self, person_id: str) -> dict:
        return self.app.participant(person_id)

    # --- printouts ---
    @domain_rpc
    def document_code(self, cohort_id: str, participant: str) -> dict:
        return self.app.document_code(cohort_id, participant)

    @domain_rpc
    def check_document(self, code: str) -> dict:
        return self.app.check_document(code)

    @domain_rpc
    def completion_rates(self) -> dict:
        return self.app.completion_rates()

    @domain_rpc
    def gates(self, region: str | None = None) -> list[dict]:
        return self.app.gates(region)

    @domain_rpc
    def dashboard(self, region: str | None = None) -> list[dict]:
        return self.app.dashboard(region)

    @domain_rpc
    def totals(self) -> dict:
        return self.app.totals()

    @domain_rpc
    def individual(self, person_id: str) -> dict | None:
        return self.app.individual(person_id)

    @domain_rpc
    def individuals_summary(self) -> dict:
        return self.app.individuals_summary()
