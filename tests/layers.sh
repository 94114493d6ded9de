#!/bin/sh
# Fails when a file includes a header of a higher layer than its own.
# The layers, lowest first; each may include its own and the ones before it.
set -eu
cd "$(dirname "$0")/../supervisor"
LAYERS="base core config flink integrations app"
rank() {
        i=0
        for l in $LAYERS; do
                [ "$l" = "$1" ] && { echo $i; return; }
                i=$((i + 1))
        done
        echo "layers: $2: unknown layer \"$1\": expected one of: $LAYERS" >&2
        exit 1
}
bad=0
for dir in */; do
        dir=${dir%/}
        own=$(rank "$dir" "$dir")
        for f in "$dir"/*.[ch]; do
                for inc in $(sed -n 's/^#include "\([a-z]*\)\/[a-z_]*\.h".*/\1/p' "$f" | sort -u); do
                        if [ "$(rank "$inc" "$f")" -gt "$own" ]; then
                                echo "layers: $f ($dir) includes $inc/: a higher layer" >&2
                                bad=1
                        fi
                done
                if grep -q '^#include "[a-z_]*\.h"' "$f"; then
                        echo "layers: $f includes a header without its layer's directory" >&2
                        bad=1
                fi
        done
done
[ "$bad" = 0 ] && echo "layers: ok ($LAYERS)"
exit "$bad"
