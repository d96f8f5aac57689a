#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Events/s through each network output to its local test peer, with and without
compression, and through the disk queue (issue 6, SPEC §9).

    bench/outputs.py [--pcap FILE] [--build build/release] [--only es,logstash,kafka,disk]

Without --pcap it uses $OUT/calls.pcap (bench/run.py generates it). sipbeat replays the
file with call events (message events off) into the file output first, which gives the
event count; then into each peer of tests/peers/ on 127.0.0.1 (the peers store nothing,
they only answer). File input is sipbeat's guaranteed mode: it waits for the output and
exits 0 only when every event is acknowledged, so events / run time is the delivered
rate. The Elasticsearch and Logstash peers are single Python processes: for those outputs
the number says as much about the peer as about sipbeat (their CPU time is printed)."""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PEERS = os.path.join(ROOT, "tests", "peers")


class Peer:
    def __init__(self, cmd, stdin=False):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.PIPE if stdin else None, text=True)
        self.address = self.proc.stdout.readline().strip().split()[-1]
        self.start_cpu = self.cpu()

    def cpu(self):
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def stop(self):
        used = self.cpu() - self.start_cpu
        if self.proc.stdin:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return used


def run(binary, home, output_yaml, pcap):
    cfg = os.path.join(home, "sipbeat.yml")
    with open(cfg, "w") as f:
        f.write(output_yaml + "sipbeat.messages.enabled: false\n"
                "sipbeat.calls.enabled: true\nsipbeat.evr_limits: [0, 0, 0]\n"
                "sipbeat.event_types_blst: [msg-probe, parse-error]\n"
                "sipbeat.stats_interval: 0s\n")
    os.chmod(cfg, 0o600)
    shutil.rmtree(os.path.join(home, "data"), ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = subprocess.run([binary, "--path.home", home, "-I", pcap], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    secs = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"sipbeat failed ({r.returncode}): {r.stderr[-2000:]}")
    return secs, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--only", default="es,logstash,kafka,disk")
    args = ap.parse_args()
    only = set(args.only.split(","))
    pcap = args.pcap or os.path.join(os.environ.get("OUT", "/tmp/perf"), "calls.pcap")
    if not os.path.exists(pcap):
        sys.exit(f"{pcap} is missing: run bench/run.py once, or pass --pcap")
    binary = os.path.join(args.build, "sipbeat")
    kafka_mock = os.path.join(args.build, "tests", "kafka_mock")
    with tempfile.TemporaryDirectory() as home:
        secs, cpu = run(binary, home,
                        "output.file: {path: \"${path.data}/events\", "
                        "rotate_every_kb: 4194304}\n", pcap)
        events = 0
        for name in os.listdir(os.path.join(home, "data", "events")):
            with open(os.path.join(home, "data", "events", name), "rb") as f:
                events += sum(1 for line in f if b'"type":"counters"' not in line)
        print(f"capture {pcap}: {events} call events")

        def show(label, secs, cpu, peer_cpu=None):
            extra = f", peer CPU {peer_cpu:.1f} s" if peer_cpu is not None else ""
            print(f"{label:44s} {events / secs:9.0f} events/s  ({secs:.2f} s, "
                  f"sipbeat CPU {cpu:.1f} s{extra})", flush=True)

        show("file output, memory queue", secs, cpu)
        if "disk" in only:
            secs, cpu = run(binary, home,
                            "output.file: {path: \"${path.data}/events\", "
                            "rotate_every_kb: 4194304}\n"
                            "queue.disk: {max_size: 20GB}\n", pcap)
            show("file output, disk queue", secs, cpu)
        if "es" in only:
            for level in (0, 1):
                peer = Peer([sys.executable, os.path.join(PEERS, "es_peer.py"), "--port", "0",
                             "--version", "8.15.0"])
                secs, cpu = run(binary, home,
                                f"output.elasticsearch: {{hosts: ['{peer.address}'], "
                                f"compression_level: {level}}}\n", pcap)
                show(f"elasticsearch, compression_level {level}", secs, cpu, peer.stop())
        if "logstash" in only:
            for level in (0, 3):
                peer = Peer([sys.executable, os.path.join(PEERS, "lumberjack_peer.py"),
                             "--port", "0"])
                secs, cpu = run(binary, home,
                                f"output.logstash: {{hosts: ['{peer.address}'], "
                                f"compression_level: {level}}}\n", pcap)
                show(f"logstash, compression_level {level}", secs, cpu, peer.stop())
        if "kafka" in only and os.path.exists(kafka_mock):
            for codec in ("none", "gzip", "lz4", "zstd"):
                peer = Peer([kafka_mock, "--brokers", "1", "--partitions", "4"], stdin=True)
                hosts = ", ".join(f"'{h}'" for h in peer.address.split(","))
                secs, cpu = run(binary, home,
                                f"output.kafka: {{hosts: [{hosts}], topic: sipbeat, "
                                f"compression: {codec}}}\n", pcap)
                show(f"kafka (librdkafka mock cluster), {codec}", secs, cpu, peer.stop())


if __name__ == "__main__":
    main()
