#!/bin/sh
# Installs what the build, the tests and the benchmarks need and the
# machine lacks. Idempotent; prints nothing when everything is present.
set -eu

packages="gcc make pkg-config libc6-dev
libcurl4-openssl-dev libjansson-dev libyaml-dev libzookeeper-mt-dev libmicrohttpd-dev
libsystemd-dev libcmocka-dev valgrind tini dumb-init hyperfine wrk
python3 python3-pytest util-linux procps
openjdk-17-jre-headless openjdk-17-jdk-headless curl clang libclang-rt-14-dev
zookeeper python3-kazoo debootstrap
python3-jsonschema python3-yaml python3-pystache graphviz"

missing=""
for p in $packages; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
        esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing Debian packages:$missing (run as root, or install them)" >&2
        exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
