#!/usr/bin/env bash
# Downstream HTTP/2 (h2c, prior knowledge): Bulwark next to NGINX and HAProxy in one run, each
# proxy pinned alone to one core (PROXY_CPU) with one worker, in front of the same HTTP/1.1
# upstream (an NGINX returning a short body) that shares the other core (LOAD_CPU) with h2load.
# Not a test: a shared machine makes absolute numbers noise; read the ratios.
#
# A second part puts HTTP/2 on the upstream side too (h2c to an NGINX speaking h2c with prior
# knowledge): Bulwark with protocol = http2 next to HAProxy with "proto h2" (NGINX cannot proxy
# to an HTTP/2 upstream), and Bulwark's HTTP/1.1 upstream run again for the difference.
#
#   loadtests/bench/h2-bench.sh [seconds-per-run]
#
# Per proxy, after a warm-up (WARMUP seconds, default 20, for the JVM's JIT):
#   h2load -c 16 -m 10 -D seconds   (16 connections, 10 streams each in flight)
# prints requests/s, mean and max time per request, and the failed count.
#
# Needs the built jar (mvn -q -DskipTests package), nginx, haproxy, h2load (nghttp2-client),
# taskset. Everything listens on 127.0.0.1 only; every run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
WARMUP=${WARMUP:-20}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
JAR=${JAR:-proxy/target/bulwark.jar}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$JAR" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
for tool in nginx haproxy h2load taskset curl; do
  command -v $tool >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

UP=18810; NG=18811; HA=18812; BW=18813; BWA=18814; UP2=18815; HA2=18816

cat > "$WORK/upstream.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/upstream.pid; error_log $WORK/upstream-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello from nginx\n"; } }
  server { listen 127.0.0.1:$UP2 http2; http2_max_concurrent_streams 128;
    location / { return 200 "hello from nginx\n"; } } }
CONF
cat > "$WORK/nginx-h2.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx-h2.pid; error_log $WORK/nginx-h2-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$NG http2;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat > "$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend h2
  bind 127.0.0.1:$HA proto h2
  default_backend app
backend app
  server up 127.0.0.1:$UP
frontend h2up
  bind 127.0.0.1:$HA2 proto h2
  default_backend app2
backend app2
  server up2 127.0.0.1:$UP2 proto h2
CONF
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { port = $BWA }
  access-log { enabled = false }
  clusters {
    app { endpoints = [ "127.0.0.1:$UP" ] }
    app2 { endpoints = [ "127.0.0.1:$UP2" ], protocol = http2 }
  }
  routes = [
    { match { path-prefix = "/h2up" }, cluster = app2 }
    { match { path-prefix = "/" }, cluster = app }
  ]
}
CONF
# access-log is a later addition to the config: drop the line if this build does not know it
java -jar "$JAR" validate --config "$WORK/bulwark.conf" >/dev/null 2>&1 || sed -i '/access-log/d' "$WORK/bulwark.conf"
# protocol = http2 (upstream HTTP/2) is later still: without it, the second part is skipped
H2UP=1
java -jar "$JAR" validate --config "$WORK/bulwark.conf" >/dev/null 2>&1 || { H2UP=0; sed -i '/app2/d' "$WORK/bulwark.conf"; }

taskset -c "$LOAD_CPU" nginx -e "$WORK/upstream-error.log" -p "$WORK" -c "$WORK/upstream.conf" & PIDS+=($!)
taskset -c "$PROXY_CPU" nginx -e "$WORK/nginx-h2-error.log" -p "$WORK" -c "$WORK/nginx-h2.conf" & PIDS+=($!)
taskset -c "$PROXY_CPU" haproxy -f "$WORK/haproxy.cfg" -db >/dev/null 2>&1 & PIDS+=($!)
taskset -c "$PROXY_CPU" java -XX:ActiveProcessorCount=1 -Xmx512m -jar "$JAR" run --config "$WORK/bulwark.conf" \
  > "$WORK/bulwark.log" 2>&1 & PIDS+=($!)
for port in $NG $HA $BW; do
  for _ in $(seq 150); do curl -sf --http2-prior-knowledge "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
done

run() { # name port seconds [path]
  taskset -c "$LOAD_CPU" h2load -c 16 -m 10 -D "$3" "http://127.0.0.1:$2/${4:-}" 2>&1
}
report() { # name output
  local rps mean max failed
  rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$2")
  mean=$(awk '/^time for request:/ {print $6}' <<<"$2")
  max=$(awk '/^time for request:/ {print $5}' <<<"$2")
  failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$2")
  printf '%-10s %10s req/s   mean %8s   max %8s   failed %s\n' "$1" "$rps" "$mean" "$max" "$failed"
}

echo "warm-up ${WARMUP}s each"
run bulwark $BW "$WARMUP" >/dev/null
run nginx $NG 3 >/dev/null
run haproxy $HA 3 >/dev/null
echo "h2c, 16 connections x 10 streams, ${DURATION}s each, proxy alone on CPU $PROXY_CPU:"
for name in nginx haproxy bulwark; do
  case $name in nginx) port=$NG;; haproxy) port=$HA;; bulwark) port=$BW;; esac
  report "$name" "$(run "$name" "$port" "$DURATION")"
done
if [ "$H2UP" = 1 ]; then
  run bulwark $BW "$WARMUP" h2up >/dev/null
  run haproxy $HA2 3 >/dev/null
  echo "h2c to the proxy and h2c to the upstream (bulwark-h1up: the same Bulwark to its HTTP/1.1 upstream):"
  report haproxy "$(run haproxy $HA2 "$DURATION")"
  report bulwark "$(run bulwark $BW "$DURATION" h2up)"
  report bulwark-h1up "$(run bulwark $BW "$DURATION")"
fi
