#!/bin/bash
# Run once by the PostgreSQL container when its data directory is created (the official postgres image runs it the
# same way). For each of registry, grants and training:
#   berdaya_<svc>       owns the database berdaya_<svc>; the service connects as it at start-up only, to create its
#                       tables, the append-only triggers and the grants (SETUP_DATABASE_URL)
#   berdaya_<svc>_app   what the service runs as (DATABASE_URL): the service grants it INSERT/SELECT only on its
#                       event log (and ledger), read-write on its read models
# and for the gateway: berdaya_gateway owning berdaya_gateway (its users and idempotency keys).
# Passwords come from the environment, never from this file:
#   <SVC>_DB_OWNER_PASSWORD and <SVC>_DB_PASSWORD for SVC in REGISTRY GRANTS TRAINING; GATEWAY_DB_PASSWORD.
# Nobody else may connect to a service's database (CONNECT revoked from PUBLIC).
# To change a password later: ALTER ROLE ... PASSWORD '...' (this script does not run again).
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

for service in registry grants training; do
    upper=${service^^}
    owner="berdaya_$service"
    ensure_role "$owner" "$(password_of "${upper}_DB_OWNER_PASSWORD")"
    ensure_role "${owner}_app" "$(password_of "${upper}_DB_PASSWORD")"
    ensure_database "$owner" "$owner"
    grant_connect "$owner" "${owner}_app"
    echo "init: database $owner, owner $owner, runtime role ${owner}_app"
done

ensure_role berdaya_gateway "$(password_of GATEWAY_DB_PASSWORD)"
ensure_database berdaya_gateway berdaya_gateway
echo "init: database berdaya_gateway, owner berdaya_gateway"
