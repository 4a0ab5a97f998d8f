#!/bin/bash
# Write rabbitmq.conf from the environment, run the broker (logs on stdout), apply berdaya's users and rights.
#   RABBITMQ_USER, RABBITMQ_PASSWORD  the default user, created with the node's database (first start only; later
#                                     changes: rabbitmqctl change_password). Required: no default password.
#   RABBITMQ_VHOST                     default /
#   RABBITMQ_<PRINCIPAL>_PASSWORD      registry, grants, training, gateway, operator: their own users (users.sh)
set -euo pipefail
USERS_APPLIED=/tmp/berdaya-users-applied
: "${RABBITMQ_USER:?set RABBITMQ_USER}" "${RABBITMQ_PASSWORD:?set RABBITMQ_PASSWORD}"
umask 077
cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 5672
default_user = $RABBITMQ_USER
default_pass = $RABBITMQ_PASSWORD
default_vhost = ${RABBITMQ_VHOST:-/}
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
default_user_tags.administrator = true
loopback_users = none
# Connection opened/closed lines (every client, and the health check every few seconds) only when they go wrong.
log.connection.level = warning
CONF
if [ "${1:-}" = rabbitmq-server ]; then
    shift
    rm -f "$USERS_APPLIED"
    /usr/lib/rabbitmq/bin/rabbitmq-server "$@" &
    server=$!
    trap 'kill -TERM "$server" 2>/dev/null' TERM INT
    # The berdaya principals' users and rights (users.sh, generated from shared/broker_access.py), at every start:
    # a changed password or right in the environment or the image takes effect. Healthy only once applied.
    # await_startup fails at once while the node is not yet known to epmd: ask again until it answers.
    started=0
    for _ in $(seq 300); do
        kill -0 "$server" 2>/dev/null || break
        if rabbitmqctl --quiet await_startup --timeout 60 >/dev/null 2>&1; then started=1; break; fi
        sleep 1
    done
    if [ "$started" = 1 ] && berdaya-rabbitmq-users; then
        touch "$USERS_APPLIED"
        echo "berdaya: broker users and rights applied"
    else
        echo "berdaya: ERROR: broker users and rights not applied; stopping" >&2
        kill -TERM "$server"
    fi
    status=0
    while kill -0 "$server" 2>/dev/null; do wait "$server"; status=$?; done
    exit "$status"
fi
exec "$@"
