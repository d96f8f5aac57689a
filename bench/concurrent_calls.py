#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Memory per tracked call (SPEC §4 and §13: at most 1 KiB per tracked call).

    bench/concurrent_calls.py [--calls N] [--base B] [--build build/release] [--check]

Replays two captures of bench/gen_concurrent_calls.py — N concurrent established calls
(default 1000000) and a small baseline of B calls (default 1000), generated the same way and
cached as $OUT/concurrent-*.pcap (OUT=/tmp/perf) — through `sipbeat` with message events off
and the call events blacklisted, so that what grows with the call count is the tracker's
state. Prints both peak RSS values, bytes per call = (peak(N) - peak(B)) / (N - B), the
messages/s of the N replay (whole run: start, replay, the end-of-input timers, exit), and
the call-tracker counters of the final counters event when there are any. --check exits 1
when bytes per call exceed 1024."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import gen_concurrent_calls  # noqa: E402

MESSAGES_PER_CALL = 4  # INVITE, 180, 200, ACK
LIMIT = 1024  # bytes per tracked call, SPEC §4


def capture(n, out_dir):
    """The cached pcap of n calls, generated first when missing."""
    path = gen_concurrent_calls.default_path(n, out_dir)
    if not os.path.exists(path):
        print(f"generating {path} ...", flush=True)
        start = time.monotonic()
        packets, size = gen_concurrent_calls.generate(path, n)
        print(f"  {packets} packets, {size / 1e6:.0f} MB in {time.monotonic() - start:.1f} s",
              flush=True)
    return path


def flatten(obj, prefix=""):
    for key, value in obj.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from flatten(value, name)
        else:
            yield name, value


def counters_events(events_dir):
    """The flattened `counters` objects of every counters event in the file output, in order."""
    found = []
    for name in sorted(os.listdir(events_dir)):
        with open(os.path.join(events_dir, name), "rb") as f:
            for line in f:
                if b'"counters"' in line:
                    doc = json.loads(line)
                    if doc.get("type") == "counters":
                        found.append(dict(flatten(doc.get("counters", {}), "counters")))
    return found


def replay(binary, pcap):
    """(seconds, peak RSS in KiB, [counters], number of other events) of one sipbeat run."""
    with tempfile.TemporaryDirectory(prefix="sipbeat-concurrent-") as home:
        cfg = os.path.join(home, "sipbeat.yml")
        with open(cfg, "w") as f:
            f.write(f"sipbeat.pcap: {json.dumps(pcap)}\n"
                    "sipbeat.messages.enabled: false\n"
                    "sipbeat.event_types_blst: [call-start, call-end, call-attempt]\n"
                    "sipbeat.evr_limits: [0, 0, 0]\n"
                    # Periodic counters events too: the final one comes after the
                    # end-of-input timers have ended every call.
                    "sipbeat.stats_interval: 1s\n"
                    "output.file: {path: \"${path.data}/events\", rotate_every_kb: 1048576}\n")
        os.chmod(cfg, 0o600)
        log = os.path.join(home, "sipbeat.log")
        start = time.monotonic()
        with open(log, "wb") as err:
            proc = subprocess.Popen([binary, "--path.home", home, "-e"],
                                    stdout=subprocess.DEVNULL, stderr=err)
            # wait4 gives this child's own peak RSS; RUSAGE_CHILDREN would be the maximum
            # over every child waited for so far.
            _, status, usage = os.wait4(proc.pid, 0)
        secs = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            with open(log, errors="replace") as f:
                sys.stderr.write(f.read()[-4000:])
            sys.exit(f"{binary} failed with {code} on {pcap}")
        events_dir = os.path.join(home, "data", "events")
        counters = counters_events(events_dir)
        others = 0
        for name in os.listdir(events_dir):
            with open(os.path.join(events_dir, name), "rb") as f:
                others += sum(1 for line in f if b'"type":"counters"' not in line)
        return secs, usage.ru_maxrss, counters, others


def tracker_counters(counters):
    """Counters of the call tracker: the `calls` group (sipcmbeat.md §9) or any tracker/
    dialog group, whatever this build has."""
    keys = ("calls.", "dialogs.", "tracker.", "calltr.")
    return {k: v for k, v in counters.items()
            if any(f"counters.{g}" in k or f".{g}" in k for g in keys)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000, help="concurrent calls (default 1M)")
    ap.add_argument("--base", type=int, default=1000, help="baseline calls (default 1000)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/perf"),
                    help="where the captures are cached (default $OUT or /tmp/perf)")
    ap.add_argument("--check", action="store_true", help=f"exit 1 above {LIMIT} bytes per call")
    args = ap.parse_args()
    if not 0 < args.base < args.calls:
        sys.exit("need 0 < --base < --calls")
    binary = os.path.join(args.build, "sipbeat")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not found (build it, or pass --build)")

    results = {}
    tracker = False
    for n in (args.base, args.calls):
        pcap = capture(n, args.out)
        secs, rss_kib, samples, others = replay(binary, pcap)
        counters = samples[-1] if samples else {}
        results[n] = rss_kib
        messages = MESSAGES_PER_CALL * n
        print(f"{n:>9} calls: {os.path.getsize(pcap) / 1e6:7.0f} MB pcap, {secs:7.2f} s, "
              f"{messages / secs:10.0f} msgs/s, peak RSS {rss_kib / 1024:7.1f} MiB", flush=True)
        packets = counters.get("counters.decode.packets.val")
        if packets is None:
            print("  warning: no counters.decode.packets: did this build read the capture?")
        elif packets != messages:
            print(f"  warning: sipbeat decoded {packets} packets, the file has {messages}")
        if others:
            print(f"  warning: {others} events besides counters (blacklist not applied?)")
        tracked = tracker_counters(counters)
        if tracked:
            tracker = True
            for key, value in sorted(tracked.items()):
                highest = max(c.get(key, value) for c in samples)
                more = f" (highest of {len(samples)} counters events: {highest})" \
                    if len(samples) > 1 and highest != value else ""
                print(f"  {key} = {value}{more}")
            peak = tracked.get("counters.calls.active.max")
            if peak is not None and peak < n:
                print(f"  warning: at most {peak} of the {n} calls were tracked at once")
            mem = tracked.get("counters.calls.mem.max")
            if peak and mem:
                print(f"  tracker's own count: {mem / peak:.0f} bytes per call "
                      "(entry + attributes, calls.mem.max / calls.active.max)")
        else:
            print("  (no call-tracker counters in the final counters event)")

    per_call = (results[args.calls] - results[args.base]) * 1024 / (args.calls - args.base)
    verdict = "ok" if per_call <= LIMIT else "OVER"
    if not tracker:
        verdict += ", but this build reports no call tracker"
    print(f"bytes per tracked call: {per_call:.0f} (SPEC §4 limit {LIMIT}: {verdict})")
    if args.check and per_call > LIMIT:
        sys.exit(1)


if __name__ == "__main__":
    main()
