#!/usr/bin/env bash
# Build the local base image berdaya-base:bookworm from Debian packages alone (no Docker Hub needed):
#   debootstrap bookworm (minbase + python3, python3-venv, ca-certificates, pango and fonts for printouts) → security updates → import.
# No libpq5: psycopg's binary build, which the services install from a wheel, bundles its own libpq.
# The app image (deploy/Dockerfile) and the PostgreSQL / RabbitMQ images (deploy/postgres, deploy/rabbitmq) build
# FROM it when BASE_IMAGE / DEBIAN_IMAGE point at it (deploy/test-compose.sh does that).
#
# Usage: deploy/build-base-image.sh [--force] [IMAGE]     (IMAGE defaults to berdaya-base:bookworm)
# Env:   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR  (default: the mirrors apt is configured with on this machine)
# Skips the build when IMAGE already exists (unless --force). Needs root (debootstrap, chroot) and a Docker engine.
set -euo pipefail

FORCE=0
if [ "${1:-}" = "--force" ]; then FORCE=1; shift; fi
IMAGE=${1:-berdaya-base:bookworm}
SUITE=bookworm
# pango, harfbuzz and a font: the gateway renders printouts with WeasyPrint
PACKAGES=python3,python3-venv,ca-certificates,libpango-1.0-0,libpangoft2-1.0-0,libharfbuzz-subset0,fonts-dejavu-core

say() { echo "base-image: $*"; }
die() { echo "base-image: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd first)"

if [ "$FORCE" -eq 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE exists ($(docker image inspect -f '{{.Created}}' "$IMAGE" | cut -c1-19)); skipping (--force rebuilds)"
    exit 0
fi

# The mirror apt already uses here (deb822 .sources or one-line .list), so only the configured registry is asked.
apt_uri() { # suite-pattern → URIs of the entries for that suite, deb822 files first
    local pattern=$1 file
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        awk -v pat="$pattern" '
            function flush() { if (uri != "" && suites ~ pat) print uri; uri = ""; suites = "" }
            /^[[:space:]]*$/ { flush(); next }
            /^URIs:/ { uri = $2 } /^Suites:/ { suites = $0 }
            END { flush() }' "$file"
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        awk -v pat="$pattern" '$1 == "deb" && $0 ~ pat {
            for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$file"
    done
    return 0
}
MIRROR=${DEBIAN_MIRROR:-$(apt_uri "[[:space:]]$SUITE([[:space:]]|$)" | sed -n 1p)}
SECURITY=${DEBIAN_SECURITY_MIRROR:-$(apt_uri "$SUITE-security" | sed -n 1p)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
say "mirror $MIRROR, security $SECURITY"

if ! command -v debootstrap >/dev/null 2>&1; then
    say "apt-get install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap </dev/null >/dev/null
fi

ROOTFS=$(mktemp -d /var/tmp/berdaya-rootfs.XXXXXX)
cleanup() {
    for m in proc sys dev/pts dev; do umount -l "$ROOTFS/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$ROOTFS" "$ROOTFS.log"
}
trap cleanup EXIT

started=$SECONDS
say "debootstrap $SUITE into $ROOTFS ($PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
    || { tail -20 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; die "debootstrap failed"; }
rm -f "$ROOTFS.log"

cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
# As in Debian's official container images: no daemons started by package scripts, no recommends, no caches.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"

say "security and point-release updates"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
chroot "$ROOTFS" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get -o APT::Sandbox::User=root update -qq &&
    apt-get -o APT::Sandbox::User=root upgrade -y -qq && apt-get clean' </dev/null >"$ROOTFS.log" 2>&1 \
    || { tail -20 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; die "apt-get upgrade in the new root failed"; }
rm -f "$ROOTFS.log"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* \
    "$ROOTFS"/root/.cache
: >"$ROOTFS/etc/resolv.conf"      # Docker provides its own at run time
echo "berdaya-base" >"$ROOTFS/etc/hostname"

say "docker import → $IMAGE"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --change 'LABEL org.berdaya.project="berdaya"' \
    --message "debootstrap $SUITE minbase + $PACKAGES from $MIRROR" \
    - "$IMAGE" >/dev/null
docker image prune -f --filter label=org.berdaya.project=berdaya >/dev/null   # a base it replaced, if any
python_version=$(docker run --rm "$IMAGE" python3 --version)
say "$IMAGE built in $((SECONDS - started))s: $python_version, $(docker image inspect -f '{{.Size}}' "$IMAGE" \
    | awk '{ printf "%.0f MB", $1 / 1e6 }')"
