#!/bin/bash
# Start PostgreSQL; on the first start initialise $PGDATA and run /docker-entrypoint-initdb.d/* once
# (*.sh executed, *.sql fed to psql), on a server that listens on the local socket only — so nobody connects over
# TCP (and no health check passes) before the databases and roles exist.
set -euo pipefail
: "${PGDATA:?}"

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "berdaya-postgres: initialising $PGDATA"
    pwfile=()
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pgpass.$$
        pwfile=(--pwfile=/tmp/pgpass.$$)
    fi
    initdb --username=postgres --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
        "${pwfile[@]}" >/dev/null
    rm -f /tmp/pgpass.$$
    {
        echo "listen_addresses = '*'"
        echo "password_encryption = 'scram-sha-256'"
    } >> "$PGDATA/postgresql.conf"
    {
        echo "host all all 0.0.0.0/0 scram-sha-256"
        echo "host all all ::/0 scram-sha-256"
    } >> "$PGDATA/pg_hba.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    export PGUSER=postgres PGDATABASE=postgres PGHOST=/var/run/postgresql
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) echo "berdaya-postgres: running $script"; bash "$script" ;;
            *.sql) echo "berdaya-postgres: running $script"; psql -X -q -v ON_ERROR_STOP=1 -f "$script" ;;
            *) [ -e "$script" ] && echo "berdaya-postgres: ignoring $script" ;;
        esac
    done
    unset PGUSER PGDATABASE PGHOST
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "berdaya-postgres: initialised"
fi

exec "$@"
