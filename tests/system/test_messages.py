# SPDX-License-Identifier: Apache-2.0
"""Message events (packetbeat `type: sip`) from real captures (issue 3): counts against the
lab ground truth, a differential test against tshark's SIP dissector, and every field
declared in fields.yml."""

import collections
import json
import os
import shutil
import subprocess
import sys
import unittest

from harness import PCAP_DIR, SOURCE_DIR, SipbeatTestCase, read

SHARED = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared"))
CORPUS = os.path.join(SHARED, "corpus")


def corpus_captures_with_sip():
    """Captures of ../shared/corpus whose INDEX.tsv row says they hold SIP messages."""
    index = os.path.join(CORPUS, "INDEX.tsv")
    if not os.path.exists(index):
        return []
    out = []
    for line in read(index).splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 4 and cols[3].isdigit() and int(cols[3]) > 0:
            out.append(cols[0])
    return out


class MessageEventsCase(SipbeatTestCase):
    def replay(self, pcap_path, extra=""):
        # Several replays may share this home: start each from an empty output directory.
        shutil.rmtree(os.path.join(self.home, "data", "events"), ignore_errors=True)
        self.write_config("sipbeat.yml",
                          "sipbeat.event_types_blst: []\n"
                          "sipbeat.calls.enabled: false\n"
                          "output.file:\n  path: ${path.data}/events\n  filename: sipbeat\n"
                          "  rotate_every_kb: 1048576\n" + extra)
        r = self.run_beat("-I", pcap_path, "-e", timeout=300)
        self.assertExitsWith(r, 0)
        return self.events()

    @staticmethod
    def key(ev):
        sip = ev["sip"]
        if sip["type"] == "request":
            return sip["method"]
        return f'{sip["code"]} {sip["cseq"]["method"]}'


class LabCaptures(MessageEventsCase):
    """Each lab capture's messages by method and status equal the recorded ground truth,
    for the plain SIP on the wire and for the HEPv3 copies Kamailio sent to port 9060."""

    def check_capture(self, name, transport, directory=PCAP_DIR):
        expected = json.loads(read(os.path.join(directory, name + ".expected.json")))
        events = self.replay(os.path.join(directory, name + ".pcap"))
        sip = [e for e in events if e["type"] == "sip"]
        wire = [e for e in sip if e["sipbeat"]["via"] == "wire"]
        hep = [e for e in sip if e["sipbeat"]["via"] == "hep"]
        want = expected["sip_messages"]
        self.assertEqual(len(wire), want["total"])
        self.assertEqual(dict(collections.Counter(e["sip"]["method"] for e in wire
                                                  if e["sip"]["type"] == "request")),
                         want["by_method"])
        self.assertEqual(dict(collections.Counter(
            f'{e["sip"]["code"]} {e["sip"]["cseq"]["method"]}' for e in wire
            if e["sip"]["type"] == "response")), want["by_status_cseq"])
        self.assertEqual(len({e["sip"]["call_id"] for e in wire}), want["call_ids"])
        self.assertEqual({e["network"]["transport"] for e in wire}, {transport})
        want_hep = expected["hep_messages"]
        self.assertEqual(len(hep), want_hep["total"])
        self.assertEqual(dict(collections.Counter(e["sip"]["method"] for e in hep
                                                  if e["sip"]["type"] == "request")),
                         want_hep["by_method"])
        self.assertEqual({e["sipbeat"]["hep"]["capture_id"] for e in hep} or {2001}, {2001})
        # Nothing else came out: no parse errors, no probes on these clean captures.
        self.assertEqual(collections.Counter(e["type"] for e in events
                                             if e["type"] not in ("sip", "counters")), {})
        # Time-ordered at packet precision: sip.timestamp never goes backwards per source.
        for e in sip:
            self.assertRegex(e["sip"]["timestamp"], r"\.\d{9}Z$")
        return events

    def test_mixed_udp(self):
        self.check_capture("lab-mixed-udp", "udp")

    def test_mixed_tcp(self):
        self.check_capture("lab-mixed-tcp", "tcp")

    def test_shared_lab_captures(self):
        """The lab captures not bundled here, read from ../shared/corpus/lab."""
        lab = os.path.join(CORPUS, "lab")
        if not os.path.isdir(lab):
            self.skipTest(f"{lab} not found: the shared corpus is not beside the repository")
        for name in ("lab-calls-direct", "lab-authflood"):
            with self.subTest(capture=name):
                self.check_capture(name, "udp", lab)

    def test_every_field_is_declared(self):
        self.replay(os.path.join(PCAP_DIR, "lab-mixed-udp.pcap"))
        self.assertFieldsDeclared()

    def test_message_event_shape(self):
        events = self.replay(os.path.join(PCAP_DIR, "lab-mixed-udp.pcap"))
        register = next(e for e in events if e["type"] == "sip"
                        and e["sip"].get("method") == "REGISTER"
                        and "auth" in e["sip"] and e["sipbeat"]["via"] == "wire")
        self.assertEqual(register["event"]["action"], "sip-register")
        self.assertEqual(register["event"]["category"], ["network", "authentication"])
        self.assertEqual(register["event"]["type"], ["info", "protocol"])
        self.assertEqual(register["event"]["dataset"], "sip")
        self.assertEqual(register["sip"]["auth"]["scheme"], "Digest")
        self.assertIn(register["user"]["name"], register["related"]["user"])
        self.assertTrue(register["event"]["original"].startswith("REGISTER sip:"))
        self.assertEqual(register["source"]["ip"], "127.0.0.1")
        self.assertEqual(register["client"]["ip"], register["source"]["ip"])
        self.assertEqual(register["client"]["port"], register["source"]["port"])
        self.assertEqual(register["server"]["port"], register["destination"]["port"])
        self.assertTrue(register["network"]["community_id"].startswith("1:"))
        # Contact comes from the Contact header (packetbeat filled it from To).
        self.assertIn("contact", register["sip"])
        invite = next(e for e in events if e["type"] == "sip"
                      and e["sip"].get("method") == "INVITE" and "sdp" in e["sip"])
        self.assertIn("audio", invite["sip"]["sdp"]["media"]["type"])
        self.assertTrue(invite["sip"]["sdp"]["body"]["original"].startswith("v=0"))
        failure = next(e for e in events if e["type"] == "sip" and e["sip"].get("code") == 486)
        self.assertEqual(failure["status"], "Error")
        self.assertEqual(failure["event"]["outcome"], "failure")
        self.assertEqual(failure["event"]["action"], "sip-invite")

    def test_switches(self):
        events = self.replay(os.path.join(PCAP_DIR, "lab-mixed-udp.pcap"),
                             "sipbeat.keep_original: false\nsipbeat.parse_body: false\n"
                             "sipbeat.parse_authorization: false\n")
        sip = [e for e in events if e["type"] == "sip"]
        self.assertTrue(sip)
        for e in sip:
            self.assertNotIn("original", e["event"])
            self.assertNotIn("sdp", e["sip"])
            self.assertNotIn("auth", e["sip"])


def tshark_messages(pcap):
    """(Call-ID, method or status, CSeq number, CSeq method) of every SIP message tshark sees,
    excluding HEP's port (tshark 4.0 has no HEP dissector)."""
    fields = ["sip.Call-ID", "sip.Method", "sip.Status-Code", "sip.CSeq.seq", "sip.CSeq.method"]
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "sip && !(udp.port == 9060) && !(tcp.port == 9060)",
           "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True,
                         errors="replace").stdout
    msgs = []
    for line in out.splitlines():
        cols = [c.split("\x1f") if c else [] for c in line.split("\t")]
        call_ids, methods, codes, seqs, cmethods = cols
        # One frame may hold several messages (TCP): the columns line up per message, with
        # Method for requests and Status-Code for responses interleaved in order.
        kinds = collections.deque(methods)
        status = collections.deque(codes)
        for i, cid in enumerate(call_ids):
            cseq_method = cmethods[i] if i < len(cmethods) else ""
            seq = seqs[i] if i < len(seqs) else ""
            if kinds and (not status or cseq_method == kinds[0]):
                what = kinds.popleft()
            elif status:
                what = status.popleft()
            else:
                what = "?"
            msgs.append((cid, what, seq, cseq_method))
    return msgs


@unittest.skipUnless(shutil.which("tshark"), "tshark is not installed (scripts/install-deps.sh "
                     "installs it)")
class DifferentialTshark(MessageEventsCase):
    """For every SIP message of every capture, sipbeat and tshark agree on the count,
    Call-ID, method, status code and CSeq."""

    # Messages tshark reports that are not whole SIP messages, with the reason; sipbeat must
    # report each of them as a parse-error event with its Call-ID instead.
    TSHARK_ONLY = {
        "pcapplusplus/sip_reqs.pcap": {
            ("1-4247@10.0.2.20", "BYE", "99791795", "BYE"):
                "the datagram ends inside a header line ('Content-Lengt'): tshark shows the "
                "fields it read and flags the frame [Malformed Packet]",
        },
    }
    # Settings a capture needs, with the reason.
    SETTINGS = {
        "suricata-verify/sip-body-large__sip-body-large.pcap":
            # A ~70 KB INVITE over TCP; sipcmbeat's default tcp_msg_buf_max is 16 KiB and
            # larger messages are counted (decode.anomaly.sip_message_too_large), not lost
            # silently. tshark has no such limit.
            "sipbeat.tcp_msg_buf_max: 262144\n",
    }

    def compare(self, pcap, name=None):
        events = self.replay(pcap, self.SETTINGS.get(name, ""))
        ours = collections.Counter(
            (e["sip"]["call_id"],
             e["sip"]["method"] if e["sip"]["type"] == "request" else str(e["sip"]["code"]),
             str(e["sip"]["cseq"]["code"]), e["sip"]["cseq"]["method"])
            for e in events if e["type"] == "sip" and e["sipbeat"]["via"] == "wire")
        theirs = collections.Counter(tshark_messages(pcap))
        parse_errors = {e["sip"]["call_id"] for e in events if e["type"] == "parse-error"}
        for msg in self.TSHARK_ONLY.get(name, {}):
            self.assertIn(msg, theirs)
            self.assertIn(msg[0], parse_errors)
            theirs[msg] -= 1
        self.assertEqual(ours - theirs, collections.Counter(), f"{pcap}: only sipbeat")
        self.assertEqual(+(theirs - ours), collections.Counter(), f"{pcap}: only tshark")

    def test_lab_captures(self):
        for name in ("lab-mixed-udp", "lab-mixed-tcp"):
            with self.subTest(capture=name):
                self.compare(os.path.join(PCAP_DIR, name + ".pcap"))

    def test_shared_corpus(self):
        captures = corpus_captures_with_sip()
        if not captures:
            self.skipTest(f"{CORPUS}/INDEX.tsv not found: the shared corpus is not beside "
                          "the repository")
        for rel in captures:
            with self.subTest(capture=rel):
                self.compare(os.path.join(CORPUS, rel), rel)
