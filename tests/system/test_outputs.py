# SPDX-License-Identifier: Apache-2.0
"""The network outputs end to end (SPEC §9, reference/beats.md §3-5): a lab capture is
replayed through sipbeat into each output's test peer on 127.0.0.1 (tests/peers/), and
the peer must hold exactly the events the file output writes for the same capture. Then
the peer goes away mid-run and comes back: with the memory queue nothing is lost; with
the disk queue nothing is lost even when sipbeat is killed with SIGKILL during the outage
and started again (at-least-once: duplicates are counted, none is missing)."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import SOURCE_DIR, SipbeatTestCase, TIMEOUT

PEERS = os.path.join(SOURCE_DIR, "tests", "peers")
KAFKA_MOCK = os.environ.get("SIPBEAT_KAFKA_MOCK", "")
# Fields that differ from run to run by design (wall clock, process identity).
VOLATILE = ("event.created", "agent.ephemeral_id", "agent.id")


def strip(doc):
    doc = json.loads(json.dumps(doc))
    doc.pop("@metadata", None)
    for path in VOLATILE:
        parts = path.split(".")
        d = doc
        for p in parts[:-1]:
            d = d.get(p, {})
        d.pop(parts[-1], None)
    return json.dumps(doc, sort_keys=True)


def identity(doc):
    """What tells two events of one capture apart: the message, or the call event."""
    ev = doc.get("event", {})
    if "original" in ev:
        return ev["original"] + "|" + doc.get("@timestamp", "")
    return json.dumps([doc.get("@timestamp"), doc.get("event", {}).get("action"),
                       doc.get("sip", {}).get("call_id"), doc.get("call_id"),
                       doc.get("dbg", {}).get("evgen")], sort_keys=True)


class Peer:
    """A test peer process; `port` is read from its first stdout line."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.proc = None
        self.port = None
        self.start()

    def start(self, port=None):
        cmd = list(self.cmd)
        if port is not None:
            cmd[cmd.index("--port") + 1] = str(port)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError("peer did not start: " + " ".join(cmd))
        self.port = int(line.split()[-1].rsplit(":", 1)[-1]) if port is None else port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdout, self.proc.stdin):
            if s:
                s.close()

    def restart_same_port(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.start(self.port)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


class OutputCase(SipbeatTestCase):
    """Subclasses set how to start the peer, the output section and how to read back."""

    pcap = "lab-mixed-udp.pcap"

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="sipbeat-peer-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.out = os.path.join(self.tmp, "received.ndjson")

    def baseline(self):
        """The events the file output writes for the capture (cached per class)."""
        cls = type(self)
        if getattr(cls, "_baseline", None) is None:
            self.write_config("base.yml", self.input(self.pcap, True, True) +
                              "output.file:\n  path: ${path.data}/events\n")
            r = self.run_beat("-e", "-c", "base.yml")
            self.assertExitsWith(r, 0)
            cls._baseline = [e for e in self.events() if e.get("type") != "counters"]
            for p in self.event_files():
                os.unlink(p)
        return cls._baseline

    def replay_config(self, output_yaml, extra="", realtime=False):
        text = self.input(self.pcap, True, True) + output_yaml + extra
        if realtime:
            # The capture's own timing, five times faster: about seven seconds.
            text += ("sipbeat.replay: true\nsipbeat.replay_scale: 0.2\n"
                     "sipbeat.replay_min_delay: 0s\n")
        return text

    def received(self):
        """SIP events (not counters) the peer holds, as documents with @timestamp."""
        raise NotImplementedError

    def log_text(self):
        text = ""
        for path in glob.glob(os.path.join(self.home, "logs", "sipbeat-*.ndjson")):
            with open(path) as f:
                text += f.read()
        return text

    def assertExactly(self, got, expected):
        self.assertEqual(len(got), len(expected))
        self.assertEqual(sorted(strip(d) for d in got), sorted(strip(d) for d in expected))

    def assertAtLeastOnce(self, got, expected):
        ids = [identity(d) for d in got]
        want = {identity(d) for d in expected}
        missing = want - set(ids)
        self.assertFalse(missing, f"{len(missing)} events lost, e.g. {sorted(missing)[:2]}")
        return len(ids) - len(set(ids))  # duplicates


class OutageTests:
    """The outage tests of every output. The class says how to start its peer (`up`), take
    it away and bring it back (`down`, `back`), and read what it holds (`docs`)."""

    label = ""
    outage_output_extra = ""

    def test_outage_memory_queue(self):
        expected = self.baseline()
        peer = self.up()
        self.write_config("sipbeat.yml", self.replay_config(
            self.output(peer, self.outage_output_extra), realtime=True))
        beat = self.start_beat("-e")
        self.wait_for(lambda: len(self.docs(peer)) > 0, "first events")
        self.down(peer)
        time.sleep(3)
        self.back(peer)
        out, err = beat.communicate(timeout=120)
        self.assertEqual(beat.returncode, 0, err[-3000:])
        dups = self.assertAtLeastOnce(self.docs(peer), expected)
        self.assertLessEqual(dups, len(expected))

    def test_outage_disk_queue_survives_sigkill(self):
        expected = self.baseline()
        peer = self.up()
        queue = "queue.disk:\n  max_size: 200MB\n"
        self.write_config("sipbeat.yml", self.replay_config(
            self.output(peer, self.outage_output_extra), queue, realtime=True) +
            "sipbeat.run_forever: true\n")
        beat = self.start_beat()  # logs to files: nothing reads its stderr while it runs
        self.wait_for(lambda: len(self.docs(peer)) > 0, "first events")
        self.down(peer)
        # The rest of the capture goes into the disk queue meanwhile, up to the events of
        # the timers that fire at its end.
        self.wait_for(lambda: "All input read" in self.log_text(), "the end of the input",
                      timeout=120)
        time.sleep(1)
        beat.kill()  # SIGKILL during the outage
        beat.wait(timeout=TIMEOUT)
        self.back(peer)
        # Started again on the same data path, with no new events: it sends what is queued.
        self.write_config("sipbeat.yml", self.input(self.pcap, False, False) +
                          self.output(peer) + queue)
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        got = self.docs(peer)
        dups = self.assertAtLeastOnce(got, expected)
        print(f"\n{self.label} disk queue outage: {len(got)} received, {len(expected)} "
              f"expected, {dups} duplicates", file=sys.stderr)


class ElasticsearchOutput(OutputCase, OutageTests):

    label = "Elasticsearch"

    def up(self):
        return self.start_peer()

    def down(self, peer):
        peer.stop()

    def back(self, peer):
        peer.restart_same_port()

    def docs(self, peer):
        return [i["_source"] for i in self.received()]

    def start_peer(self, *args):
        peer = Peer([sys.executable, os.path.join(PEERS, "es_peer.py"), "--port", "0",
                     "--version", "8.15.0", "--out", self.out] + list(args))
        self.addCleanup(peer.stop)
        return peer

    def output(self, peer, extra=""):
        return (f"output.elasticsearch:\n  hosts: ['127.0.0.1:{peer.port}']\n"
                "  backoff.init: 100ms\n  backoff.max: 500ms\n" + extra)

    def received(self):
        docs = []
        if os.path.exists(self.out):
            with open(self.out) as f:
                for line in f:
                    item = json.loads(line)
                    if item["_source"].get("type") != "counters":
                        docs.append(item)
        return docs

    def test_every_event_delivered_exactly(self):
        expected = self.baseline()
        peer = self.start_peer()
        self.write_config("sipbeat.yml", self.replay_config(
            self.output(peer, "  compression_level: 1\n")))
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        items = self.received()
        self.assertEqual({i["_index"] for i in items}, {"sipbeat-0.1.0"})
        self.assertEqual({i["op"] for i in items}, {"create"})
        self.assertExactly([i["_source"] for i in items], expected)
        for i in items:
            self.assertNotIn("@metadata", i["_source"])

    def test_preset_sets_batches_and_memory_queue(self):
        expected = self.baseline()
        peer = self.start_peer()
        self.write_config("sipbeat.yml", self.replay_config(
            self.output(peer, "  preset: latency\n  bulk_max_size: 5000\n")))
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        self.assertIn("'output.elasticsearch.bulk_max_size' is overridden by "
                      "output.elasticsearch.preset: latency", r.stderr)
        self.assertIn("Memory queue from output.elasticsearch.preset: latency: events 4100",
                      r.stderr)
        self.assertExactly([i["_source"] for i in self.received()], expected)
        # A disk queue is never replaced by the preset's memory queue.
        self.write_config("sipbeat.yml", self.replay_config(
            self.output(peer, "  preset: latency\n"), "queue.disk:\n  max_size: 100MB\n"))
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        self.assertIn("sets the memory queue; the configured disk queue is kept", r.stderr)

    def test_test_output_transcript(self):
        peer = self.start_peer()
        self.write_config("sipbeat.yml", self.input() + self.output(peer))
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 0)
        self.assertIn(f"elasticsearch: http://127.0.0.1:{peer.port}...", r.stdout)
        self.assertIn("  parse url... OK", r.stdout)
        self.assertIn("    dial up... OK", r.stdout)
        self.assertIn("  TLS... WARN secure connection disabled", r.stdout)
        self.assertIn("  talk to server... OK", r.stdout)
        self.assertIn("  version: 8.15.0", r.stdout)
        peer.stop()
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 1)
        self.assertIn("ERROR", r.stdout)


class LogstashOutput(OutputCase, OutageTests):

    label = "Logstash"

    def up(self):
        return self.start_peer()

    def down(self, peer):
        peer.stop()

    def back(self, peer):
        peer.restart_same_port()

    def docs(self, peer):
        return self.received()

    def start_peer(self, *args):
        peer = Peer([sys.executable, os.path.join(PEERS, "lumberjack_peer.py"), "--port", "0",
                     "--out", self.out] + list(args))
        self.addCleanup(peer.stop)
        return peer

    def output(self, peer, extra=""):
        return (f"output.logstash:\n  hosts: ['127.0.0.1:{peer.port}']\n"
                "  backoff.init: 100ms\n  backoff.max: 500ms\n  timeout: 5s\n" + extra)

    def received(self):
        docs = []
        if os.path.exists(self.out):
            with open(self.out) as f:
                for line in f:
                    if line.strip():
                        d = json.loads(line)
                        if d.get("type") != "counters":
                            docs.append(d)
        return docs

    def test_every_event_delivered_exactly(self):
        expected = self.baseline()
        for compression in (0, 3):
            with self.subTest(compression=compression):
                if os.path.exists(self.out):
                    os.unlink(self.out)
                peer = self.start_peer("--partial", "100")
                self.write_config("sipbeat.yml", self.replay_config(
                    self.output(peer, f"  compression_level: {compression}\n"
                                "  slow_start: true\n")))
                r = self.run_beat("-e")
                self.assertExitsWith(r, 0)
                got = self.received()
                self.assertEqual({d["@metadata"]["beat"] for d in got}, {"sipbeat"})
                self.assertExactly(got, expected)
                peer.stop()




    def test_test_output_transcript(self):
        peer = self.start_peer()
        self.write_config("sipbeat.yml", self.input() + self.output(peer))
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 0)
        self.assertIn(f"logstash: 127.0.0.1:{peer.port}...", r.stdout)
        self.assertIn("    dial up... OK", r.stdout)
        self.assertIn("  TLS... WARN secure connection disabled", r.stdout)
        self.assertIn("  talk to server... OK", r.stdout)
        peer.stop()
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 1)
        self.assertIn("ERROR", r.stdout)


@unittest.skipUnless(KAFKA_MOCK and os.path.exists(KAFKA_MOCK) and shutil.which("kcat"),
                     "needs the kafka_mock peer (built with the tests) and kcat")
class KafkaOutput(OutputCase, OutageTests):

    label = "Kafka"
    outage_output_extra = "  timeout: 2s\n"

    def up(self):
        return self.start_cluster()

    def down(self, bootstrap):
        self.command("down-all")

    def back(self, bootstrap):
        self.command("up-all")

    def docs(self, bootstrap):
        return [m[3] for m in self.consume(bootstrap)]

    def start_cluster(self):
        proc = subprocess.Popen([KAFKA_MOCK, "--brokers", "3", "--partitions", "4"],
                                stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                                stderr=subprocess.DEVNULL)
        bootstrap = proc.stdout.readline().strip()

        def stop():
            if proc.poll() is None:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            proc.stdout.close()
            proc.stdin.close()
        self.addCleanup(stop)
        self.cluster = proc
        return bootstrap

    def command(self, cmd):
        self.cluster.stdin.write(cmd + "\n")
        self.cluster.stdin.flush()
        self.assertEqual(self.cluster.stdout.readline().strip(), "ok")

    def output(self, bootstrap, extra=""):
        hosts = ", ".join(f"'{h}'" for h in bootstrap.split(","))
        return (f"output.kafka:\n  hosts: [{hosts}]\n  topic: sipbeat\n"
                "  backoff.init: 100ms\n  backoff.max: 500ms\n" + extra)

    def consume(self, bootstrap):
        r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "sipbeat", "-e", "-q",
                            "-f", "%p\t%k\t%T\t%s\n"], capture_output=True, text=True,
                           timeout=60)
        out = []
        for line in r.stdout.splitlines():
            if not line.strip():
                continue
            part, key, ts, value = line.split("\t", 3)
            doc = json.loads(value)
            if doc.get("type") == "counters":
                continue
            out.append((int(part), key, int(ts), doc))
        return out

    def test_every_event_delivered_exactly_keyed_by_call_id(self):
        expected = self.baseline()
        bootstrap = self.start_cluster()
        self.write_config("sipbeat.yml", self.replay_config(self.output(bootstrap)))
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        msgs = self.consume(bootstrap)
        self.assertExactly([m[3] for m in msgs], expected)
        partitions = {}
        for part, key, ts, doc in msgs:
            call_id = doc.get("sip", {}).get("call_id") or doc.get("call_id")
            if call_id:
                self.assertEqual(key, call_id)
            partitions.setdefault(key, set()).add(part)
            # Kafka message time = event time (ms).
            t = doc["@timestamp"]
            self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1000)),
                             t[:19])
        self.assertTrue(all(len(p) == 1 for p in partitions.values()),
                        "every message of a call lands on one partition")
        self.assertGreater(len({next(iter(p)) for p in partitions.values()}), 1)

    def test_test_output_transcript(self):
        bootstrap = self.start_cluster()
        self.write_config("sipbeat.yml", self.input() + self.output(bootstrap))
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 0)
        first = bootstrap.split(",")[0]
        self.assertIn(f"Kafka: {first}...", r.stdout)
        self.assertIn("  dial up... OK", r.stdout)
        self.assertIn("  talk to server... OK", r.stdout)
        self.write_config("sipbeat.yml", self.input() + self.output("127.0.0.1:1"))
        r = self.run_beat("test", "output")
        self.assertExitsWith(r, 1)
        self.assertIn("ERROR", r.stdout)




if __name__ == "__main__":
    unittest.main()
