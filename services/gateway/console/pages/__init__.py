"""The console's page table: every page, its method and path, and the function that answers it.

Like the API's route table, it is the one list service.py serves from; the pages of an area live in its module.
"""

from __future__ import annotations

from services.gateway.console.pages import audit, home, households, session, users
from services.gateway.console.web import Page, page

PAGES: tuple[Page, ...] = (
    page("GET", "/login", session.login, public=True),
    page("POST", "/login", session.login_post, public=True),
    page("POST", "/logout", session.logout, public=True),
    page("POST", "/language", session.language, public=True),
    page("GET", "/", home.home),
    # households and people
    page("GET", "/people", households.people),
    page("GET", "/households/new", households.new_household),
    page("POST", "/households", households.register_household),
    page("GET", "/households/{kk}", households.household),
    page("POST", "/households/{kk}/{action}", households.household_change),
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
)
