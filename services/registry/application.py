"""Registry application: commands on households, the NIK/KK indexes, and the public registry events."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from services.registry.commands import RegisterHousehold
from services.registry.domain import Household, Member
from shared.contracts import EventData
from shared.contracts.registry import HouseholdRegisteredV1, MemberV1
from shared.errors import Conflict
from shared.store import ReadModelWrites, ServiceApplication

INSERT_NIK = "INSERT INTO nik_index (nik, kk) VALUES (%s, %s)"
INSERT_HOUSEHOLD = (
    "INSERT INTO households (kk, household_id, village_code, decile, bdt_status, member_count) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


class RegistryApplication(ServiceApplication):
    service_name = "registry"
    value_objects = (Member,)
    read_model_ddl = (
        # NIK is unique across the registry: the primary key is the last line of defence against a race.
        "CREATE TABLE IF NOT EXISTS nik_index (nik text PRIMARY KEY, kk text NOT NULL)",
        """CREATE TABLE IF NOT EXISTS households (
            kk text PRIMARY KEY, household_id uuid NOT NULL, village_code text NOT NULL, decile int NOT NULL,
            bdt_status text NOT NULL, member_count int NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS households_village ON households (village_code)",
    )

    def register_households(self, commands: list[RegisterHousehold]) -> list[str]:
        """Register households in one transaction: all of them, or none (a clear Conflict says which clashed)."""
        households = [household_from(command) for command in commands]
        self._check_unregistered(households)
        writes = ReadModelWrites()
        for household in households:
            for member in household.members:
                writes.add(INSERT_NIK, (member.nik, household.kk))
        for household in households:
            writes.add(INSERT_HOUSEHOLD, (household.kk, household.id, household.village_code, household.decile,
                                          household.bdt_status, len(household.members)))
        try:
            self.record(*households, writes=writes)
        except IntegrityError:
            self._check_unregistered(households)  # a concurrent registration won: say which one
            raise
        return [str(household.id) for household in households]

    def _check_unregistered(self, households: list[Household]) -> None:
        kks = [household.kk for household in households]
        taken = self.query("SELECT kk FROM households WHERE kk = ANY(%s)", (kks,))
        if taken:
            raise Conflict(f"KK {taken[0]['kk']} is already registered", field="kk", kk=taken[0]["kk"])
        owner_in_batch: dict[str, str] = {}
        for household in households:
            for member in household.members:
                if member.nik in owner_in_batch:
                    raise _duplicate_nik(member.nik, owner_in_batch[member.nik], household.kk)
                owner_in_batch[member.nik] = household.kk
        clashes = self.query("SELECT nik, kk FROM nik_index WHERE nik = ANY(%s)", (list(owner_in_batch),))
        if clashes:
            nik, registered_kk = clashes[0]["nik"], clashes[0]["kk"]
            raise _duplicate_nik(nik, registered_kk, owner_in_batch[nik])

    def household(self, kk: str) -> dict | None:
        rows = self.query("SELECT * FROM households WHERE kk = %s", (kk,))
        if not rows:
            return None
        household: Household = self.repository.get(rows[0]["household_id"])
        return {
            "household_id": str(household.id),
            "kk": household.kk,
            "dtks_id": household.dtks_id,
            "village_code": household.village_code,
            "address": household.address,
            "decile": household.decile,
            "bdt_status": household.bdt_status,
            "members": [
                {"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date.isoformat(),
                 "relation": m.relation, "marital_status": m.marital_status, "occupation": m.occupation}
                for m in household.members
            ],
        }

    def public_event(self, domain_event) -> EventData:
        if isinstance(domain_event, Household.Registered):
            return HouseholdRegisteredV1(
                household_id=domain_event.originator_id,
                kk=domain_event.kk,
                dtks_id=domain_event.dtks_id,
                village_code=domain_event.village_code,
                decile=domain_event.decile,
                bdt_status="active",
                members=[
                    MemberV1(nik=m.nik, name=m.name, sex=m.sex, birth_date=m.birth_date, relation=m.relation)
                    for m in domain_event.members
                ],
                registered_by=domain_event.registered_by,
            )
        raise LookupError(f"no public contract for {type(domain_event).__qualname__}")


def household_from(command: RegisterHousehold) -> Household:
    return Household(
        kk=command.kk,
        dtks_id=command.dtks_id,
        village_code=command.village_code,
        address=command.address,
        decile=command.decile,
        members=[Member(**member.model_dump()) for member in command.members],
        registered_by=command.registered_by,
    )


def _duplicate_nik(nik: str, first_kk: str, second_kk: str) -> Conflict:
    return Conflict(
        f"NIK {nik} is in household {first_kk} and in household {second_kk}: a NIK belongs to one household",
        field="nik", nik=nik, kks=[first_kk, second_kk],
    )
