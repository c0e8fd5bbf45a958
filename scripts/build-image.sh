#!/usr/bin/env bash
# Builds the image of examples/docker/Dockerfile with Debian's podman, without any container
# registry: the debian:12 / debian:12-slim base is made here with debootstrap (bookworm,
# minbase) and imported into podman's local storage. Needs root (debootstrap, rootful
# podman), the Debian mirror and ~2 GB in /var/lib/containers. `make image` runs it.
#   scripts/build-image.sh [image tag]          default localhost/http-example:latest
# Environment: IMAGE_WORK (debootstrap folder, default /var/tmp/tomodachi-image),
#   DEBIAN_MIRROR (default http://deb.debian.org/debian), BUILD_JOBS (compile jobs, default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-localhost/http-example:latest}
work=${IMAGE_WORK:-/var/tmp/tomodachi-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/debian:bookworm

[[ $(id -u) -eq 0 ]] || { echo "build-image.sh: run as root (debootstrap, rootful podman)" >&2; exit 1; }
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool missing (scripts/install-deps.sh image)" >&2; exit 1; }
done

# 1. The base image: debootstrap into a folder, import the folder as an image.
if ! podman image exists "$base"; then
  rootfs="$work/rootfs"
  if [[ ! -f "$rootfs/.debootstrap-done" ]]; then
    rm -rf "$rootfs"; mkdir -p "$work"
    echo "build-image.sh: debootstrap bookworm into $rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    touch "$rootfs/.debootstrap-done"
  fi
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --exclude=./.debootstrap-done -c . | podman import --change 'CMD ["/bin/bash"]' - "$base"
fi
# The Dockerfile's FROM lines; podman finds short names in local storage first.
podman tag "$base" localhost/debian:12 localhost/debian:12-slim

# 2. The runtime. crun refuses a cgroup v1/v2 hybrid host ("cgroups in hybrid mode not
# supported"); runc runs there. Where the process may not raise its own rlimits (no
# CAP_SYS_RESOURCE), podman's defaults (nofile 1048576) fail: pass what the host allows.
flags=()
if ! podman run --rm --pull=never "$base" true 2>/dev/null; then
  nofile=$(ulimit -Hn)
  flags=(--runtime runc --ulimit "nofile=$nofile:$nofile" --ulimit nproc=32768:32768)
  podman run --rm --pull=never "${flags[@]}" "$base" true ||
    { echo "build-image.sh: podman cannot run a container here, not even with ${flags[*]}" >&2; exit 1; }
  echo "build-image.sh: running containers with ${flags[*]}"
fi

# 3. The image itself.
podman build "${flags[@]}" --pull=never --build-arg "BUILD_JOBS=${BUILD_JOBS:-2}" \
  -f "$root/examples/docker/Dockerfile" -t "$tag" "$root"
echo "build-image.sh: built $tag; run it with: podman run --rm ${flags[*]} -p 9700:9700 $tag"
