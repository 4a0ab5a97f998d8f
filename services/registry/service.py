"""Registry service: thin nameko entrypoints over the registry application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.registry import commands
from services.registry.application import RegistryApplication
from services.registry.domain import Household
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc
from shared.edge import Command
from shared.reads import ReadBy


class RegistryService(BackboneEntrypoints):
    name = "registry"
    app: RegistryApplication = Backbone(RegistryApplication)

    # --- region table ---
    @domain_rpc
    def import_regions(self, payload: dict) -> dict:
        return self.app.import_regions(self.edge.parse(commands.ImportRegions, payload))

    @domain_rpc
    def region_rows(self) -> list[dict]:
        return self.app.region_rows()

    # --- households ---
    @domain_rpc
    def register_household(self, household: dict) -> str:
        return self.app.register_households([self.edge.parse(commands.RegisterHousehold, household)])[0]

    @domain_rpc
    def register_households(self, households: list) -> list[str]:
        return self.app.register_households([self.edge.parse(commands.RegisterHousehold, h) for h in households])

    @domain_rpc
    def import_households(self, payload: dict) -> dict:
        return self.app.import_households(self.edge.parse(commands.ImportHouseholds, payload))

    @domain_rpc
    def decide_held_change(self, payload: dict) -> dict:
        return self.app.decide_held_change(self.edge.parse(commands.DecideHeldChange, payload))

    @domain_rpc
    def add_member(self, payload: dict, reader: dict | None = None) -> dict | None:
        return self._household_changed(self.app.add_member, commands.AddMember, payload, reader)

    @domain_rpc
    def remove_member(self, payload: dict, reader: dict | None = None) -> dict | None:
        return self._household_changed(self.app.remove_member, commands.RemoveMember, payload, reader)

    @domain_rpc
    def correct_member(self, payload: dict, reader: dict | None = None) -> dict | None:
        return self._household_changed(self.app.correct_member, commands.CorrectMember, payload, reader)

    @domain_rpc
    def change_status(self, payload: dict, reader: dict | None = None) -> dict | None:
        return self._household_changed(self.app.change_status, commands.ChangeStatus, payload, reader)

    @domain_rpc
    def change_decile(self, payload: dict, reader: dict | None = None) -> dict | None:
        return self._household_changed(self.app.change_decile, commands.ChangeDecile, payload, reader)

    def _household_changed(self, change: Callable[[Any], Household], command: type[Command], payload: dict,
                           reader: dict | None) -> dict | None:
        """A household command; with a ``reader``, answered with the household as the command left it, as
        :meth:`household` answers that reader (on the access log too): the caller need not read it again."""
        read_by = None if reader is None else self.edge.parse(ReadBy, reader)  # refused before anything changes
        household = change(self.edge.parse(command, payload))
        return None if read_by is None else self.app.household_answer(read_by, household)

    # --- KUBE groups ---
    @domain_rpc
    def form_group(self, payload: dict) -> str:
        return self.app.form_group(self.edge.parse(commands.FormGroup, payload))

    @domain_rpc
    def change_group_member(self, payload: dict) -> None:
        self.app.change_group_member(self.edge.parse(commands.ChangeGroupMember, payload))

    @domain_rpc
    def dissolve_group(self, payload: dict) -> None:
        self.app.dissolve_group(self.edge.parse(commands.DissolveGroup, payload))

    @domain_rpc
    def attach_group_document(self, payload: dict) -> dict:
        return self.app.attach_group_document(self.edge.parse(commands.AttachGroupDocument, payload))

    @domain_rpc
    def graduate_group(self, payload: dict) -> None:
        self.app.graduate_group(self.edge.parse(commands.GraduateGroup, payload))

    # --- erasure: one admin asks, another approves ---
    @domain_rpc
    def request_erasure(self, payload: dict) -> dict:
        return self.app.request_erasure(self.edge.parse(commands.RequestErasure, payload))

    @domain_rpc
    def approve_erasure(self, payload: dict) -> dict:
        return self.app.approve_erasure(self.edge.parse(commands.ApproveErasure, payload))

    @domain_rpc
    def pending_erasures(self, reader: dict, region: str | None = None) -> list[dict]:
        return self.app.pending_erasures(self.edge.parse(ReadBy, reader), region)

    # --- grievances (pengaduan) ---
    @domain_rpc
    def record_grievance(self, payload: dict) -> str:
        return self.app.record_grievance(self.edge.parse(commands.RecordGrievance, payload))

    @domain_rpc
    def assign_grievance(self, payload: dict) -> None:
        self.app.assign_grievance(self.edge.parse(commands.AssignGrievance, payload))

    @domain_rpc
    def note_grievance(self, payload: dict) -> None:
        self.app.note_grievance(self.edge.parse(commands.NoteGrievance, payload))

    @domain_rpc
    def resolve_grievance(self, payload: dict) -> None:
        self.app.resolve_grievance(self.edge.parse(commands.ResolveGrievance, payload))

    @domain_rpc
    def grievance(self, reader: dict, grievance_id: str) -> dict:
        return self.app.grievance(self.edge.parse(ReadBy, reader), grievance_id)

    # --- reads of personal data: each names who reads (verified here, as a command's actor) and why ---
    @domain_rpc
    def household(self, reader: dict, kk: str) -> dict | None:
        return self.app.household(self.edge.parse(ReadBy, reader), kk)

    @domain_rpc
    def household_history(self, reader: dict, kk: str) -> list[dict]:
        return self.app.household_history(self.edge.parse(ReadBy, reader), kk)

    @domain_rpc
    def person(self, reader: dict, nik: str) -> dict | None:
        return self.app.person(self.edge.parse(ReadBy, reader), nik)

    @domain_rpc
    def names(self, reader: dict, person_ids: list[str]) -> dict[str, dict]:
        return self.app.names(self.edge.parse(ReadBy, reader), person_ids)

    @domain_rpc
    def households_in(self, reader: dict, village_code: str, page: int = 1, size: int = 50) -> dict:
        return self.app.households_in(self.edge.parse(ReadBy, reader), village_code, page, size)

    @domain_rpc
    def households_where(self, reader: dict, region: str, deciles: list[int], statuses: list[str],
                         sort: list[list[str]], page: int = 1, size: int = 50) -> dict:
        return self.app.households_where(self.edge.parse(ReadBy, reader), region, deciles, statuses, sort, page,
                                         size)

    @domain_rpc
    def household_identified(self, reader: dict, id_type: str, value: str) -> list[dict]:
        return self.app.household_identified(self.edge.parse(ReadBy, reader), id_type, value)

    @domain_rpc
    def household_changes(self, reader: dict, region: str, after: int, limit: int = 100) -> dict:
        return self.app.household_changes(self.edge.parse(ReadBy, reader), region, after, limit)

    @domain_rpc
    def search_people(self, reader: dict, name_prefix: str, village_code: str | None = None, page: int = 1,
                      size: int = 50) -> dict:
        return self.app.search_people(self.edge.parse(ReadBy, reader), name_prefix, village_code, page, size)

    @domain_rpc
    def find_people(self, reader: dict, query: str, region: str | None = None, page: int = 1, size: int = 20) -> dict:
        return self.app.find_people(self.edge.parse(ReadBy, reader), query, region, page, size)

    @domain_rpc
    def group_candidates(self, reader: dict, village_code: str, kind: str = "perempuan") -> list[dict]:
        return self.app.group_candidates(self.edge.parse(ReadBy, reader), village_code, kind)

    @domain_rpc
    def group(self, reader: dict, group_id: str) -> dict:
        return self.app.group(self.edge.parse(ReadBy, reader), group_id)

    @domain_rpc
    def group_documents(self, reader: dict, group_id: str) -> list[dict]:
        return self.app.group_documents(self.edge.parse(ReadBy, reader), group_id)

    @domain_rpc
    def group_document(self, reader: dict, group_id: str, sha256: str) -> dict:
        return self.app.group_document(self.edge.parse(ReadBy, reader), group_id, sha256)

    @domain_rpc
    def held_changes(self, reader: dict, region: str | None = None) -> list[dict]:
        return self.app.held_changes(self.edge.parse(ReadBy, reader), region)

    @domain_rpc
    def access_log(self, reader: dict, nik: str) -> dict:
        return self.app.access_log_of(self.edge.parse(ReadBy, reader), nik)

    @domain_rpc
    def person_export(self, reader: dict, nik: str) -> dict:
        return self.app.person_export(self.edge.parse(ReadBy, reader), nik)

    # --- reads of no personal data ---
    @domain_rpc
    def groups(self, village_code: str | None = None, status: str | None = None, page: int = 1,
               size: int = 50) -> dict:
        return self.app.groups(village_code, status, page, size)

    @domain_rpc
    def grievances(self, region: str | None = None, status: str | None = None, overdue: bool = False,
                   assigned_to: str | None = None) -> list[dict]:
        return self.app.grievances(region, status, overdue, assigned_to)

    @domain_rpc
    def grievance_row(self, grievance_id: str) -> dict | None:
        return self.app.grievance_row(grievance_id)

    @domain_rpc
    def grievance_counts(self, region: str | None = None) -> list[dict]:
        return self.app.grievance_counts(region)

    @domain_rpc
    def counts(self) -> dict:
        return self.app.counts()

    @domain_rpc
    def dashboard(self, region: str | None = None) -> list[dict]:
        return self.app.dashboard(region)
