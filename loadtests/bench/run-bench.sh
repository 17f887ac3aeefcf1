#!/usr/bin/env bash
# Throughput and footprint of Bulwark against HAProxy, measured in the same run on this machine.
# Not a test: absolute numbers on a shared machine are noise; read the ratio.
#
#   loadtests/bench/run-bench.sh [seconds-per-run] [connections]
#
# Needs: the built jar (mvn -q -DskipTests package), and nginx, haproxy, wrk from Debian
# (installed here if missing). Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNS=${2:-32}
JAR=${JAR:-proxy/target/bulwark.jar}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.5; rm -rf "$WORK"' EXIT

[ -f "$JAR" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
missing=()
for tool in nginx haproxy wrk; do command -v $tool >/dev/null || missing+=($tool); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light haproxy wrk >/dev/null
fi

UP=18500; HA=18600; BW=18700; BWA=18701
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello from nginx\n"; } } }
CONF
cat > "$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$HA
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$UP
CONF
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { port = $BWA }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
}
CONF

nginx -c "$WORK/nginx.conf" & 
haproxy -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
# One worker event loop against HAProxy's one thread; sidecar-sized JVM flags.
java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m -Xmx64m \
     -Dbulwark.workers=1 -Dbulwark.access.level=OFF -jar "$JAR" run --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 &
BPID=$!
for i in $(seq 100); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print int($2/1024)}' /proc/$BPID/status; }
echo "bulwark RSS idle: $(rss) MiB"

rate() { wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }
# Warm the JIT, then alternate runs so drift hits both alike.
rate $BW >/dev/null
declare -a H B
for round in 1 2; do H+=("$(rate $HA)"); B+=("$(rate $BW)"); done
echo "bulwark RSS after load: $(rss) MiB"
echo "haproxy req/s: ${H[*]}"
echo "bulwark req/s: ${B[*]}"
awk -v h="${H[*]}" -v b="${B[*]}" 'BEGIN { split(h, hs, " "); split(b, bs, " ");
  hb = (hs[1] > hs[2]) ? hs[1] : hs[2]; bb = (bs[1] > bs[2]) ? bs[1] : bs[2];
  printf "ratio bulwark/haproxy (best of 2): %.2f\n", bb / hb }'
