"""A grievance (pengaduan) at the console, in Indonesian: the desk records it for a resident (refused without her
name unless it is a misuse report, and nothing recorded), another regency's operator cannot open it, the head
assigns it to the regency's verifier, who finds it on the home page, notes and resolves it; the list shows the
outcome."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from shared.ids import jakarta_today
from tests.browser.console import ConsoleSystem, Staff, accessible, go, notice, refusal, submit

pytestmark = pytest.mark.browser

BELAMBANGAN = "18.01.09.2002"  # Penengahan: a village of this test's own (other tests' data stays out)
COMPLAINT = "Keluarga Ibu Wulan desil 2 tetapi belum masuk KUBE Belambangan"


def grievance_rows(console: ConsoleSystem) -> list[tuple]:
    return console.sql("registry", "SELECT status, assigned_to, outcome FROM grievances WHERE village_code = %s",
                       (BELAMBANGAN,))


def test_a_grievance_recorded_at_the_desk_assigned_by_the_head_and_resolved_by_the_verifier(staff: Staff):
    operator = staff.log_in("operator")
    go(operator, "/console/grievances")
    operator.locator("summary", has_text="Catat pengaduan").click()
    operator.select_option("#f-village_code", BELAMBANGAN)
    operator.select_option("#f-category", "exclusion")
    operator.fill("#f-description", COMPLAINT)
    submit(operator, "form[action$='/console/grievances']")
    assert "Hanya laporan penyalahgunaan dana yang boleh tanpa nama" in refusal(operator)
    accessible(operator)
    assert grievance_rows(staff.system) == []

    operator.fill("#f-complainant_name", "Ibu Wulan")
    operator.fill("#f-complainant_contact", "0812 3333 4444")
    submit(operator, "form[action$='/console/grievances']")
    assert "Pengaduan sudah dicatat." in notice(operator)
    grievance_id = re.search(r"/grievances/([0-9a-f-]{36})", operator.url).group(1)
    expect(operator.locator("dl.facts")).to_contain_text("menunggu penugasan")
    expect(operator.locator("p.text")).to_have_text(COMPLAINT)
    accessible(operator)

    elsewhere = staff.log_in("operator_elsewhere")
    answer = elsewhere.goto(f"{staff.system.base}/console/grievances/{grievance_id}")
    assert answer.status == 404 and COMPLAINT not in elsewhere.content()

    head = staff.log_in("head")
    go(head, f"/console/grievances/{grievance_id}")
    head.fill("#f-assignee", "operator2.kalianda")  # not a verifier: refused, nothing changed
    submit(head, "form[action$='/assign']")
    assert "verifikator di wilayahnya" in refusal(head)
    assert grievance_rows(staff.system) == [("recorded", None, None)]
    head.fill("#f-assignee", "verifikator.lamsel")
    submit(head, "form[action$='/assign']")
    assert "Pengaduan sudah ditugaskan." in notice(head)

    verifier = staff.log_in("verifier")
    worklist = verifier.locator("section.worklist", has_text="Pengaduan yang ditugaskan kepada Anda")
    with verifier.expect_navigation():
        worklist.locator(f"a[href$='/grievances/{grievance_id}']").click()
    verifier.fill("#f-text", "Kunjungan rumah: desil 2 sesuai DTSEN")
    submit(verifier, "form[action$='/note']")
    assert "Catatan sudah disimpan." in notice(verifier)
    expect(verifier.locator("ul.notes")).to_contain_text("Kunjungan rumah")
    verifier.select_option("#f-outcome", "upheld")
    verifier.fill("#f-resolution", "Diusulkan masuk KUBE berikutnya")
    submit(verifier, "form[action$='/resolve']")
    assert "Pengaduan sudah diselesaikan." in notice(verifier)
    expect(verifier.locator("dl.facts")).to_contain_text("selesai: terbukti, ditindaklanjuti")
    accessible(verifier)
    assert grievance_rows(staff.system) == [("resolved", "verifikator.lamsel", "upheld")]

    go(operator, "/console/grievances")
    row = operator.locator("tr", has=operator.locator(f"a[href$='/grievances/{grievance_id}']"))
    expect(row).to_contain_text("selesai: terbukti, ditindaklanjuti")

    # A letter that came 20 days ago, typed in today: overdue at once, on the desk's home page.
    operator.locator("summary", has_text="Catat pengaduan").click()
    operator.select_option("#f-village_code", BELAMBANGAN)
    operator.select_option("#f-category", "misuse")
    operator.fill("#f-description", "Modal KUBE dipakai untuk keperluan pribadi")
    operator.fill("#f-received_on", (jakarta_today() - timedelta(days=20)).isoformat())
    submit(operator, "form[action$='/console/grievances']")
    expect(operator.locator("dl.facts")).to_contain_text("tanpa nama")
    go(operator, "/console/")
    overdue = operator.locator("section.worklist", has_text="Pengaduan melewati batas waktu")
    expect(overdue.locator("tr.overdue")).to_contain_text("penyalahgunaan dana")
