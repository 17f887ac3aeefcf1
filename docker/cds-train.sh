#!/bin/sh
# The class-data-sharing training run of the image build (docker/Dockerfile): runs the demo on
# 127.0.0.1, sends it requests through the proxy and to the admin API, stops it with SIGTERM,
# then dumps every class it loaded (the JDK's and Bulwark's) into one archive, which the
# ENTRYPOINT and the HEALTHCHECK map at start instead of loading and verifying each class.
#   cds-train.sh PORT ARCHIVE      (PORT and PORT+1 must be free; two more are tried if not)
set -eu
base=$1
archive=$2
jar=/opt/bulwark/bulwark.jar
list=/tmp/bulwark.classlist
client() { java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:off -jar "$jar" health --url "$1" >/dev/null 2>&1 || true; }

trained=false
for port in "$base" $((base + 2)) $((base + 4)); do
  admin=$((port + 1))
  java -XX:+UseSerialGC -Xshare:off -XX:DumpLoadedClassList="$list" -jar "$jar" \
    demo --port "$port" --admin-port "$admin" > /tmp/train.log 2>&1 &
  pid=$!
  up=false
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
    kill -0 "$pid" 2>/dev/null || break
    if java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:off -jar "$jar" health \
         --url "http://127.0.0.1:$admin/ready" >/dev/null 2>&1; then up=true; break; fi
    sleep 1
  done
  if $up; then
    for path in /healthy/hello /healthy/a/b?c=d /anything /flaky/x; do client "http://127.0.0.1:$port$path"; done
    client "http://127.0.0.1:$admin/metrics"
    client "http://127.0.0.1:$admin/api/v1/clusters"
    client "http://127.0.0.1:$admin/api/v1/events"
    kill -TERM "$pid"
    wait "$pid" || true
    trained=true
    break
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "cds-train.sh: the demo did not start on $port/$admin:" >&2
  cat /tmp/train.log >&2
done
$trained || { echo "cds-train.sh: no training run" >&2; exit 1; }

java -Xshare:dump -XX:SharedClassListFile="$list" -XX:SharedArchiveFile="$archive" -cp "$jar" \
  > /tmp/dump.log 2>&1 || { cat /tmp/dump.log >&2; exit 1; }
n=0; while read -r _; do n=$((n + 1)); done < "$list"
echo "cds-train.sh: $n classes listed; archive $archive"
rm -rf "$list" /tmp/train.log /tmp/dump.log /tmp/hsperfdata_* /tmp/*.so
