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
# One compilation (the jobs share Pace and CountPerKey), a jar per job.
javac --release 11 -Xlint:-options -d "$work/classes" -cp "$lib/*" "$src"/*.java
for job in StateCount WordCount ExactlyOnce; do
        jar --create --file "$out/streaming/$job.jar" --main-class "$job" -C "$work/classes" .
done
