"""The admin's erasure page on the real gateway and services, sent as a browser would (the browser test,
tests/browser/test_console_erasure.py, follows an erasure through): an erasure refused while the law keeps the data —
the household's KUBE has a grant whose LPJ is not accepted — says so in Indonesian, and changes nothing."""

from __future__ import annotations

import html
import uuid

import pytest

from tests.integration.test_console_audit_users import CONSOLE, browser, console, section  # noqa: F401
from tests.integration.test_gateway import GatewaySystem, Staff, approved_proposal, register_group, set_budget
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def test_an_erasure_under_a_legal_hold_is_refused_in_indonesian_and_changes_nothing(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    set_budget(staff)
    group_id, households = register_group(staff, 16_800)
    approved_proposal(staff, group_id)
    eventually(lambda: console.system.sql("registry", "SELECT 1 FROM grant_holds WHERE group_id = %s",
                                          (group_id,)), timeout=30, message="the registry learns of the grant")
    target = households[0]
    admin = browser(console, console.add_user("admin.natar", "admin", "18.01"))
    admin.post(f"{CONSOLE}/language", {"language": "id", "next": f"{CONSOLE}/erasures"})
    people_before = console.system.sql("registry", "SELECT nik, name FROM individuals WHERE kk = %s ORDER BY nik",
                                       (target["kk"],))

    answer = admin.post(f"{CONSOLE}/erasures", {"nik": target["members"][0]["nik"], "reason": "permintaan subjek data",
                                                "whole_household": "1"})
    assert answer.status_code == 409, answer.text[:800]
    shown = html.unescape(answer.text)
    assert ("Ditolak selama hukum mewajibkan data disimpan: kelompok keluarga ini memiliki bantuan yang LPJ-nya "
            "belum diterima.") in section(shown, "ask-title")
    assert target["members"][0]["nik"] not in shown  # the NIK typed is not shown again

    assert "Tidak ada permintaan penghapusan yang menunggu persetujuan." in admin.page(f"{CONSOLE}/erasures")
    assert console.system.sql("registry", "SELECT count(*) FROM erasure_requests") == [(0,)]
    assert console.system.sql("registry", "SELECT nik, name FROM individuals WHERE kk = %s ORDER BY nik",
                              (target["kk"],)) == people_before

    # An approval of a request that waits no more (or never did) says so above the list.
    answer = admin.post(f"{CONSOLE}/erasures/{uuid.uuid4()}/approve")
    assert answer.status_code == 404, answer.text[:800]
    assert "Data ini tidak ditemukan, atau tidak berada di wilayah Anda." in section(html.unescape(answer.text),
                                                                                     "pending-title")
