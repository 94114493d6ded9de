#!/bin/sh
# Compiles the example jobs against a Flink distribution's lib/ into
# OUT/streaming/<Job>.jar: the image's builder stage runs it for the Flink
# release the image carries, the tests for the one they start.
#
#   examples/build.sh FLINK_LIB_DIR OUT
set -eu

lib=$1
out=$2
src=$(cd "$(dirname "$0")" && pwd)
dist=$(ls "$lib"/flink-dist*.jar 2>/dev/null | head -n 1)
if [ -z "$dist" ]; then
        echo "examples/build.sh: no flink-dist*.jar in $lib: expected a Flink distribution's lib/" >&2
        exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/flink-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/streaming"
for job in StateCount WordCount; do
        javac --release 11 -Xlint:-options -d "$work/$job" -cp "$dist" "$src/$job.java"
        jar --create --file "$out/streaming/$job.jar" --main-class "$job" -C "$work/$job" .
done
