#!/usr/bin/env bash
# Builds the Bulwark container image (default tag bulwark:local) from proxy/target/bulwark.jar.
#
#   docker/build-image.sh                 base image $BASE_IMAGE, else eclipse-temurin:17-jre;
#                                         when that is not present and Docker Hub cannot be
#                                         reached, falls back to the local base (below)
#   docker/build-image.sh --local-base    base image bulwark-base:jre17, built first if missing:
#                                         a Debian bookworm minbase + openjdk-17-jre-headless made
#                                         with debootstrap from the host's apt mirror (no registry)
#
# Environment: BASE_IMAGE (the JRE base, passed as build arg), IMAGE (tag, default bulwark:local),
# DEBIAN_MIRROR (mirror for debootstrap; default: the host's apt source for bookworm).
# Build the jar first: mvn -B -DskipTests package
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_BASE=eclipse-temurin:17-jre
LOCAL_BASE=bulwark-base:jre17
IMAGE=${IMAGE:-bulwark:local}
JAR=proxy/target/bulwark.jar

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

local_base=false
for arg in "$@"; do
  case "$arg" in
    --local-base) local_base=true ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-image.sh: unknown argument \"$arg\"" >&2; usage >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ -f "$JAR" ] || { echo "build-image.sh: $JAR not found; build it first: mvn -B -DskipTests package" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-image.sh: the Docker daemon is not reachable (docker info fails)" >&2; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# Docker Hub's registry answers on 443 (a quick DNS + TCP check, so an offline machine does not
# wait for a pull to time out).
hub_reachable() { timeout 10 bash -c 'exec 3<>/dev/tcp/registry-1.docker.io/443' 2>/dev/null; }

# The host's Debian mirror for bookworm (deb822 .sources or one-line .list), else deb.debian.org.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m=""
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    m=$(awk 'BEGIN{RS=""} /(^|\n)Suites:[^\n]*[[:space:]]bookworm([[:space:]]|$)/ {
               if (match($0, /URIs:[[:space:]]*[^[:space:]\n]+/)) {
                 s = substr($0, RSTART, RLENGTH); sub(/URIs:[[:space:]]*/, "", s); print s; exit } }' "$f")
    [ -n "$m" ] && break
  done
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                             if ($(i+1) == "bookworm") { print $i; exit } }')
  fi
  shopt -u nullglob
  echo "${m:-http://deb.debian.org/debian}"
}

build_local_base() {
  if have_image "$LOCAL_BASE"; then
    echo "== base image $LOCAL_BASE is present"
    return
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "== installing debootstrap"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
  fi
  local mirror start
  mirror=$(debian_mirror)
  rootfs=$(mktemp -d /tmp/bulwark-base.XXXXXX)
  trap 'as_root rm -rf "$rootfs"' EXIT
  start=$(date +%s)
  echo "== building $LOCAL_BASE with debootstrap from $mirror (about 1-2 minutes)"
  as_root debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
    bookworm "$rootfs" "$mirror" > /tmp/bulwark-debootstrap.log 2>&1 \
    || { tail -30 /tmp/bulwark-debootstrap.log >&2; echo "build-image.sh: debootstrap failed (log: /tmp/bulwark-debootstrap.log)" >&2; exit 1; }
  # Nothing at run time needs apt's caches, docs, man pages or translations.
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
  if ! as_root tar --numeric-owner -C "$rootfs" -c . | docker import \
      -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' \
      -m "Debian bookworm minbase + openjdk-17-jre-headless (debootstrap)" - "$LOCAL_BASE" >/dev/null \
    || ! docker run --rm --network none "$LOCAL_BASE" java -version >/dev/null 2>&1; then
    docker rmi -f "$LOCAL_BASE" >/dev/null 2>&1 || true
    echo "build-image.sh: importing the debootstrap root as $LOCAL_BASE failed" >&2
    exit 1
  fi
  as_root rm -rf "$rootfs"
  trap - EXIT
  echo "== built $LOCAL_BASE in $(( $(date +%s) - start ))s"
}

if $local_base; then
  BASE_IMAGE=$LOCAL_BASE
elif [ -z "${BASE_IMAGE:-}" ]; then
  if have_image "$DEFAULT_BASE" || { hub_reachable && docker pull -q "$DEFAULT_BASE" >/dev/null; }; then
    BASE_IMAGE=$DEFAULT_BASE
  else
    echo "== $DEFAULT_BASE is not present and Docker Hub cannot be reached: using the local base $LOCAL_BASE"
    BASE_IMAGE=$LOCAL_BASE
  fi
fi
if [ "$BASE_IMAGE" = "$LOCAL_BASE" ]; then build_local_base; fi

# BuildKit needs the buildx plugin with a current client; without it, use the classic builder.
# --network host: RUN steps work on a daemon without a default bridge (dockerd --bridge=none).
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
echo "== building $IMAGE on $BASE_IMAGE"
docker build --network host --force-rm --build-arg "BASE_IMAGE=$BASE_IMAGE" -f docker/Dockerfile -t "$IMAGE" . \
  || { echo "build-image.sh: docker build failed" >&2; exit 1; }

size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE")
echo "image built: $IMAGE ($(( size / 1000000 )) MB; base $BASE_IMAGE $(( base_size / 1000000 )) MB, Bulwark layers $(( (size - base_size) / 1000 )) kB)"
