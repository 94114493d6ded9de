#!/bin/sh
# Provides the base image the Dockerfile builds on, tagged TAG:
#   1. already there: nothing to do;
#   2. `docker pull debian:bookworm-slim` works: that image;
#   3. otherwise (no registry reachable): debootstrap Debian bookworm into
#      CACHE/rootfs (kept for the next run) and `docker import` it.
# EXTRA names Debian packages to put into the debootstrapped root, for
# when containers cannot reach Debian's mirror during a build.
#
#   images/base-image.sh TAG CACHE [EXTRA...]
set -eu

tag=$1
cache=$2
shift 2
extra=$(echo "$*" | tr ' ' ',')

if docker image inspect "$tag" >/dev/null 2>&1; then
        exit 0
fi
if timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
        docker tag debian:bookworm-slim "$tag"
        echo "base-image: $tag is debian:bookworm-slim" >&2
        exit 0
fi

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs="$cache/rootfs"
stamp="$cache/rootfs.done"
want="bookworm minbase ${extra:-none}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "base-image: no registry: debootstrap bookworm into $rootfs (${extra:-no extra packages})" >&2
        rm -rf "$rootfs" "$stamp"
        mkdir -p "$cache"
        debootstrap --variant=minbase ${extra:+--include="$extra"} bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
                tail -20 "$cache/debootstrap.log" >&2
                exit 1
        }
        # What makes a root filesystem an image: no package caches, no machine id.
        rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"* "$rootfs/tmp/"*
        : >"$rootfs/etc/machine-id"
        echo "$want" >"$stamp"
fi
tar -C "$rootfs" --numeric-owner -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$tag" >/dev/null
echo "base-image: $tag imported from $rootfs" >&2
