# SPDX-License-Identifier: Apache-2.0
"""The internal queue as a user configures it (reference/beats.md §2.5): queue.mem and
queue.disk at the top level or under the output, their config errors, and a capture
replayed through the disk queue."""

import glob
import json
import os
import socket
import subprocess
import sys
import time
import unittest

from harness import SOURCE_DIR, SipbeatTestCase


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(os.geteuid() == 0, "live capture on lo needs root")
class DiskQueueFullLive(SipbeatTestCase):
    """Live capture into a full disk queue: the newest events are refused, counted and
    warned about; capture never blocks; once the output is back the queue drains."""

    def options(self, n):
        call_id = f"full-{n}@queue.test"
        return (f"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-{n}\r\n"
                f"From: <sip:test@127.0.0.1>;tag={n}\r\nTo: <sip:probe@127.0.0.1>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                f"X-Padding: {'p' * 900}\r\nContent-Length: 0\r\n\r\n").encode()

    def test_full_queue_refuses_newest_with_counter_and_warning(self):
        port = free_port()
        sip_port = free_port()
        self.write_config("sipbeat.yml",
                          f"sipbeat.iface: lo\nsipbeat.ports: [{sip_port}]\n"
                          "sipbeat.messages.enabled: true\nsipbeat.calls.enabled: false\n"
                          "sipbeat.stats_interval: 1s\n"
                          f"output.elasticsearch:\n  hosts: ['127.0.0.1:{port}']\n"
                          "  backoff.init: 100ms\n  backoff.max: 200ms\n"
                          "queue.disk:\n  max_size: 1MiB\n  segment_size: 256KiB\n")
        beat = self.start_beat()
        log_dir = os.path.join(self.home, "logs")

        def log_text():
            text = ""
            for path in glob.glob(os.path.join(log_dir, "sipbeat-*.ndjson")):
                with open(path) as f:
                    text += f.read()
            return text
        self.wait_for(lambda: "capturing" in log_text().lower() or
                      "Disk queue at" in log_text(), "capture to start")
        time.sleep(1)
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for n in range(1500):  # about 3 MB of events for a 1 MiB queue
                s.sendto(self.options(n), ("127.0.0.1", sip_port))
                sent += 1
                if n % 100 == 99:
                    time.sleep(0.05)  # no kernel drops: every message reaches sipbeat
        self.wait_for(lambda: "is full" in log_text(), "the queue-full warning")
        self.assertEqual(beat.poll(), None, "capture goes on with a full queue")
        warning = [json.loads(line) for line in log_text().splitlines()
                   if "is full" in line][0]
        self.assertEqual(warning["log.level"], "warn")
        self.assertIn("newest events are refused", warning["message"])
        # The output comes back: what the queue holds is delivered, and the counters
        # events say how many were refused.
        out = os.path.join(self.home, "received.ndjson")
        peer = subprocess.Popen([sys.executable, os.path.join(SOURCE_DIR, "tests", "peers",
                                                              "es_peer.py"),
                                 "--port", str(port), "--version", "8.15.0", "--out", out],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (peer.poll() is None and peer.terminate(), peer.wait()))

        def received():
            if not os.path.exists(out):
                return []
            with open(out) as f:
                return [json.loads(line)["_source"] for line in f if line.strip()]

        def refused():
            counters = [d for d in received() if d.get("type") == "counters"]
            if not counters:
                return None
            disk = counters[-1]["counters"]["libbeat"]["pipeline"]["queue"]["disk"]
            return disk["refused"]["val"]
        self.wait_for(lambda: (refused() or 0) > 0 and
                      len([d for d in received() if d.get("type") == "sip"]) > 0,
                      "queued events and the refused counter at the peer")
        messages = {d["sip"]["call_id"] for d in received() if d.get("type") == "sip"}
        self.assertGreater(len(messages), 100)
        self.assertLess(len(messages), sent)  # the queue could not hold them all
        # The oldest were kept: the first messages sent are among those delivered.
        self.assertIn("full-0@queue.test", messages)
        self.stop(beat)


class DiskQueueFile(SipbeatTestCase):

    def replay(self, queue_yaml, pcap="lab-mixed-udp.pcap"):
        self.write_config("sipbeat.yml", self.input(pcap, messages=True, calls=True) +
                          "output.file:\n  path: ${path.data}/events\n" + queue_yaml)
        return self.run_beat("-e")

    def test_capture_through_disk_queue_matches_memory_queue(self):
        r = self.replay("")
        self.assertExitsWith(r, 0)
        expected = sorted(e["event"]["original"] if "original" in e.get("event", {})
                          else repr(sorted(e.items())) for e in self.events()
                          if e.get("type") != "counters")
        self.assertGreater(len(expected), 100)
        for path in self.event_files():
            os.unlink(path)

        r = self.replay("queue.disk:\n  max_size: 100MB\n")
        self.assertExitsWith(r, 0)
        self.assertIn("Disk queue at", r.stderr)
        got = sorted(e["event"]["original"] if "original" in e.get("event", {})
                     else repr(sorted(e.items())) for e in self.events()
                     if e.get("type") != "counters")
        # Same count and same messages; call events differ only in wall-clock fields.
        self.assertEqual(len(got), len(expected))
        originals = [g for g in got if not g.startswith("[")]
        self.assertEqual(originals, [e for e in expected if not e.startswith("[")])
        # Everything was acknowledged: a second run delivers only its own events.
        qdir = os.path.join(self.home, "data", "diskqueue")
        self.assertTrue(os.path.isfile(os.path.join(qdir, "state.dat")))
        r = self.replay("queue.disk:\n  max_size: 100MB\n")
        self.assertExitsWith(r, 0)
        self.assertEqual(len([e for e in self.events() if e.get("type") != "counters"]),
                         2 * len(expected))
        # The acknowledged segments of the first run are gone.
        segs = glob.glob(os.path.join(qdir, "*.seg"))
        self.assertLessEqual(len(segs), 2, segs)

    def test_queue_under_output_and_custom_path(self):
        qdir = os.path.join(self.home, "myqueue")
        r = self.replay("  queue.disk:\n    max_size: 10MiB\n    path: " + qdir + "\n")
        self.assertExitsWith(r, 0)
        self.assertTrue(os.path.isfile(os.path.join(qdir, "state.dat")))
        self.assertGreater(len([e for e in self.events() if e.get("type") != "counters"]), 100)


class QueueConfigErrors(SipbeatTestCase):

    def check(self, queue_yaml, *needles):
        self.write_config("sipbeat.yml", self.file_output(queue_yaml))
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertEqual(len([l for l in r.stderr.splitlines() if l.strip()]), 1, r.stderr)

    def test_max_size_is_required(self):
        self.check("queue.disk:\n  path: /tmp/x\n", "missing required field",
                   "queue.disk.max_size", "sipbeat.yml")

    def test_bad_size(self):
        self.check("queue.disk:\n  max_size: lots\n", "invalid size 'lots'",
                   "queue.disk.max_size")

    def test_too_small(self):
        self.check("queue.disk:\n  max_size: 1000\n", "below the minimum",
                   "queue.disk.max_size")

    def test_segment_larger_than_half(self):
        self.check("queue.disk:\n  max_size: 10MB\n  segment_size: 8MB\n",
                   "at least twice segment_size", "queue.disk.segment_size")

    def test_mem_and_disk(self):
        self.check("queue.mem.events: 4096\nqueue.disk.max_size: 10MB\n",
                   "only one queue type", "'queue'")

    def test_top_level_and_output(self):
        self.check("  queue.mem.events: 4096\nqueue.mem.events: 4096\n",
                   "both at the top level and under the output", "output.file.queue")

    def test_unknown_queue_key(self):
        self.check("queue.disk.max_sise: 10MB\n", "queue.disk.max_sise")


if __name__ == "__main__":
    unittest.main()
