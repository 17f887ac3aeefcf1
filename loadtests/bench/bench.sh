#!/usr/bin/env bash
# One command for issue #12's whole comparison: Bulwark next to NGINX and HAProxy over every scenario
# (small GET, 16 KiB POST, 1 MiB responses, a new connection per request, 10k idle connections, and
# Bulwark with its access log on), in interleaved rounds, each proxy alone on one core. Writes
# loadtests/results/bench-<date>.md (+ .png chart, + .json raw figures) and prints the report.
#
#   loadtests/bench/bench.sh [--rounds 3] [--seconds 8] [--scenarios get,post16k,...] [--jar PATH]
#
# Installs what it needs from Debian (nginx, haproxy, wrk, gnuplot) and builds the jar if missing.
# Not a test: read the ratios between contenders of the same round, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
for tool in nginx:nginx haproxy:haproxy wrk:wrk gnuplot:gnuplot-nox taskset:util-linux python3:python3; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
# The Debian nginx package starts a system nginx on port 80; the benchmark runs its own.
systemctl is-active --quiet nginx 2>/dev/null && systemctl stop nginx || true
if [[ " $* " != *" --jar "* ]] && [ ! -f proxy/target/bulwark.jar ]; then
  mvn -B -ntp -q -DskipTests package
fi
exec python3 loadtests/bench/bench.py "$@"
