#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipbeat throughput and memory on a capture (SPEC §13).

    bench/run.py [--pcap FILE] [--build build/release]

Without --pcap it uses $OUT/calls.pcap (default /tmp/perf), generating it first with
../shared/lab/scripts/gen-perf.sh when SIPp is installed (1.02 M SIP messages, ~15 s).
Prints messages/s for the in-memory hot path, for whole replays to the file output (message
events; call events; calls tracked with their events blacklisted; no events), their peak
RSS, and the ratio to `tshark -T ek` (skipped with --no-tshark).
Memory per tracked call (SPEC §4, 1M concurrent calls) is bench/concurrent_calls.py."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))


def timed(cmd, **kw):
    """(seconds, peak RSS in MiB) of a child process. The RSS comes from GNU time when it
    is there: Linux keeps ru_maxrss across exec, so wait4() on a child forked from this
    (large) Python process reports at least this process's own size."""
    gnu_time = shutil.which("time") and os.path.exists("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r") as rss_file:
        full = (["/usr/bin/time", "-o", rss_file.name, "-f", "%M"] + cmd) if gnu_time else cmd
        start = time.monotonic()
        proc = subprocess.Popen(full, **kw)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"{cmd[0]} failed with {proc.returncode}")
        if gnu_time:
            return secs, int(rss_file.read().split()[-1]) / 1024
        return secs, usage.ru_maxrss / 1024


def sip_message_count(pcap):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "sip", "-T", "fields", "-e",
                          "frame.number"], capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def main():
    ap = argparse.ArgumentParser(epilog="Bytes per tracked call (1M concurrent calls): "
                                 "bench/concurrent_calls.py [--calls N].")
    ap.add_argument("--pcap")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rounds", default="3")
    ap.add_argument("--no-tshark", action="store_true", help="skip the tshark comparison")
    args = ap.parse_args()
    pcap = args.pcap
    if not pcap:
        out = os.environ.get("OUT", "/tmp/perf")
        pcap = os.path.join(out, "calls.pcap")
        if not os.path.exists(pcap):
            if not shutil.which("sipp"):
                sys.exit("no --pcap and SIPp is not installed to generate one")
            subprocess.run(["bash", os.path.join(SHARED, "lab", "scripts", "gen-perf.sh"),
                            "calls"], cwd=SHARED, check=True, env=dict(os.environ, OUT=out))
    binary = os.path.join(args.build, "sipbeat")
    print(f"capture: {pcap} ({os.path.getsize(pcap) / 1e6:.0f} MB)")
    subprocess.run([os.path.join(args.build, "bench", "sip_parse_bench")], check=True)
    subprocess.run([os.path.join(args.build, "bench", "sipbeat_bench"), pcap, args.rounds],
                   check=True)
    messages = None
    with tempfile.TemporaryDirectory() as home:
        cfg = os.path.join(home, "sipbeat.yml")
        modes = (("replay, message events", "true", "false", "[msg-probe, parse-error]"),
                 ("replay, call events", "false", "true", "[msg-probe, parse-error]"),
                 ("replay, calls tracked, no events", "false", "true",
                  "[msg-probe, parse-error, call-start, call-end, call-attempt, auth-failed, "
                  "reg-new, reg-del, reg-expired, other-ok, other-failed, other-timeout]"),
                 ("replay, no events", "false", "false", "[msg-probe, parse-error]"))
        for label, messages_on, calls_on, blacklist in modes:
            with open(cfg, "w") as f:
                f.write("output.file: {path: \"${path.data}/events\", rotate_every_kb: 1048576}\n"
                        f"sipbeat.messages.enabled: {messages_on}\n"
                        f"sipbeat.calls.enabled: {calls_on}\n"
                        "sipbeat.evr_limits: [0, 0, 0]\n"
                        f"sipbeat.event_types_blst: {blacklist}\n")
            os.chmod(cfg, 0o600)
            shutil.rmtree(os.path.join(home, "data"), ignore_errors=True)
            secs, rss = timed([binary, "--path.home", home, "-I", pcap],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            events = 0
            for name in os.listdir(os.path.join(home, "data", "events")):
                with open(os.path.join(home, "data", "events", name), "rb") as f:
                    events += sum(1 for line in f if b'"type":"counters"' not in line)
            if messages is None and shutil.which("tshark"):
                messages = sip_message_count(pcap)
            rate = f"{messages / secs:10.0f} msgs/s" if messages else ""
            print(f"{label + ':':36s} {rate}  {events} events in {secs:.2f} s, "
                  f"peak RSS {rss:.0f} MiB")
            if label.startswith("replay, message") and shutil.which("tshark") and \
                    not args.no_tshark:
                tsecs, trss = timed(["tshark", "-n", "-r", pcap, "-T", "ek"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print(f"{'tshark -T ek:':36s} {messages / tsecs:10.0f} msgs/s  {tsecs:.2f} s, "
                      f"peak RSS {trss:.0f} MiB; sipbeat is {tsecs / secs:.1f}x faster")


if __name__ == "__main__":
    main()
