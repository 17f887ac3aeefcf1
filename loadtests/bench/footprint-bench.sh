#!/usr/bin/env bash
# Memory of Bulwark under the issue #12 load, for several sets of JVM flags in one run: RSS idle
# (after ready), peak RSS (VmHWM) over a small-GET keep-alive wrk load through it, and req/s.
# Sets run interleaved (A B C, A B C) so drift hits all alike. Not a test.
#
#   loadtests/bench/footprint-bench.sh [seconds=15] [connections=64] [rounds=2]
#
# FLAGS_1, FLAGS_2, ... (environment): the flag sets, JAR_1, JAR_2, ... the jar of each (default
# JAR, the built one); default: no flags against the README's recommended sidecar flags.
# JAVA picks the java command (default: java), JAVA_1, ... of each set (e.g. "env MALLOC_ARENA_MAX=2 java").
# The access log is off (-Dbulwark.access.level=OFF), as the issue's footprint figures are.
# Needs the built jar, nginx and wrk (installed from Debian if missing). All on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-15}
CONNS=${2:-64}
ROUNDS=${3:-2}
JAR=${JAR:-proxy/target/bulwark.jar}
JAVA=${JAVA:-java}
WORK=$(mktemp -d)
NGINX=""; BPID=""
trap '[ -n "$BPID" ] && kill "$BPID" 2>/dev/null; [ -n "$NGINX" ] && kill "$NGINX" 2>/dev/null; sleep 0.3; rm -rf "$WORK"' EXIT

[ -f "$JAR" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk >/dev/null
fi

sets=(); jars=(); javas=()
for i in $(seq 1 9); do
  v="FLAGS_$i"; j="JAR_$i"; c="JAVA_$i"
  if [ -n "${!v:-}" ]; then sets+=("${!v}"); jars+=("${!j:-$JAR}"); javas+=("${!c:-$JAVA}"); fi
done
if [ ${#sets[@]} -eq 0 ]; then
  sets=("-Dnone"
        "-XX:+UseSerialGC -Xms16m -Xmx64m -Xss512k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=48m -XX:-UsePerfData")
  jars=("$JAR" "$JAR"); javas=("$JAVA" "env MALLOC_ARENA_MAX=2 $JAVA")
fi

BASE=$(( 42000 + (RANDOM % 200) * 10 ))
UP=$BASE; BW=$(( BASE + 1 )); BWA=$(( BASE + 2 ))
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "$(printf '%0120d' 0)\n"; } } }
CONF
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { host = "127.0.0.1", port = $BWA }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, cluster = app, retry { retry-on = [ connect-failure, reset ] } } ]
}
CONF
nginx -c "$WORK/nginx.conf" & NGINX=$!

kb() { awk -v k="$2" '$1 == k":" { print int($2 / 1024) }' "/proc/$1/status"; }
one() {
  local flags=$1 jar=$2 java=$3 idle peak rate
  # shellcheck disable=SC2086
  $java $flags -Dbulwark.access.level=OFF -jar "$jar" run \
    --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 & BPID=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null && break; sleep 0.1; done
  sleep 1
  idle=$(kb "$BPID" VmRSS)
  rate=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$BW/" | awk '/Requests\/sec/ { print int($2) }')
  peak=$(kb "$BPID" VmHWM)
  echo "$idle $peak $rate $(kb "$BPID" VmRSS)"
  kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""
}
declare -A out
for _ in $(seq "$ROUNDS"); do
  for i in "${!sets[@]}"; do out[$i]="${out[$i]:-}$(one "${sets[$i]}" "${jars[$i]}" "${javas[$i]}");"; done
done
for i in "${!sets[@]}"; do
  echo "${javas[$i]} ${sets[$i]} -jar ${jars[$i]}"
  echo "${out[$i]}" | tr ';' '\n' | awk 'NF { printf "  RSS idle %3d MiB   peak under load %3d MiB   after %3d MiB   %6d req/s\n", $1, $2, $4, $3 }'
done
