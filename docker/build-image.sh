#!/usr/bin/env bash
# Builds the Bulwark container image (default tag bulwark:local) from proxy/target/bulwark.jar,
# offline: nothing is pulled from a registry.
#
#   docker/build-image.sh
#
# What goes in (README, "Footprint"), all prepared under proxy/target/image/ as the build context:
#   runtime/  a Java runtime of only the JDK modules Bulwark uses, made with this machine's JDK 17
#             `jlink` (openjdk-17-jdk-headless is installed with apt when no JDK with jlink is found)
#   rootfs/   what that runtime and a few tools need to run: the shared libraries they link
#             (found with ldd, copied from this machine, so they match the JDK that made the
#             runtime), sh, cat, id, ls, /etc/passwd with the bulwark user, /tmp
# The image is FROM scratch with those two and the jar. docker/Dockerfile then trains the
# class-data-sharing archive: it runs the demo, sends it a few requests, and dumps the classes it
# loaded into /opt/bulwark/bulwark.jsa, which the ENTRYPOINT and the HEALTHCHECK map at start.
#
# Environment: IMAGE (tag, default bulwark:local), JDK (a JDK 17+ home with jlink and jmods).
# Build the jar first: mvn -B -DskipTests package
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-bulwark:local}
JAR=proxy/target/bulwark.jar
CTX=proxy/target/image
# The JDK modules Bulwark needs at run time (`jdeps --print-module-deps` on the jar names
# java.desktop, java.compiler and java.sql too: only for optional code in Jackson, Typesafe Config
# and Micrometer that Bulwark never calls; java.xml is logback's config parser, jdk.crypto.ec the
# EC cipher suites of TLS, java.management/jdk.management the JVM metrics, jdk.jfr Netty's
# allocator events, jdk.unsupported Netty's Unsafe, java.naming logback and Netty's TLS).
MODULES=java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.unsupported
# Tools kept in the image: a shell (for the build's RUN steps and `docker exec`), and what the
# container tests and an operator use.
TOOLS="sh cat id ls mkdir chown chmod rm sleep"

case "${1:-}" in
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  --local-base) ;; # accepted for old callers: every build is local now
  *) echo "build-image.sh: unknown argument \"$1\"" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ -f "$JAR" ] || { echo "build-image.sh: $JAR not found; build it first: mvn -B -DskipTests package" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-image.sh: the Docker daemon is not reachable (docker info fails)" >&2; exit 1; }
start=$(date +%s)

# A JDK 17+ with jlink and its jmods: $JDK, $JAVA_HOME, the one javac belongs to, Debian's.
find_jdk() {
  local c
  for c in "${JDK:-}" "${JAVA_HOME:-}" \
           "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")" \
           /usr/lib/jvm/java-17-openjdk-*; do
    if [ -n "$c" ] && [ -x "$c/bin/jlink" ] && [ -f "$c/jmods/java.base.jmod" ]; then echo "$c"; return 0; fi
  done
  return 1
}
if ! jdk=$(find_jdk); then
  echo "== installing openjdk-17-jdk-headless (jlink and the jmods)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jdk-headless
  jdk=$(find_jdk) || { echo "build-image.sh: no JDK with jlink and jmods found (set JDK=...)" >&2; exit 1; }
fi

rm -rf "$CTX"
mkdir -p "$CTX"
echo "== jlink: a runtime of $MODULES (from $jdk)"
"$jdk/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$CTX/runtime"
# The image maps its own archive (bulwark.jsa, with the JDK's classes too); the JDK's default
# archives would be dead weight.
rm -f "$CTX"/runtime/lib/server/classes*.jsa
# Debian's libjvm.so keeps its symbol table (11 MB); nothing at run time reads it.
if command -v strip >/dev/null 2>&1; then strip --strip-unneeded "$CTX/runtime/lib/server/libjvm.so"; fi

echo "== rootfs: shared libraries and tools"
root="$CTX/rootfs"
mkdir -p "$root"/{etc,tmp,usr/bin,opt/bulwark,var/lib/bulwark}
chmod 1777 "$root/tmp"
# The same merged-/usr layout as this machine, so each library sits where ldd found it.
for d in bin sbin lib lib64; do
  if [ -L "/$d" ]; then
    ln -s "$(readlink "/$d")" "$root/$d"
    mkdir -p "$root/$(readlink -f "/$d")"
  else
    mkdir -p "$root/$d"
  fi
done
copy() { # copies a file to the same path under the rootfs (following links), once
  local to="$root$1"
  [ -e "$to" ] && return 0
  mkdir -p "$(dirname "$to")"
  cp -L "$1" "$to"
}
# Netty's native transport and BoringSSL, which it unpacks to /tmp at start, link libraries too.
natives=$(mktemp -d)
trap 'rm -rf "$natives"' EXIT
(cd "$natives" && "$jdk/bin/jar" xf "$OLDPWD/$JAR" META-INF/native/libnetty_transport_native_epoll_x86_64.so \
  META-INF/native/libnetty_tcnative_linux_x86_64.so)
elfs=("$CTX/runtime/bin/java")
while IFS= read -r so; do elfs+=("$so"); done < <(find "$CTX/runtime" "$natives" -name '*.so')
for t in $TOOLS; do
  p=$(type -P "$t") || { echo "build-image.sh: $t not found on this machine" >&2; exit 1; }
  copy "$p"   # sh: its target (dash on Debian), as /bin/sh or /usr/bin/sh
  elfs+=("$p")
done
[ -x "$root/bin/sh" ] || copy /bin/sh
for e in "${elfs[@]}"; do
  { ldd "$e" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'
done | sort -u | while IFS= read -r lib; do
  case "$lib" in "$PWD/$CTX"/*) ;; *) copy "$lib" ;; esac   # the runtime's own libraries are in it
done
# glibc reads users and hosts through NSS (files and dns are built into glibc 2.34+).
printf 'root:x:0:0:root:/root:/bin/sh\nbulwark:x:10001:10001:Bulwark:/var/lib/bulwark:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nbulwark:x:10001:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"

# BuildKit needs the buildx plugin with a current client; without it, use the classic builder.
# --network host: the training run listens on loopback; it also works on a daemon without a
# default bridge (dockerd --bridge=none).
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
# Ports for the training run: random, so two builds on one machine do not meet.
train_port=$(( 30000 + RANDOM % 2000 * 4 ))
echo "== building $IMAGE (with a class-data-sharing training run on 127.0.0.1:$train_port)"
docker build --network host --force-rm --build-arg "TRAIN_PORT=$train_port" \
  -f docker/Dockerfile -t "$IMAGE" . \
  || { echo "build-image.sh: docker build failed" >&2; exit 1; }

size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "image built: $IMAGE ($(( size / 1000000 )) MB) in $(( $(date +%s) - start ))s"
