#!/bin/bash
# Write rabbitmq.conf from the environment, then run the broker in the foreground (logs on stdout).
#   RABBITMQ_USER, RABBITMQ_PASSWORD  the default user, created with the node's database (first start only; later
#                                     changes: rabbitmqctl change_password). Required: no default password.
#   RABBITMQ_VHOST                     default /
set -euo pipefail
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
    exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
