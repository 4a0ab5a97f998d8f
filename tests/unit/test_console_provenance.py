"""The provenance page's columns of a payment: who started it (instructed a transfer, recorded a handover) and who
finished it (confirmed, accepted the handover) — another person since segregation of duties; a delivery stored
before there was an acceptance step (one Delivered event) shows its one person as the start."""

from services.gateway.console.pages.audit import payments_of


def entry(event: str, by: str, payment_id: str = "d1") -> dict:
    return {"event": event, "by": by, "at": "2026-03-02T03:00:00+00:00", "details": {"payment_id": payment_id}}


def steps_by(history: list[dict]) -> dict[str, str]:
    [payment] = payments_of({"history": history, "payments": [{"payment_id": "d1"}]})
    return {step: taken["by"] for step, taken in payment["steps"].items()}


def test_a_transfer_shows_who_instructed_sent_and_confirmed_it():
    assert steps_by([entry("Instructed", "tr"), entry("Sent", "tr"), entry("Confirmed", "tr2")]) == {
        "instructed": "tr", "sent": "tr", "confirmed": "tr2"}


def test_a_handover_shows_who_recorded_it_and_who_accepted_it():
    assert steps_by([entry("DeliveryRecorded", "op1"), entry("Delivered", "tr")]) == {
        "instructed": "op1", "confirmed": "tr"}


def test_a_handover_stored_as_one_event_before_the_acceptance_step_shows_who_recorded_it():
    assert steps_by([entry("Delivered", "op1")]) == {"instructed": "op1"}
