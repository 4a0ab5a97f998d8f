"""What reaches a log is redacted of personal data, whoever wrote the line (issue 15, item 7's second half): values
under keys that name personal data, and any 16-digit number (a NIK, a KK) anywhere."""

import io
import logging

import pytest

from shared.errors import RuleViolated
from shared.log import REDACTED, OneLineWarnings, RedactPersonalData, get_logger, redact_personal_data

NIK, KK = "1801064503850001", "1801060000000021"


def test_values_under_keys_naming_personal_data_are_redacted_whatever_they_look_like():
    event = redact_personal_data(None, "info", {
        "event": "registry.something", "nik": "Siti", "representative_nik": 12, "nama": "Siti Aminah",
        "birth_date": "1985-03-05", "tanggal_lahir": "1985-03-05", "Address": "Dusun 2", "kk": None,
        "members": [{"name": "Budi", "relation": "Anak"}], "group_id": "0b6c2f0e-8e1c-4c59-9d39-0c1ad3e0a8f1",
        "position": 41, "rule": "example.rule", "logger": "registry"})
    assert event == {
        "event": "registry.something", "nik": REDACTED, "representative_nik": REDACTED, "nama": REDACTED,
        "birth_date": REDACTED, "tanggal_lahir": REDACTED, "Address": REDACTED, "kk": REDACTED,
        "members": [{"name": REDACTED, "relation": "Anak"}], "group_id": "0b6c2f0e-8e1c-4c59-9d39-0c1ad3e0a8f1",
        "position": 41, "rule": "example.rule", "logger": "registry"}


def test_a_grievances_resident_and_words_are_redacted():
    event = redact_personal_data(None, "warning", {
        "event": "registry.grievance", "complainant_name": "Ibu Ratna", "complainant_contact": "0812 7777 0001",
        "description": "tetangga tidak miskin", "resolution": "diusulkan", "category": "inclusion"})
    assert event == {"event": "registry.grievance", "complainant_name": REDACTED, "complainant_contact": REDACTED,
                     "description": REDACTED, "resolution": REDACTED, "category": "inclusion"}


def test_a_16_digit_number_is_redacted_in_any_value_and_other_numbers_are_kept():
    event = redact_personal_data(None, "error", {
        "event": "consumer.halted", "reason": f'handler failed: UniqueViolation("Key (nik)=({NIK}) exists")',
        "error": f"no household with KK {KK}.", "path": f"/api/v1/people/{NIK}?x=1", "value": int(KK),
        "exception": f'Traceback (most recent call last):\n  ...\nValueError: NIK {NIK} twice in {KK}',
        "position": 1234567890123456789, "bank_reference": "081234567890", "almost": "180106000000002"})
    assert event == {
        "event": "consumer.halted", "reason": f'handler failed: UniqueViolation("Key (nik)=({REDACTED}) exists")',
        "error": f"no household with KK {REDACTED}.", "path": f"/api/v1/people/{REDACTED}?x=1", "value": REDACTED,
        "exception": f'Traceback (most recent call last):\n  ...\nValueError: NIK {REDACTED} twice in {REDACTED}',
        "position": 1234567890123456789, "bank_reference": "081234567890", "almost": "180106000000002"}


@pytest.fixture
def written():
    """What the root logger's one handler writes, set up as the services' LOGGING config sets it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OneLineWarnings())
    handler.addFilter(RedactPersonalData())
    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    root.handlers, root.level = [handler], logging.INFO
    try:
        yield stream
    finally:
        root.handlers, root.level = handlers, level


def test_our_lines_go_through_the_processor(written):
    get_logger("tests.log").warning("registry.duplicate", nik=NIK, nama="Siti Aminah", kk=KK, rule="example.rule")
    line = written.getvalue()
    assert "event='registry.duplicate'" in line and "rule='example.rule'" in line
    assert NIK not in line and KK not in line and "Siti" not in line


def test_a_librarys_line_and_its_traceback_are_redacted_too(written):
    library = logging.getLogger("eventlet.wsgi.server")
    library.info('127.0.0.1 - - "GET /api/v1/households/%s/history HTTP/1.1" 200', KK)
    try:
        raise ValueError(f"NIK {NIK} is not a member of household {KK}")
    except ValueError:
        library.exception("error handling worker %s", "<WorkerContext [registry.remove_member]>")
    text = written.getvalue()
    assert "/api/v1/households/[redacted]/history" in text and "ValueError: NIK [redacted] is not a member" in text
    assert NIK not in text and KK not in text


def test_a_refusal_nameko_logs_is_logged_by_its_codes_not_its_message(written):
    refusal = RuleViolated("example.rule", f"NIK {NIK} (Siti Aminah) is already registered in KK {KK}", nik=NIK,
                           name="Siti Aminah", kk=KK)
    try:
        raise refusal
    except RuleViolated:
        logging.getLogger("nameko.containers").warning("(expected) error handling worker %s: %s",
                                                       "<WorkerContext [registry.register_household]>", refusal,
                                                       exc_info=True)
    line = written.getvalue()
    assert line.strip() == ("(expected) error handling worker <WorkerContext [registry.register_household]>: "
                            "RuleViolated code=rule_violated rule=example.rule")
