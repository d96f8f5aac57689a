# SPDX-License-Identifier: Apache-2.0
"""Golden files: the events sipbeat makes of every small SIP capture of ../shared/corpus
(issue 3). Each golden file holds the flattened, key-sorted events with the volatile keys
removed (agent identity, host name, versions), `@timestamp` kept: sipbeat uses packet time.

UPDATE_GOLDEN=1 rewrites them; a rewrite must be reviewed field by field before it is
committed (style-anchors §4.5)."""

import json
import os
import shutil
import unittest

from harness import SOURCE_DIR, SipbeatTestCase, read
from test_messages import CORPUS, corpus_captures_with_sip

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
VOLATILE = ("agent.", "host.", "ecs.version", "@metadata.version")
# The lab captures are checked by counts against their ground truth (test_messages.py).
SMALL = [c for c in corpus_captures_with_sip() if not c.startswith("lab/")]


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def golden_name(capture):
    return capture.replace("/", "__").replace(".pcap", "") + ".json"


class Golden(SipbeatTestCase):
    def events_of(self, capture):
        shutil.rmtree(os.path.join(self.home, "data", "events"), ignore_errors=True)
        self.write_config("sipbeat.yml",
                          "sipbeat.event_types_blst: []\n"
                          # Message-event goldens; call events are compared with the
                          # original engine in test_calls.py.
                          "sipbeat.calls.enabled: false\n"
                          "output.file: {path: \"${path.data}/events\"}\n")
        r = self.run_beat("-I", os.path.join(CORPUS, capture))
        self.assertExitsWith(r, 0)
        events = []
        for e in self.events():
            if e["type"] == "counters":
                continue
            flat = flatten(e)
            events.append({k: v for k, v in sorted(flat.items())
                           if not k.startswith(VOLATILE)})
        return events

    def test_corpus_captures(self):
        if not SMALL:
            self.skipTest(f"{CORPUS}/INDEX.tsv not found: the shared corpus is not beside "
                          "the repository")
        for capture in SMALL:
            with self.subTest(capture=capture):
                got = self.events_of(capture)
                path = os.path.join(GOLDEN, golden_name(capture))
                if os.environ.get("UPDATE_GOLDEN") == "1":
                    with open(path, "w") as f:
                        json.dump(got, f, indent=1, sort_keys=True, ensure_ascii=False)
                        f.write("\n")
                    continue
                self.assertTrue(os.path.exists(path), f"no golden file {path}: run with "
                                "UPDATE_GOLDEN=1 and review it")
                want = json.loads(read(path))
                self.assertEqual(len(got), len(want), capture)
                for i, (g, w) in enumerate(zip(got, want)):
                    self.assertEqual(g, w, f"{capture}: event {i}")


if __name__ == "__main__":
    unittest.main()
