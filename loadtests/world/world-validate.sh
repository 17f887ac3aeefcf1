#!/usr/bin/env bash
# Size of the world, config: wall time and peak RSS of `validate` on a config of N prefix routes
# (the whole command: JVM start included), median of RUNS, measured with /usr/bin/time.
#
#   loadtests/world/world-validate.sh [jar=proxy/target/bulwark.jar] [routes=5000] [runs=5]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${1:-proxy/target/bulwark.jar}; N=${2:-5000}; RUNS=${3:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/gen-config.py" routes "$N" 18000 18001 18002 > "$WORK/routes.conf"
java -jar "$JAR" validate --config "$WORK/routes.conf" >/dev/null # warm the page cache
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/t" java -jar "$JAR" validate --config "$WORK/routes.conf" >/dev/null
  cat "$WORK/t" >> "$WORK/all"
done
sort -n "$WORK/all" | awk -v n="$N" '{ s[NR] = $1; m[NR] = $2 } END {
  k = int((NR + 1) / 2); printf "validate of %d routes: median %.2f s wall (min %.2f, max %.2f), peak RSS %d MiB\n", n, s[k], s[1], s[NR], m[k] / 1024 }'
