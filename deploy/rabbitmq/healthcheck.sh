#!/bin/bash
# Broker health without starting an Erlang VM (rabbitmq-diagnostics costs ~1 s of CPU per call): an AMQP 0-9-1
# login on 127.0.0.1:5672 as RABBITMQ_USER to RABBITMQ_VHOST, closed cleanly. Proves the node boots, answers,
# authenticates and opens the vhost; RabbitMQ opens its AMQP listener only once it has fully booted.
# (Connection open/close lines are logged at info, which rabbitmq.conf sets below the log level: no noise.)
set -euo pipefail
# Not before the entrypoint applied the principals' users: a service would be refused its login.
[ -f /tmp/berdaya-users-applied ] || { echo "unhealthy: broker users not applied yet"; exit 1; }
user=${RABBITMQ_USER:?} password=${RABBITMQ_PASSWORD:?} vhost=${RABBITMQ_VHOST:-/}

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
short() { printf '%02x%s' "${#1}" "$(hex "$1")"; }          # shortstr: 1-byte length
send() { # method payload (hex) on channel 0
    local payload=$1
    printf "$(printf '01%04x%08x%sce' 0 $(( ${#payload} / 2 )) "$payload" | sed 's/../\\x&/g')" >&3
}
expect() { # class+method (hex, 8 digits): read one frame, check it is that method
    local header size body
    header=$(dd bs=7 count=1 iflag=fullblock <&3 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [ "${#header}" -eq 14 ] || { echo "unhealthy: connection closed (expecting $2)"; exit 1; }
    size=$((16#${header:6:8}))
    body=$(dd bs=$((size + 1)) count=1 iflag=fullblock <&3 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [ "${header:0:2}" = 01 ] && [ "${body:0:8}" = "$1" ] || { echo "unhealthy: expected $2, got ${body:0:8}"; exit 1; }
}

exec 3<>/dev/tcp/127.0.0.1/"${AMQP_PORT:-5672}"
printf 'AMQP\x00\x00\x09\x01' >&3
expect 000a000a Connection.Start
plain=$(printf '00%s00%s' "$(hex "$user")" "$(hex "$password")")
send "000a000b00000000$(short PLAIN)$(printf '%08x' $(( ${#plain} / 2 )))${plain}$(short en_US)"
expect 000a001e Connection.Tune
send "000a001f0001000200000000"                                  # Tune-Ok: 1 channel, frame 128 KiB, no heartbeat
send "000a0028$(short "$vhost")0000"                              # Open vhost
expect 000a0029 Connection.Open-Ok
send "000a003200c8$(short "")00000000"                            # Close 200
expect 000a0033 Connection.Close-Ok
exec 3>&-
echo "healthy: AMQP login as $user to vhost $vhost"
