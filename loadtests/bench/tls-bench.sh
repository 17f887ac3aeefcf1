#!/usr/bin/env bash
# TLS termination: Bulwark on the JDK engine (before), Bulwark on OpenSSL/BoringSSL (after) and
# NGINX, measured in the same run, each proxy pinned alone to one core (PROXY_CPU) while the load
# tools and the upstream share the other (LOAD_CPU). Not a test: a shared machine makes absolute
# numbers noise; read the ratios to NGINX.
#
#   loadtests/bench/tls-bench.sh [seconds-per-run]
#
# Per proxy, on an ECDSA P-256 certificate (TLS 1.3 unless said), after a warm-up (WARMUP seconds
# of both kinds of traffic, default 30: the JIT of a JVM pinned to one busy core takes that long):
#   new-TLS/s        ab -c16, a new connection (full handshake) per request
#   keepalive        wrk -t1 -c32 over HTTPS keep-alive connections
#   p99 calm/storm   wrk's p99 alone, and while `ab -c64` opens new TLS connections as fast as it
#                    can (the handshake storm)
#   CPU us per op    the proxy's own CPU time (utime+stime of all its threads, from /proc) per
#                    ab connection, per wrk request, and per connection of `openssl s_time -new`
#                    (full handshake) and `-reuse` (resumed), TLS 1.3 and TLS 1.2, one GET each:
#                    what each costs the proxy core, however fast or slow the clients are
#
# Needs the built jar (mvn -q -DskipTests package) and nginx, ab (apache2-utils), wrk, openssl,
# taskset (installed here from Debian if missing). Everything listens on 127.0.0.1 only; every
# load run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
WARMUP=${WARMUP:-30}
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
missing=()
for tool in nginx ab wrk openssl taskset curl python3; do command -v $tool >/dev/null || missing+=($tool); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    nginx-light apache2-utils wrk openssl util-linux curl python3 >/dev/null
fi

UP=18800; NG=18801; BW=18802; BWA=18803
on_load() { taskset -c "$LOAD_CPU" "$@"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# The upstream: plain HTTP, one worker, on the load core.
cat > "$WORK/upstream.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/upstream.pid; error_log $WORK/upstream-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello from nginx\n"; } } }
CONF
# NGINX terminating TLS in front of it, as Bulwark does: one worker, session cache and tickets on.
cat > "$WORK/nginx-tls.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx-tls.pid; error_log $WORK/nginx-tls-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NG ssl;
    ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m; ssl_session_timeout 1h; ssl_session_tickets on;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
taskset -c "$LOAD_CPU" nginx -e "$WORK/upstream-error.log" -p "$WORK" -c "$WORK/upstream.conf" & PIDS+=($!)
taskset -c "$PROXY_CPU" nginx -e "$WORK/nginx-tls-error.log" -p "$WORK" -c "$WORK/nginx-tls.conf" & PIDS+=($!)
NGINX_MASTER=$!
for _ in $(seq 50); do curl -skf "https://127.0.0.1:$NG/" >/dev/null && break; sleep 0.1; done
NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -1)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime, all threads
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))

declare -A R   # results: R[name,metric]

measure() {   # name port pid
  local name=$1 port=$2 pid=$3 url="https://127.0.0.1:$2/" out c0 c1 n
  # New connection per request: a full handshake each time.
  c0=$(cpu_ticks "$pid")
  out=$(on_load ab -q -c 16 -t "$DURATION" -n 200000 "$url" 2>&1)
  c1=$(cpu_ticks "$pid")
  R[$name,hs]=$(awk '/Requests per second/ { print $4 }' <<<"$out")
  n=$(awk '/Complete requests/ { print $3 }' <<<"$out")
  R[$name,cpu_hs]=$(( n > 0 ? (c1 - c0) * TICK_US / n : 0 ))
  R[$name,proto]=$(awk -F: '/SSL\/TLS Protocol/ { gsub(/^ +/, "", $2); print $2 }' <<<"$out")
  # Keep-alive HTTPS.
  c0=$(cpu_ticks "$pid")
  out=$(on_load wrk -t1 -c32 -d"${DURATION}s" --latency "$url")
  c1=$(cpu_ticks "$pid")
  R[$name,ka]=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  R[$name,ka_p99]=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  R[$name,cpu_ka]=$(( n > 0 ? (c1 - c0) * TICK_US / n : 0 ))
  # What a full and a resumed handshake (each with one GET) cost the proxy's core, TLS 1.3 and 1.2.
  for proto in tls1_3 tls1_2; do
    for mode in new reuse; do
      c0=$(cpu_ticks "$pid")
      out=$(on_load openssl s_time -connect "127.0.0.1:$port" -"$proto" -"$mode" -www / -time "$DURATION" 2>&1)
      c1=$(cpu_ticks "$pid")
      n=$(awk '/connections in .* real seconds/ { v = $1 } END { print v + 0 }' <<<"$out")
      R[$name,$proto,$mode]=$(( n > 0 ? (c1 - c0) * TICK_US / n : 0 ))
    done
  done
  # Handshake storm: keep-alive clients' p99 while new connections flood in.
  on_load ab -q -c 64 -t "$DURATION" -n 200000 "$url" >"$WORK/storm-ab.txt" 2>&1 &
  local ab_pid=$!
  out=$(on_load wrk -t1 -c32 -d"${DURATION}s" --latency "$url")
  wait "$ab_pid" || true
  R[$name,storm_p99]=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  R[$name,storm_ka]=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  R[$name,storm_hs]=$(awk '/Requests per second/ { print $4 }' "$WORK/storm-ab.txt")
}

warm() {   # JIT warm-up (and the same for NGINX): both kinds of traffic, not measured
  on_load ab -q -c 16 -t "$WARMUP" -n 200000 "https://127.0.0.1:$1/" >/dev/null 2>&1 || true
  on_load wrk -t1 -c32 -d"$(( WARMUP / 2 ))s" "https://127.0.0.1:$1/" >/dev/null
  on_load openssl s_time -connect "127.0.0.1:$1" -reuse -www / -time 3 >/dev/null 2>&1 || true
}

run_bulwark() {   # provider
  local provider=$1
  cat > "$WORK/bulwark-$provider.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW, tls { cert-file = "$WORK/cert.pem", key-file = "$WORK/key.pem", provider = $provider } }
  admin { port = $BWA }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
}
CONF
  # One worker event loop on the proxy core; the image's JVM flags; access log off, as NGINX's.
  taskset -c "$PROXY_CPU" java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m \
    -Xmx128m -Dbulwark.workers=1 -Dbulwark.access.level=OFF \
    -jar "$JAR" run --config "$WORK/bulwark-$provider.conf" >"$WORK/bulwark-$provider.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null && break; sleep 0.1; done
  local engine
  engine=$(curl -s "http://127.0.0.1:$BWA/api/v1/config" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["tls_engine"]["listener"])')
  echo "bulwark provider = $provider: engine in use: $engine; $(grep -o 'TLS engine: .*' "$WORK/bulwark-$provider.log")"
  warm $BW
  measure "bulwark-$provider" $BW "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "proxy on CPU $PROXY_CPU, load tools and upstream on CPU $LOAD_CPU, ${DURATION}s per run after ${WARMUP}s of warm-up"
echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), $(nginx -V 2>&1 | grep -o 'running with OpenSSL [^ ]*' || nginx -V 2>&1 | grep -o 'built with OpenSSL [^ ]*')"
warm $NG
measure nginx $NG "$NGINX_WORKER"
run_bulwark jdk
run_bulwark openssl

echo
echo "Rates (the proxy's core is shared with whatever else runs on this machine: compare within the run):"
printf '%-16s %10s %8s %10s %8s %10s %10s\n' proxy "new-TLS/s" "x nginx" "keepalive" "x nginx" "p99 calm" "p99 storm"
for name in bulwark-jdk bulwark-openssl nginx; do
  awk -v n="$name" -v hs="${R[$name,hs]}" -v ka="${R[$name,ka]}" -v nhs="${R[nginx,hs]}" -v nka="${R[nginx,ka]}" \
      -v p="${R[$name,ka_p99]}" -v sp="${R[$name,storm_p99]}" \
      'BEGIN { printf "%-16s %10.0f %7.2fx %10.0f %7.2fx %10s %10s\n", n, hs, hs / nhs, ka, ka / nka, p, sp }'
done
echo
echo "The proxy's CPU time (us) per operation (all its threads; independent of the load tools' speed):"
printf '%-16s %9s %9s %9s %9s %7s %9s %9s %7s\n' proxy "new conn" "keepalive" "1.3 full" "1.3 res" "ratio" "1.2 full" "1.2 res" "ratio"
for name in bulwark-jdk bulwark-openssl nginx; do
  awk -v n="$name" -v h="${R[$name,cpu_hs]}" -v k="${R[$name,cpu_ka]}" \
      -v f3="${R[$name,tls1_3,new]}" -v r3="${R[$name,tls1_3,reuse]}" -v f2="${R[$name,tls1_2,new]}" -v r2="${R[$name,tls1_2,reuse]}" \
      'BEGIN { printf "%-16s %9d %9d %9d %9d %6.1fx %9d %9d %6.1fx\n", n, h, k, f3, r3, (r3 > 0 ? f3 / r3 : 0), f2, r2, (r2 > 0 ? f2 / r2 : 0) }'
done
echo
for name in bulwark-jdk bulwark-openssl nginx; do
  echo "$name: ab negotiated ${R[$name,proto]}; during the storm ${R[$name,storm_ka]} keep-alive req/s and ${R[$name,storm_hs]} new TLS conn/s"
done
