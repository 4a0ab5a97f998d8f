#!/bin/bash
# Run once by the PostgreSQL container when its data directory is created (the official postgres image runs it the
# same way). For each of registry, grants and training:
#   berdaya_<svc>       owns the database berdaya_<svc>; the service connects as it at start-up only, to create its
#                       tables, the append-only triggers and the grants (SETUP_DATABASE_URL)
#   berdaya_<svc>_app   what the service runs as (DATABASE_URL): the service grants it INSERT/SELECT only on its
#                       event log (and ledger), read-write on its read models
#   berdaya_<svc>_audit what the audit reads with (<SVC>_AUDIT_DATABASE_URL; the gateway's /api/v1/audit/*):
#                       SELECT on every table the owner creates, in read-only sessions
# and for the gateway: berdaya_gateway owning berdaya_gateway (its users and idempotency keys).
# Passwords come from the environment, never from this file:
#   <SVC>_DB_OWNER_PASSWORD, <SVC>_DB_PASSWORD and <SVC>_DB_AUDIT_PASSWORD for SVC in REGISTRY GRANTS TRAINING;
#   GATEWAY_DB_PASSWORD.
# Nobody else may connect to a service's database (CONNECT revoked from PUBLIC).
# The container runs this once, when the data directory is created; it is idempotent, so running it again on a
# cluster created by an older version adds the roles that version lacked (docs/operations.md, upgrades).
# To change a password later: ALTER ROLE ... PASSWORD '...' (existing roles keep theirs here).
set -euo pipefail

password_of() { # variable name → its value; refuses an empty one
    local value="${!1:-}"
    if [ -z "$value" ]; then
        echo "init: $1 is not set; refusing to create a role without a password" >&2
        exit 1
    fi
    printf '%s' "$value"
}

# role password [database-it-may-connect-to]: create the role if missing (psql variables quote any password).
ensure_role() {
    psql -X -q -v ON_ERROR_STOP=1 -v role="$1" -v password="$2" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SQL
}

ensure_database() { # database owner
    psql -X -q -v ON_ERROR_STOP=1 -v db="$1" -v owner="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SQL
}

grant_connect() { # database role
    psql -X -q -v ON_ERROR_STOP=1 -v db="$1" -v role="$2" <<'SQL'
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
}

# database owner role: the role may read (only) every table the owner has created or will create there.
grant_read_only() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -v db="$1" -v owner="$2" -v role="$3" <<'SQL'
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT ON TABLES TO %I', :'owner',
              :'role') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'role') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'role') \gexec
SQL
}

for service in registry grants training; do
    upper=${service^^}
    owner="berdaya_$service"
    ensure_role "$owner" "$(password_of "${upper}_DB_OWNER_PASSWORD")"
    ensure_role "${owner}_app" "$(password_of "${upper}_DB_PASSWORD")"
    ensure_role "${owner}_audit" "$(password_of "${upper}_DB_AUDIT_PASSWORD")"
    ensure_database "$owner" "$owner"
    grant_connect "$owner" "${owner}_app"
    grant_read_only "$owner" "$owner" "${owner}_audit"
    echo "init: database $owner, owner $owner, runtime role ${owner}_app, read-only role ${owner}_audit"
done

ensure_role berdaya_gateway "$(password_of GATEWAY_DB_PASSWORD)"
ensure_database berdaya_gateway berdaya_gateway
echo "init: database berdaya_gateway, owner berdaya_gateway"
