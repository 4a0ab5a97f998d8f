"""The web console at /console/: server-rendered pages (Jinja2, Indonesian first, English as a switch) for the
programme's people — operators, verifiers, province and ministry officers, the treasurer, facilitators, the head
of the office, auditors and admins.

Every read and every action of a page is a request to the HTTP API's own route table, run through the same
pipeline (``core.Gateway.handle``) with the browser's session as the credential: roles, region scope,
maker–checker and Idempotency-Keys are decided there, once. Modules:

- ``web.py``: the pages' table, the request's ``View`` (session, language, CSRF, calls into the pipeline), results;
- ``i18n.py``: catalogs, dates in Asia/Jakarta, rupiah, NIK/KK grouping; ``refusals.py``: a refusal as a sentence;
- ``forms.py``: form fields read as the API's types, with a sentence next to each field a person got wrong;
- ``pages/``: one module per area (home and worklists, households, groups, proposals, grants, Family School,
  dashboard, audit, users), each a list of small page functions;
- ``templates/``, ``static/`` (vendored htmx and Pico CSS: scripts/vendor-assets.sh), ``locale/``.
"""
