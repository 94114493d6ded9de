#!/bin/sh
# Assembles a Flink binary distribution (FLINK_HOME) from the official
# Apache Flink packages on PyPI: the apache-flink wheel carries bin/ and
# conf/, the apache-flink-libraries sdist carries lib/, opt/ and plugins/
# (the same files as the Apache release tarball). Every download is checked
# against images/flink-dist.sha256 and kept in the cache; the result is
# reused when it is already there.
#
#   images/flink-dist.sh DEST CACHE [VERSION]
set -eu

dest=$1
cache=$2
version=${3:-1.20.5}
here=$(cd "$(dirname "$0")" && pwd)
sums="$here/flink-dist.sha256"

if [ -f "$dest/.flink-version" ] && [ "$(cat "$dest/.flink-version")" = "$version" ]; then
        exit 0
fi
files=$(awk -v v="$version" '$1 == v { print $2 }' "$sums")
if [ -z "$files" ]; then
        echo "flink-dist: no pinned checksums for Flink $version in $sums: expected one of $(awk '!/^#/ { print $1 }' "$sums" | sort -u | tr '\n' ' ')" >&2
        exit 2
fi

pip() {
        if python3 -m pip --version >/dev/null 2>&1; then
                python3 -m pip "$@"
        else
                /usr/bin/python3 -m pip "$@"
        fi
}

verify() {
        want=$(awk -v v="$version" -v f="$1" '$1 == v && $2 == f { print $3 }' "$sums")
        [ -f "$cache/$1" ] && echo "$want  $cache/$1" | sha256sum -c --status
}

mkdir -p "$cache"
for f in $files; do
        verify "$f" && continue
        rm -f "$cache/$f"
        echo "flink-dist: downloading $f" >&2
        case "$f" in
        apache_flink_libraries-*)
                pip download --quiet --no-deps --no-binary :all: "apache-flink-libraries==$version" -d "$cache" ;;
        apache_flink-*)
                # Any wheel has the same bin/ and conf/: pin one, whatever python runs here.
                pip download --quiet --no-deps --only-binary :all: --python-version 3.11 \
                        --platform manylinux2014_x86_64 "apache-flink==$version" -d "$cache" ;;
        esac
        if ! verify "$f"; then
                echo "flink-dist: $cache/$f does not match its pinned SHA-256 in $sums" >&2
                exit 1
        fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/flink-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
for f in $files; do
        case "$f" in
        *.whl) python3 -m zipfile -e "$cache/$f" "$work/wheel" ;;
        *.tar.gz) tar xzf "$cache/$f" -C "$work" ;;
        esac
done
deps="$work/apache_flink_libraries-$version/deps"
mkdir -p "$work/flink/log"
cp -r "$work/wheel/pyflink/bin" "$work/wheel/pyflink/conf" "$deps/lib" "$deps/opt" "$deps/plugins" "$work/flink/"
cp "$deps/bin/bash-java-utils.jar" "$work/flink/bin/"
chmod 0755 "$work/flink/bin/"*.sh "$work/flink/bin/flink"
echo "$version" > "$work/flink/.flink-version"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/flink" "$dest"
echo "flink-dist: Flink $version assembled in $dest" >&2
