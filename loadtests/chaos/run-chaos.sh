#!/usr/bin/env bash
# One command for the side-by-side chaos scenarios (see loadtests/README.md, "Chaos: side by side"):
#
#   loadtests/chaos/run-chaos.sh [seconds per scenario (36)] [rate per proxy (200)] [scenarios (all)]
#
# e.g. run-chaos.sh 36 200 blackhole,503. Builds nothing: build the jar first
# (mvn -B -ntp -q -DskipTests package). Writes the dated report and the black-hole timeline PNG
# to loadtests/results/ (RESULTS=dir to change, RESULTS= to skip) and keeps the raw files in the
# printed work dir (re-read them with: python3 loadtests/chaos/chaos.py report WORKDIR).
# Needs java 17, nginx, haproxy, python3; gnuplot (apt-get install -y gnuplot-nox) for the PNG.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${1:-36}
RATE=${2:-200}
SCEN=${3:-blackhole,503,reset,refused,slow,flap,alldown}
RESULTS=${RESULTS-$ROOT/loadtests/results}
args=(run --duration "$DURATION" --rate "$RATE" --scenarios "$SCEN" --jar "${JAR:-$ROOT/proxy/target/bulwark.jar}")
[ -n "$RESULTS" ] && args+=(--results "$RESULTS")
exec python3 "$HERE/chaos.py" "${args[@]}"
