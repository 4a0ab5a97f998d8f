"""The auditor's engine: replay (``replay``), verify (``verify``), the report (``report``, ``report_page``).

Used by the operator CLI (`berdaya audit …`, `berdaya demo`) and, through it, by the gateway's audit routes. It
reads every service's database read-only and imports the services' domain code to replay their events, as an
auditor's tool built on the code does; the services never import it (import-linter).
"""
