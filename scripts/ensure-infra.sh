#!/usr/bin/env bash
# Make sure the local infrastructure berdaya needs is up, idempotently:
#   - PostgreSQL answering on 127.0.0.1:5432 (trust auth for 127.0.0.1 when we install it)
#   - RabbitMQ answering on 127.0.0.1:5672 with guest/guest, and its management API on 127.0.0.1:15672
#   - one role + one database per service: berdaya_<svc> (password = role name), owned by that role
# Installs missing packages with apt-get only when running as root; otherwise says what to install.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
AMQP_HOST=127.0.0.1
AMQP_PORT=5672
MANAGEMENT_PORT=15672
SERVICES=(registry grants training gateway)
PG_WAIT=30
RABBIT_WAIT=60

say() { echo "infra: $*"; }
die() { echo "infra: ERROR: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

tcp_open() { # host port
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL
pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
    else
        tcp_open "$PG_HOST" "$PG_PORT"
    fi
}

pg_installed() { [ -d /etc/postgresql ] && [ -n "$(ls -A /etc/postgresql 2>/dev/null)" ]; }

# "<version> <cluster>" of the cluster on our port, else the first installed version's "main".
pg_cluster() {
    local c=""
    if command -v pg_lsclusters >/dev/null 2>&1; then
        c=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }')
    fi
    [ -n "$c" ] || c="$(ls /etc/postgresql | sort -V | head -1) main"
    echo "$c"
}

pg_trust_localhost() { # put "host all all 127.0.0.1/32 trust" first in pg_hba.conf
    local ver=$1 cluster=$2 hba conf
    hba="/etc/postgresql/$ver/$cluster/pg_hba.conf"
    conf="/etc/postgresql/$ver/$cluster/postgresql.conf"
    [ -f "$hba" ] || die "no $hba"
    if ! grep -qE '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        say "postgresql: trust auth for 127.0.0.1 added to $hba"
    fi
    # Debian listens on localhost by default; make the port explicit if the cluster uses another one.
    if ! grep -qE "^[[:space:]]*port[[:space:]]*=[[:space:]]*$PG_PORT\b" "$conf"; then
        sed -i -E "s/^[[:space:]]*#?[[:space:]]*port[[:space:]]*=.*/port = $PG_PORT/" "$conf"
    fi
}

ensure_postgres() {
    if pg_up; then say "postgresql ok"; return; fi
    local installed_now=0
    if ! pg_installed; then
        is_root || die "PostgreSQL is not installed and not answering on $PG_HOST:$PG_PORT.
  Install it (Debian/Ubuntu: sudo apt-get install postgresql), make it listen on $PG_HOST:$PG_PORT with
  'host all all 127.0.0.1/32 trust' first in pg_hba.conf, then rerun this script (or run it as root)."
        apt_install postgresql
        pg_installed || die "apt-get installed postgresql but /etc/postgresql is empty (no cluster created)"
        installed_now=1
    fi
    local ver cluster
    read -r ver cluster <<<"$(pg_cluster)"
    if [ "$installed_now" -eq 1 ]; then
        pg_trust_localhost "$ver" "$cluster"
    fi
    say "postgresql: starting cluster $ver/$cluster"
    # A cluster that is already running (on a socket only, say) makes 'start' fail; the wait below decides.
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start \
        || say "postgresql: pg_ctlcluster start returned $? (waiting anyway)"
    local i
    for ((i = 0; i < PG_WAIT; i++)); do
        if pg_up; then say "postgresql ok (started)"; return; fi
        sleep 1
    done
    die "PostgreSQL $ver/$cluster is not answering on $PG_HOST:$PG_PORT after ${PG_WAIT}s
  (see /var/log/postgresql/postgresql-$ver-$cluster.log)"
}

# ---------------------------------------------------------------- RabbitMQ
rabbit_up() { tcp_open "$AMQP_HOST" "$AMQP_PORT"; }

# AMQP 0-9-1 login with guest/guest (PLAIN), stdlib only: exit 0 if the broker answers Connection.Tune.
amqp_guest_login() {
    if ! command -v python3 >/dev/null 2>&1; then
        rabbitmqctl -q authenticate_user guest guest >/dev/null 2>&1
        return
    fi
    python3 - "$AMQP_HOST" "$AMQP_PORT" <<'PY' 2>/dev/null
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")
def frame():
    kind, _chan, size = struct.unpack(">BHI", f.read(7))
    payload = f.read(size)
    assert f.read(1) == b"\xce"
    return kind, payload
s.sendall(b"AMQP\x00\x00\x09\x01")
kind, p = frame()
assert kind == 1 and p[:4] == struct.pack(">HH", 10, 10)  # connection.start
resp = b"\x00guest\x00guest"
args = struct.pack(">HH", 10, 11) + struct.pack(">I", 0) + b"\x05PLAIN" + struct.pack(">I", len(resp)) + resp
args += b"\x05en_US"
s.sendall(struct.pack(">BHI", 1, 0, len(args)) + args + b"\xce")
kind, p = frame()
sys.exit(0 if kind == 1 and p[:4] == struct.pack(">HH", 10, 30) else 1)  # connection.tune
PY
}

ensure_guest() {
    # guest/guest is RabbitMQ's default (localhost only). Recreate it only if it is missing.
    if amqp_guest_login; then return 0; fi
    if ! is_root || ! command -v rabbitmqctl >/dev/null 2>&1; then
        die "RabbitMQ on $AMQP_HOST:$AMQP_PORT refuses guest/guest; the tests and the demo use it
  (as root: rabbitmqctl add_user guest guest; rabbitmqctl set_permissions -p / guest '.*' '.*' '.*')"
    fi
    if rabbitmqctl -q list_users 2>/dev/null | awk '{print $1}' | grep -x guest >/dev/null; then
        die "RabbitMQ user guest exists but its password is not 'guest'
  (fix: rabbitmqctl change_password guest guest)"
    fi
    rabbitmqctl -q add_user guest guest >/dev/null
    rabbitmqctl -q set_user_tags guest administrator >/dev/null
    rabbitmqctl -q set_permissions -p / guest '.*' '.*' '.*' >/dev/null
    say "rabbitmq: user guest/guest created"
}

ensure_rabbit() {
    if rabbit_up; then ensure_guest; say "rabbitmq ok"; return; fi
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
        is_root || die "RabbitMQ is not installed and not answering on $AMQP_HOST:$AMQP_PORT.
  Install it (Debian/Ubuntu: sudo apt-get install rabbitmq-server), start it (rabbitmq-server -detached),
  keep the default guest/guest user, then rerun this script (or run it as root)."
        apt_install rabbitmq-server
    fi
    say "rabbitmq: starting (rabbitmq-server -detached)"
    local log="${TMPDIR:-/tmp}/berdaya-rabbitmq-start.log"
    rabbitmq-server -detached >"$log" 2>&1 || say "rabbitmq: rabbitmq-server -detached returned $? (see $log)"
    local deadline=$((SECONDS + RABBIT_WAIT)) left
    while :; do
        left=$((deadline - SECONDS))
        [ "$left" -gt 0 ] || die "RabbitMQ did not start within ${RABBIT_WAIT}s (see $log and /var/log/rabbitmq/)"
        if timeout "$left" rabbitmqctl -q await_startup >/dev/null 2>&1 && rabbit_up; then break; fi
        sleep 1
    done
    ensure_guest
    say "rabbitmq ok (started)"
}

# The tests make and drop a RabbitMQ vhost per test through the management API: a rabbitmqctl call starts an
# Erlang VM (~1 s each, three per test), an HTTP call takes milliseconds.
ensure_rabbit_management() {
    if tcp_open "$AMQP_HOST" "$MANAGEMENT_PORT"; then say "rabbitmq management API ok"; return; fi
    if ! is_root || ! command -v rabbitmq-plugins >/dev/null 2>&1; then
        die "RabbitMQ's management API does not answer on $AMQP_HOST:$MANAGEMENT_PORT; the tests use it
  (as root: rabbitmq-plugins enable rabbitmq_management)"
    fi
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
    local deadline=$((SECONDS + RABBIT_WAIT))
    until tcp_open "$AMQP_HOST" "$MANAGEMENT_PORT"; do
        [ "$SECONDS" -lt "$deadline" ] || die "RabbitMQ's management API did not start within ${RABBIT_WAIT}s"
        sleep 1
    done
    say "rabbitmq management API ok (plugin enabled)"
}

# ---------------------------------------------------------------- roles and databases
PSQL_SU=()
pick_superuser() {
    local base=(psql -X -q -A -t -v ON_ERROR_STOP=1)
    PSQL_SU=("${base[@]}" -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres)
    if sql 'SELECT 1' >/dev/null 2>&1; then return; fi
    if is_root; then
        if command -v runuser >/dev/null 2>&1; then
            PSQL_SU=(runuser -u postgres -- "${base[@]}" -p "$PG_PORT" -d postgres)
        else
            PSQL_SU=(su postgres -s /bin/sh -c "${base[*]} -p $PG_PORT -d postgres")
        fi
        if sql 'SELECT 1' >/dev/null 2>&1; then
            say "postgresql: superuser over TCP refused; using the postgres OS user (unix socket)"
            return
        fi
    fi
    die "cannot connect to PostgreSQL as superuser (psql -h $PG_HOST -p $PG_PORT -U postgres).
  Put 'host all all 127.0.0.1/32 trust' first in pg_hba.conf and reload, or run this script as root."
}

sql() { # run one SQL statement as superuser (SQL on stdin), print the tuples
    (cd / && printf '%s\n' "$1" | "${PSQL_SU[@]}")
}

ensure_databases() {
    pick_superuser
    local svc name found
    for svc in "${SERVICES[@]}"; do
        name="berdaya_$svc"
        found=$(sql "SELECT 1 FROM pg_roles WHERE rolname = '$name'")
        if [ -z "$found" ]; then
            sql "CREATE ROLE $name LOGIN PASSWORD '$name'" >/dev/null
            say "postgresql: role $name created"
        fi
        # The service's runtime role: granted INSERT/SELECT only on the event log by the service at start-up.
        found=$(sql "SELECT 1 FROM pg_roles WHERE rolname = '${name}_app'")
        if [ -z "$found" ]; then
            sql "CREATE ROLE ${name}_app LOGIN PASSWORD '${name}_app'" >/dev/null
            say "postgresql: role ${name}_app created"
        fi
        found=$(sql "SELECT 1 FROM pg_database WHERE datname = '$name'")
        if [ -z "$found" ]; then
            sql "CREATE DATABASE $name OWNER $name" >/dev/null
            say "postgresql: database $name created"
        fi
    done
    say "databases ok (${SERVICES[*]/#/berdaya_})"
}

# ---------------------------------------------------------------- broker users of the local installation
# Each principal's own RabbitMQ user with only its rights on vhost / (deploy/rabbitmq/users.sh, generated from
# shared/broker_access.py), passwords made once into .run/broker.env (mode 600): `berdaya up` connects each process
# as its own user. Applied again only when the script or the passwords changed (each rabbitmqctl call costs ~1 s).
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
BROKER_ENV="$ROOT_DIR/.run/broker.env"
BROKER_STAMP="$ROOT_DIR/.run/broker-users.applied"
ensure_broker_users() {
    local users="$ROOT_DIR/deploy/rabbitmq/users.sh" principal
    if ! command -v rabbitmqctl >/dev/null 2>&1 || ! rabbitmqctl -q list_users >/dev/null 2>&1; then
        say "rabbitmq: rabbitmqctl not usable here (run as root to give each service its own broker user);" \
            "the local installation connects as guest"
        rm -f "$BROKER_STAMP"
        return
    fi
    if [ ! -f "$BROKER_ENV" ]; then
        mkdir -p "$ROOT_DIR/.run"
        (umask 077; for principal in registry grants training gateway operator; do
            echo "RABBITMQ_${principal^^}_PASSWORD=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        done >"$BROKER_ENV")
        rm -f "$BROKER_STAMP"
    fi
    # The users are the broker's, shared by every checkout on this machine: another checkout's set-up may have given
    # them its own passwords since, so ask the broker whether ours still log in.
    if [ -f "$BROKER_STAMP" ] && [ "$BROKER_STAMP" -nt "$users" ] && [ "$BROKER_STAMP" -nt "$BROKER_ENV" ] \
        && (set -a; . "$BROKER_ENV"; rabbitmqctl -q authenticate_user berdaya-operator \
            "$RABBITMQ_OPERATOR_PASSWORD" >/dev/null 2>&1); then
        say "rabbitmq: berdaya's broker users ok"
        return
    fi
    (set -a; . "$BROKER_ENV"; RABBITMQ_VHOST=/ bash "$users")
    touch "$BROKER_STAMP"
    say "rabbitmq: berdaya's broker users and rights applied on / (passwords in .run/broker.env)"
}

ensure_postgres
ensure_rabbit
ensure_rabbit_management
ensure_broker_users
ensure_databases
