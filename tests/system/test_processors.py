# SPDX-License-Identifier: Apache-2.0
"""Processors as a user writes them in sipbeat.yml (reference/beats.md §2.4): global and
per event kind, with conditions, on a replayed lab capture."""

import unittest

from harness import SipbeatTestCase


class Processors(SipbeatTestCase):

    def replay(self, yaml, messages=True, calls=False):
        self.write_config("sipbeat.yml", self.input("lab-mixed-udp.pcap", messages, calls) +
                          "output.file:\n  path: ${path.data}/events\n" + yaml)
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        return [e for e in self.events() if e.get("type") != "counters"]

    def test_baseline_has_invites(self):
        events = self.replay("")
        self.assertTrue(any(e["sip"].get("method") == "INVITE" for e in events))

    def test_drop_event_with_condition(self):
        base = self.replay("")
        n_invite = sum(1 for e in base if e["sip"].get("method") == "INVITE")
        for path in self.event_files():
            import os
            os.unlink(path)
        events = self.replay("processors:\n"
                             "  - drop_event:\n"
                             "      when:\n"
                             "        equals:\n"
                             "          sip.method: INVITE\n")
        self.assertGreater(n_invite, 0)
        self.assertEqual(len(events), len(base) - n_invite)
        self.assertFalse(any(e["sip"].get("method") == "INVITE" for e in events))
        filtered = [c for c in self.counters()]
        self.assertTrue(filtered)

    def test_add_fields_tags_and_drop_fields(self):
        events = self.replay("processors:\n"
                             "  - add_fields:\n"
                             "      target: site\n"
                             "      fields:\n"
                             "        name: lab-1\n"
                             "        rack: 7\n"
                             "  - add_tags:\n"
                             "      tags: [voip, lab]\n"
                             "  - drop_fields:\n"
                             "      fields: [event.original, sip.sdp]\n"
                             "      ignore_missing: true\n")
        self.assertTrue(events)
        for e in events:
            self.assertEqual(e["site"], {"name": "lab-1", "rack": 7})
            self.assertIn("voip", e["tags"])
            self.assertIn("lab", e["tags"])
            self.assertNotIn("original", e.get("event", {}))
            self.assertNotIn("sdp", e["sip"])

    def test_include_fields_and_rename(self):
        events = self.replay("processors:\n"
                             "  - include_fields:\n"
                             "      fields: [sip.method, sip.call_id, sip.code]\n"
                             "  - rename:\n"
                             "      fields:\n"
                             "        - from: sip.call_id\n"
                             "          to: callid\n")
        self.assertTrue(events)
        for e in events:
            keys = set(e) - {"@timestamp", "@metadata", "type"}
            self.assertLessEqual(keys, {"sip", "callid"}, e)
            self.assertIn("callid", e)
            self.assertNotIn("call_id", e.get("sip", {}))

    def test_per_kind_processors_run_before_global(self):
        # The messages list sees no agent.* yet (builtin fields come after it); the global
        # list does (libbeat processing order).
        events = self.replay("sipbeat.messages.processors:\n"
                             "  - add_tags:\n"
                             "      tags: [msg]\n"
                             "      when.has_fields: [agent.name]\n"
                             "  - add_tags:\n"
                             "      tags: [msg-first]\n"
                             "sipbeat.calls.processors:\n"
                             "  - add_tags:\n"
                             "      tags: [call]\n"
                             "processors:\n"
                             "  - add_tags:\n"
                             "      tags: [global]\n"
                             "      when.has_fields: [agent.name]\n",
                             messages=True, calls=True)
        msgs = [e for e in events if e.get("type") == "sip"]
        calls = [e for e in events if e.get("type") != "sip"]
        self.assertTrue(msgs and calls)
        for e in msgs:
            self.assertEqual(e["tags"], ["msg-first", "global"])
        for e in calls:
            self.assertEqual(e["tags"], ["call", "global"])

    def test_network_and_or_conditions(self):
        events = self.replay("processors:\n"
                             "  - add_fields:\n"
                             "      target: ''\n"
                             "      fields: {scope: internal}\n"
                             "      when:\n"
                             "        or:\n"
                             "          - network: {source.ip: private}\n"
                             "          - network: {source.ip: loopback}\n"
                             "  - add_fields:\n"
                             "      target: ''\n"
                             "      fields: {big: true}\n"
                             "      when.range.sip.code.gte: 400\n")
        self.assertTrue(events)
        for e in events:
            ip = e["source"]["ip"]
            internal = ip.startswith(("10.", "192.168.", "127.")) or \
                any(ip.startswith(f"172.{n}.") for n in range(16, 32))
            self.assertEqual(e.get("scope") == "internal", internal, ip)
            self.assertEqual(e.get("big") is True, e["sip"].get("code", 0) >= 400, e["sip"])

    def test_add_host_metadata_and_locale(self):
        events = self.replay("processors:\n  - add_host_metadata: ~\n  - add_locale: ~\n")
        self.assertTrue(events)
        e = events[0]
        self.assertIn("hostname", e["host"])
        self.assertEqual(e["host"]["os"]["type"], "linux")
        self.assertRegex(e["event"]["timezone"], r"^[+-]\d\d:\d\d$")

    def test_unknown_processor_is_a_config_error(self):
        self.write_config("sipbeat.yml", self.file_output(
            "processors:\n  - drop_evnt:\n      when.equals.sip.method: INVITE\n"))
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        self.assertIn("drop_evnt", r.stderr)
        self.assertIn("sipbeat.yml", r.stderr)

    def test_bad_condition_is_a_config_error(self):
        self.write_config("sipbeat.yml", self.file_output(
            "sipbeat.messages.processors:\n  - drop_event:\n      when.regexp.sip.method: '('\n"))
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        self.assertIn("sipbeat.messages.processors", r.stderr)


if __name__ == "__main__":
    unittest.main()
