#!/bin/sh
# `make run`: starts the built sipbeat with the shipped configuration in a scratch home
# (build/<dir>/run), then prints what it wrote. Until the capture stage exists the job is
# the counters stream: sipbeat starts, writes a counters event through the file output
# and exits.
set -eu
BUILD_DIR=${1:-build/release}
HOME_DIR="$BUILD_DIR/run"
rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
HOME_DIR=$(cd "$HOME_DIR" && pwd)
# The shipped config, installed as the package installs it (0600: the strict
# permission check accepts nothing group- or world-writable).
install -m 0600 "$BUILD_DIR/gen/sipbeat.yml" "$HOME_DIR/sipbeat.yml"

echo "== $BUILD_DIR/sipbeat -e -c sipbeat.yml --path.home $HOME_DIR"
"$BUILD_DIR/sipbeat" -e -c sipbeat.yml --path.home "$HOME_DIR"

echo "== events written under $HOME_DIR/data/events:"
/usr/bin/python3 - "$HOME_DIR/data/events" <<'PY'
import collections, glob, json, os, sys
counts = collections.Counter()
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.ndjson")))
for path in files:
    with open(path) as f:
        for line in f:
            counts[json.loads(line).get("type", "?")] += 1
for path in files:
    print("  " + os.path.basename(path))
print("events by type:")
for t, n in sorted(counts.items()):
    print(f"  {t:<16} {n}")
print(f"  {'total':<16} {sum(counts.values())}")
PY
