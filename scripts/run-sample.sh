#!/bin/sh
# `make run`: the main job on the bundled sample. The built sipbeat, with the shipped
# configuration in a scratch home (build/<dir>/run), replays a capture recorded from the
# SIPp scenarios and Kamailio of ../shared/lab (tests/data/pcaps/lab-mixed-udp.pcap: SIP on
# the wire plus Kamailio's HEPv3 copies) to the file output, then prints a summary of the
# events by type.
set -eu
BUILD_DIR=${1:-build/release}
HOME_DIR="$BUILD_DIR/run"
rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
HOME_DIR=$(cd "$HOME_DIR" && pwd)
# The shipped config, installed as the package installs it (0600: the strict
# permission check accepts nothing group- or world-writable).
install -m 0600 "$BUILD_DIR/gen/sipbeat.yml" "$HOME_DIR/sipbeat.yml"

SAMPLE=$(pwd)/tests/data/pcaps/lab-mixed-udp.pcap
echo "== $BUILD_DIR/sipbeat -c sipbeat.yml --path.home $HOME_DIR -I $SAMPLE"
"$BUILD_DIR/sipbeat" -c sipbeat.yml --path.home "$HOME_DIR" -I "$SAMPLE"
echo "== logs: $HOME_DIR/logs"

echo "== events written under $HOME_DIR/data/events:"
/usr/bin/python3 - "$HOME_DIR/data/events" <<'PY'
import collections, glob, json, os, sys
counts = collections.Counter()
detail = collections.Counter()
calls = collections.Counter()
limited = collections.Counter()
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.ndjson")))
for path in files:
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            counts[ev.get("type", "?")] += 1
            resp = ev.get("sip", {}).get("response", {})
            if "rate" in ev and ev.get("type") not in ("msg-probe", "parse-error"):
                calls[(ev["type"], resp.get("status", resp.get("last", "")),
                       ev["sip"].get("sip_reason", ""))] += 1
                if ev["rate"]["exceeded"]:
                    limited[ev["type"]] += 1
            if ev.get("type") == "sip":
                sip = ev["sip"]
                what = sip["method"] if sip["type"] == "request" else f'{sip["code"]} ({sip["cseq"]["method"]})'
                detail[(ev["sipbeat"]["via"], what)] += 1
for path in files:
    print("  " + os.path.basename(path))
print("events by type:")
for t, n in sorted(counts.items()):
    print(f"  {t:<16} {n}")
print(f"  {'total':<16} {sum(counts.values())}")
if calls:
    print("call and registration events by type, status and reason:")
    for (t, status, reason), n in sorted(calls.items(), key=lambda kv: str(kv[0])):
        print(f"  {t:<14} {status!s:<4} {reason:<28} {n}")
    if limited:
        print("  (the event-rate limits of sipbeat.evr_limits held back events above the limit;"
              " reported ones carry rate.exceeded: " +
              ", ".join(f"{t} {n}" for t, n in sorted(limited.items())) + ")")
if detail:
    print("sip message events by source and method/status:")
    for (via, what), n in sorted(detail.items()):
        print(f"  {via:<5} {what:<22} {n}")
PY
