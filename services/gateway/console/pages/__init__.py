"""The console's page table: every page, its method and path, and the function that answers it.

Like the API's route table, it is the one list service.py serves from; the pages of an area live in its module.
"""

from __future__ import annotations

from services.gateway.console.pages import (
    audit,
    dashboard,
    erasures,
    grants,
    grievances,
    groups,
    home,
    households,
    imports,
    printouts,
    proposals,
    school,
    session,
    users,
)
from services.gateway.console.web import Page, page

PAGES: tuple[Page, ...] = (
    page("GET", "/login", session.login, public=True),
    page("POST", "/login", session.login_post, public=True),
    page("POST", "/logout", session.logout, public=True),
    page("GET", "/password", session.password, public=True),
    page("POST", "/password", session.password_post, public=True),
    page("POST", "/language", session.language, public=True),
    page("GET", "/verify/{code}", printouts.verify, public=True),  # where a printout's QR code leads
    page("GET", "/", home.home),
    # households and people
    page("GET", "/people", households.people),
    page("GET", "/households/new", households.new_household),
    page("POST", "/households", households.register_household),
    # by the household's id: a link or form never carries a KK
    page("GET", "/households/{household_id}", households.household),
    page("POST", "/households/{household_id}/{action}", households.household_change),
    # DTSEN/DTKS updates: the changes held for review
    page("GET", "/imports/held", imports.held_changes),
    page("POST", "/imports/held/{change_id}/{action}", imports.decide_held_change),
    # KUBE groups
    page("GET", "/groups", groups.groups),
    page("GET", "/groups/new", groups.new_group),
    page("POST", "/groups", groups.form_group),
    page("GET", "/groups/{group_id}", groups.group),
    page("POST", "/groups/{group_id}/documents", groups.attach_group_document),
    page("GET", "/groups/{group_id}/documents/{digest}", groups.group_document),
    page("POST", "/groups/{group_id}/end", groups.end_group),
    # proposals and budgets
    page("GET", "/proposals", proposals.proposals),
    page("GET", "/proposals/new", proposals.new_proposal),
    page("POST", "/proposals/rab", proposals.rab_total),
    page("POST", "/proposals", proposals.draft_proposal),
    page("GET", "/proposals/{proposal_id}", proposals.proposal),
    page("POST", "/proposals/{proposal_id}/{action}", proposals.decide),
    page("GET", "/proposals/{proposal_id}/print/letter", printouts.proposal_letter),
    page("GET", "/proposals/{proposal_id}/print/decision-annex", printouts.decision_annex),
    page("GET", "/budgets", proposals.budgets),
    page("POST", "/budgets", proposals.set_ceiling),
    # grants and money
    page("GET", "/grants", grants.payables),
    page("GET", "/grants/lpj", grants.lpj_due),
    page("POST", "/grants/batch", grants.batch),
    page("GET", "/grants/statement", grants.statement),
    page("POST", "/grants/statement", grants.reconcile),
    page("GET", "/grants/{proposal_id}", grants.grant),
    page("POST", "/grants/{proposal_id}/documents", grants.attach),
    page("GET", "/grants/{proposal_id}/documents/{digest}", grants.document),
    page("POST", "/grants/{proposal_id}/{action}", grants.act),
    page("GET", "/grants/{proposal_id}/payments/{payment_id}/print/bast", printouts.bast),
    page("GET", "/grants/{proposal_id}/payments/{payment_id}/print/receipt", printouts.receipt),
    page("GET", "/grants/{proposal_id}/payments/{payment_id}/print/provenance", printouts.provenance_sheet),
    page("GET", "/grants/{proposal_id}/tranches/{n}/print/lpj", printouts.lpj_form),
    # Family School
    page("GET", "/cohorts", school.cohorts),
    page("POST", "/cohorts", school.open_cohort),
    page("GET", "/cohorts/{cohort_id}", school.cohort),
    page("GET", "/cohorts/{cohort_id}/participants/{person_id}/print/certificate", printouts.certificate),
    page("POST", "/cohorts/{cohort_id}/{action}", school.cohort_change),
    page("GET", "/cohorts/{cohort_id}/sessions/{session_id}", school.attendance),
    page("POST", "/cohorts/{cohort_id}/sessions/{session_id}", school.record_attendance),
    # grievances (pengaduan)
    page("GET", "/grievances", grievances.grievances),
    page("POST", "/grievances", grievances.record_grievance),
    page("GET", "/grievances/{grievance_id}", grievances.grievance),
    page("POST", "/grievances/{grievance_id}/{action}", grievances.grievance_change),
    # the head of the office's dashboard
    page("GET", "/dashboard", dashboard.dashboard),
    page("GET", "/dashboard.csv", dashboard.dashboard_csv),
    # audit
    page("GET", "/audit", audit.audit),
    page("GET", "/audit/head", audit.audit_head),
    page("POST", "/audit/verify", audit.audit_verify),
    page("GET", "/audit/replay", audit.audit_replay),
    page("GET", "/audit/report", audit.audit_report),
    page("GET", "/grants/{proposal_id}/provenance", audit.provenance),
    # users
    page("GET", "/users", users.users),
    page("POST", "/users", users.add_user),
    page("POST", "/users/{username}/{action}", users.user_action),
    # erasure of personal data: one admin asks, another approves
    page("GET", "/erasures", erasures.erasures),
    page("POST", "/erasures", erasures.ask_erasure),
    page("POST", "/erasures/{request_id}/approve", erasures.approve_erasure),
)
