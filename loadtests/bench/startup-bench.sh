#!/usr/bin/env bash
# Start to ready: the time from exec to the admin /ready answering 200, for the jar (the README's
# `java -jar` command, with and without the sidecar flags) and for the container image, over a
# few runs each; the median of each. Not a test: on a shared machine read the medians.
#
#   loadtests/bench/startup-bench.sh [runs=5] [what=jar,flags,image]
#
# jar:   java -jar proxy/target/bulwark.jar run --config C     (no flags, as the README's quick start)
# flags: the same with the recommended sidecar flags (README, "Footprint"; FLAGS to set others)
# jar=PATH, flags=PATH: another jar (to compare two builds: jar=old.jar,jar=new.jar)
# image: docker run --network host $IMAGE (default bulwark:local) with the same config mounted;
#        image=TAG for another image (to compare two: image=bulwark:old,image=bulwark:new)
# Needs curl, the built jar and, for `image`, the built image. Everything is on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
WHAT=${2:-jar,flags,image}
JAR=${JAR:-proxy/target/bulwark.jar}
JAVA=${JAVA:-java}
IMAGE=${IMAGE:-bulwark:local}
WORK=$(mktemp -d)
pid=""; cid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Ports away from the ones the tests hand out, different in each call.
BASE=$(( 41000 + (RANDOM % 200) * 10 ))
PORT=$BASE; ADMIN=$(( BASE + 1 )); UP=$(( BASE + 2 ))
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $PORT }
  admin { host = "127.0.0.1", port = $ADMIN }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, cluster = app, retry { retry-on = [ connect-failure ] } } ]
}
CONF
chmod 644 "$WORK/bulwark.conf"; chmod 755 "$WORK"

SIDECAR_FLAGS=(-XX:+UseSerialGC -Xms16m -Xmx64m -Xss512k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=48m -XX:-UsePerfData)
if [ -n "${FLAGS:-}" ]; then read -r -a SIDECAR_FLAGS <<< "$FLAGS"; fi

now_ms() { date +%s%3N; }
# CPU time (user + system) a process has used, in ms: steadier than wall time on a busy machine.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' "/proc/$1/stat"; }
# Waits until /ready is 200 (at most 30 s); prints the milliseconds since $1 and the CPU ms of pid $2
# (or of container $2's main process).
wait_ready() {
  local t0=$1 p=$2
  for _ in $(seq 3000); do
    if curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/ready" 2>/dev/null | grep -q 200; then
      local ms=$(( $(now_ms) - t0 ))
      [ -d "/proc/$p" ] || p=$(docker inspect -f '{{.State.Pid}}' "$p")
      echo "$ms/$(cpu_ms "$p")"; return 0
    fi
    sleep 0.01
  done
  echo "not ready within 30s" >&2; return 1
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

one() {
  local kind=$1 t0 ms
  t0=$(now_ms)
  case "$kind" in
    jar*)  local jar=${kind#jar=}; [ "$jar" != jar ] || jar=$JAR
           "$JAVA" -jar "$jar" run --config "$WORK/bulwark.conf" >"$WORK/out.log" 2>&1 & pid=$! ;;
    flags*) local jar=${kind#flags=}; [ "$jar" != flags ] || jar=$JAR
           "$JAVA" "${SIDECAR_FLAGS[@]}" -jar "$jar" run --config "$WORK/bulwark.conf" >"$WORK/out.log" 2>&1 & pid=$! ;;
    image*) local tag=${kind#image=}; [ "$tag" != image ] || tag=$IMAGE
           cid=$(docker run -d --network host -v "$WORK/bulwark.conf:/etc/bulwark/bulwark.conf:ro" "$tag") ;;
  esac
  ms=$(wait_ready "$t0" "${pid:-$cid}") || { cat "$WORK/out.log" >&2 2>/dev/null || docker logs "$cid" >&2; exit 1; }
  echo "$ms"
  if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; fi
  if [ -n "$cid" ]; then docker rm -f "$cid" >/dev/null; cid=""; fi
}

IFS=, read -r -a kinds <<< "$WHAT"
# Interleaved (A B C, A B C, ...) so the machine's drift hits every kind alike.
declare -A times
for kind in "${kinds[@]}"; do one "$kind" >/dev/null; done   # warm-up: page cache, docker's layers
for _ in $(seq "$RUNS"); do
  for kind in "${kinds[@]}"; do times[$kind]="${times[$kind]:-} $(one "$kind")"; done
done
for kind in "${kinds[@]}"; do
  printf '%-8s start to ready: median %s ms wall, %s ms CPU  (runs, wall/CPU:%s)\n' "$kind" \
    "$(printf '%s\n' ${times[$kind]} | cut -d/ -f1 | median)" \
    "$(printf '%s\n' ${times[$kind]} | cut -d/ -f2 | median)" "${times[$kind]}"
done
