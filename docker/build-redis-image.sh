#!/usr/bin/env bash
# Builds a Redis image (default tag bulwark-redis:local) for the fleet example, offline: FROM
# scratch with this machine's Debian redis-server and the shared libraries it links (found with
# ldd). Installs redis-server with apt when it is missing. Nothing is pulled from a registry.
#
#   docker/build-redis-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-bulwark-redis:local}
CTX=proxy/target/redis-image
if ! command -v redis-server >/dev/null 2>&1; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server
fi
rm -rf "$CTX"
root="$CTX/rootfs"
mkdir -p "$root"/{etc,data,tmp}
chmod 1777 "$root/tmp"
for d in bin sbin lib lib64; do
  if [ -L "/$d" ]; then
    ln -s "$(readlink "/$d")" "$root/$d"
    mkdir -p "$root/$(readlink -f "/$d")"
  else
    mkdir -p "$root/$d"
  fi
done
copy() { local to="$root$1"; [ -e "$to" ] && return 0; mkdir -p "$(dirname "$to")"; cp -L "$1" "$to"; }
server=$(type -P redis-server)
copy "$server"
{ ldd "$server" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' \
  | sort -u | while IFS= read -r lib; do copy "$lib"; done
printf 'root:x:0:0:root:/root:/bin/sh\nredis:x:10002:10002:Redis:/data:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nredis:x:10002:\n' > "$root/etc/group"
chown -R 10002:10002 "$root/data" 2>/dev/null || true
cat > "$CTX/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
USER 10002:10002
WORKDIR /data
ENTRYPOINT ["$server"]
CMD ["--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"]
DOCKERFILE
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
docker build --network host -t "$IMAGE" "$CTX"
echo "image built: $IMAGE"
