# SPDX-License-Identifier: Apache-2.0
"""The internal queue as a user configures it (reference/beats.md §2.5): queue.mem and
queue.disk at the top level or under the output, their config errors, and a capture
replayed through the disk queue."""

import glob
import os
import unittest

from harness import SipbeatTestCase


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
