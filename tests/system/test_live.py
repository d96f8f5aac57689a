# SPDX-License-Identifier: Apache-2.0
"""sipbeat against real peers on 127.0.0.1 (issue 3): live capture on `lo` while two SIPp
instances make calls over UDP and over TCP; Kamailio mirroring HEPv3 to sipbeat's collector;
sngrep replaying a pcap as HEP3; sipbeat's HEPv3 mirror feeding a second sipbeat.
Every peer is started and stopped by the test, bounded in time."""

import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import PCAP_DIR, SOURCE_DIR, SipbeatTestCase, read

SHARED = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared"))
LAB = os.path.join(SHARED, "lab")
PEER_TIMEOUT = 60


def port_free(port, kind):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def sipp_counts(screen_path):
    """Messages per SIPp scenario line (name → messages + retransmissions), from the
    -trace_screen file SIPp writes at exit (lab/tools/sipp_screen_summary.py reads it the
    same way)."""
    text = read(screen_path).split("----------------------------- Statistics Screen")[0]
    lines = text.splitlines()
    head = max(i for i, l in enumerate(lines) if "Messages  Retrans" in l)
    h = lines[head]
    cols = [h.index(w) for w in ("Messages", "Retrans", "Timeout", "Unexpected")] + [10 ** 6]
    counts = collections.Counter()
    for line in lines[head + 1:]:
        m = (re.match(r"\s*(\S+)\s+(---------->|<----------)", line)
             or re.match(r"\s*(?:---------->|<----------)\s+(\S+)", line))
        if not m:
            continue
        vals = [line[cols[i]:cols[i + 1]].strip() for i in range(2)]
        counts[m.group(1)] += sum(int(v) for v in vals if v.isdigit())
    return +counts


NO_LAB = f"{LAB} not found: the shared lab (SIPp scenarios, Kamailio config) is not beside the repository"


@unittest.skipUnless(os.path.isdir(LAB), NO_LAB)
@unittest.skipUnless(os.geteuid() == 0, "live capture needs root (CAP_NET_RAW)")
@unittest.skipUnless(shutil.which("sipp"), "SIPp (sip-tester) is not installed")
class LiveCaptureWithSipp(SipbeatTestCase):
    UAS_PORT = 15070
    UAC_PORT = 15080
    CALLS = 12

    def start_capture(self):
        self.write_config("sipbeat.yml",
                          f"sipbeat.iface: lo\nsipbeat.ports: [{self.UAS_PORT}, {self.UAC_PORT}]\n"
                          "sipbeat.event_types_blst: []\nsipbeat.max_blocked_timeout: 50ms\n"
                          "queue.mem.flush.timeout: 10ms\n"
                          "output.file: {path: \"${path.data}/events\"}\n")
        self.log = os.path.join(self.home, "sipbeat.log")
        proc = subprocess.Popen([os.environ["SIPBEAT_BIN"], "--path.home", self.home, "-e"],
                                stdout=subprocess.DEVNULL, stderr=open(self.log, "w"),
                                stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill, proc)
        self.wait_for(lambda: "Capturing on lo" in read(self.log), "live capture to start")
        return proc

    def run_sipp_pair(self, transport_args):
        for port in (self.UAS_PORT, self.UAC_PORT):
            if not port_free(port, socket.SOCK_DGRAM):
                self.skipTest(f"port {port} is in use")
        work = tempfile.mkdtemp(prefix="sipp-", dir=self.home)
        uas = subprocess.Popen(
            ["sipp", "-sf", os.path.join(LAB, "sipp", "uas_answer.xml"), "-i", "127.0.0.1",
             "-p", str(self.UAS_PORT), "-m", str(self.CALLS), "-nostdin", "-timeout", "40s",
             "-trace_screen"] + transport_args,
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self._kill, uas)
        time.sleep(0.3)
        uac = subprocess.run(
            ["sipp", "-sf", os.path.join(LAB, "sipp", "uac_call_bye.xml"),
             f"127.0.0.1:{self.UAS_PORT}", "-i", "127.0.0.1", "-p", str(self.UAC_PORT),
             "-m", str(self.CALLS), "-r", "20", "-d", "100", "-nostdin", "-timeout", "40s",
             "-trace_screen"] + transport_args,
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=PEER_TIMEOUT)
        self.assertEqual(uac.returncode, 0, "SIPp UAC failed")
        uas.wait(timeout=PEER_TIMEOUT)
        screens = [os.path.join(work, f) for f in os.listdir(work) if f.endswith("_screen.log")]
        uac_screen = next(s for s in screens if "uac" in os.path.basename(s))
        return sipp_counts(uac_screen)

    def check(self, transport, transport_args):
        proc = self.start_capture()
        want = self.run_sipp_pair(transport_args)
        time.sleep(0.5)  # the last packets reach libpcap
        code, _, _ = self.stop(proc)
        self.assertEqual(code, 0, read(self.log)[-2000:])
        events = [e for e in self.events() if e["type"] == "sip"]
        got = collections.Counter(
            e["sip"]["method"] if e["sip"]["type"] == "request" else str(e["sip"]["code"])
            for e in events)
        # SIPp counts each message once at the UAC: what it sent and what it received.
        self.assertEqual(got, want)
        self.assertEqual({e["network"]["transport"] for e in events}, {transport})
        self.assertEqual(len({e["sip"]["call_id"] for e in events}), self.CALLS)

    def test_calls_over_udp(self):
        self.check("udp", [])

    def test_calls_over_tcp(self):
        self.check("tcp", ["-t", "t1"])


@unittest.skipUnless(os.path.isdir(LAB), NO_LAB)
@unittest.skipUnless(shutil.which("kamailio"), "Kamailio is not installed")
@unittest.skipUnless(shutil.which("sipp"), "SIPp (sip-tester) is not installed")
class KamailioHep(SipbeatTestCase):
    """Kamailio (lab/kamailio-hep.cfg) mirrors every message it handles as HEPv3 to
    127.0.0.1:9060, where sipbeat's collector listens."""

    OPTIONS = 8

    def test_every_message_kamailio_handled(self):
        for port, kind in ((5060, socket.SOCK_DGRAM), (9060, socket.SOCK_DGRAM),
                           (15089, socket.SOCK_DGRAM)):
            if not port_free(port, kind):
                self.skipTest(f"port {port} is in use")
        self.write_config("sipbeat.yml",
                          "sipbeat.hep.listen_udp: 127.0.0.1:9060\nsipbeat.event_types_blst: []\n"
                          "queue.mem.flush.timeout: 10ms\noutput.file: {path: \"${path.data}/events\"}\n")
        log = os.path.join(self.home, "sipbeat.log")
        beat = subprocess.Popen([os.environ["SIPBEAT_BIN"], "--path.home", self.home, "-e"],
                                stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                                stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill, beat)
        self.wait_for(lambda: "HEP collector listening" in read(log), "the collector")
        run = tempfile.mkdtemp(prefix="kam-", dir=self.home)
        kam = subprocess.Popen(["kamailio", "-f", os.path.join(LAB, "kamailio-hep.cfg"), "-DD",
                                "-E", "-Y", run, "-m", "64", "-M", "8"],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(run, "log"), "w"),
                               cwd=run)
        self.addCleanup(self._kill, kam)
        time.sleep(2)
        self.assertIsNone(kam.poll(), read(os.path.join(run, "log"))[-2000:])
        sipp = subprocess.run(
            ["sipp", "-sf", os.path.join(LAB, "sipp", "options.xml"), "127.0.0.1:5060", "-i",
             "127.0.0.1", "-p", "15089", "-m", str(self.OPTIONS), "-r", "20", "-nostdin",
             "-timeout", "30s"], cwd=run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=PEER_TIMEOUT)
        self.assertEqual(sipp.returncode, 0)
        self.wait_for(lambda: len([e for e in self.events() if e["type"] == "sip"])
                      >= 2 * self.OPTIONS, "the HEP copies", timeout=20)
        kam.send_signal(signal.SIGTERM)
        kam.wait(timeout=PEER_TIMEOUT)
        code, _, _ = self.stop(beat)
        self.assertEqual(code, 0)
        events = [e for e in self.events() if e["type"] == "sip"]
        got = collections.Counter(
            e["sip"]["method"] if e["sip"]["type"] == "request" else str(e["sip"]["code"])
            for e in events)
        self.assertEqual(got, {"OPTIONS": self.OPTIONS, "200": self.OPTIONS})
        for e in events:
            self.assertEqual(e["sipbeat"]["via"], "hep")
            self.assertEqual(e["sipbeat"]["hep"]["capture_id"], 2001)
            self.assertEqual(e["source"]["ip"], "127.0.0.1")
            self.assertIn(5060, (e["source"]["port"], e["destination"]["port"]))


class HepReplayAndMirror(SipbeatTestCase):
    def collector(self, listen):
        self.write_config("collector.yml",
                          f"sipbeat.hep.{listen}\nsipbeat.event_types_blst: []\n"
                          "queue.mem.flush.timeout: 10ms\n"
                          "output.file: {path: \"${path.data}/collected\"}\n")
        log = os.path.join(self.home, "collector.log")
        proc = subprocess.Popen([os.environ["SIPBEAT_BIN"], "--path.home", self.home,
                                 "--path.data", os.path.join(self.home, "cdata"),
                                 "-c", "collector.yml", "-e"],
                                stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                                stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill, proc)
        self.wait_for(lambda: "HEP collector listening" in read(log), "the collector")
        return proc

    def collected(self):
        return [e for e in self.events(sub="cdata/collected") if e["type"] == "sip"]

    @staticmethod
    def summary(events):
        return collections.Counter(
            (e["sip"]["call_id"],
             e["sip"]["method"] if e["sip"]["type"] == "request" else str(e["sip"]["code"]),
             e["sip"]["cseq"]["code"], e["source"]["port"], e["destination"]["port"],
             e["sip"]["timestamp"][:26])  # HEP carries microseconds
            for e in events)

    def test_mirror_into_second_sipbeat_over_tcp(self):
        port = 19061
        if not port_free(port, socket.SOCK_STREAM):
            self.skipTest(f"port {port} is in use")
        collector = self.collector(f"listen_tcp: 127.0.0.1:{port}")
        self.write_config("sipbeat.yml",
                          f"sipbeat.hep_mirror.hosts: ['tcp://127.0.0.1:{port}']\n"
                          "sipbeat.hep_mirror.capture_id: 4242\n"
                          "sipbeat.event_types_blst: []\n"
                          "output.file: {path: \"${path.data}/events\"}\n")
        r = self.run_beat("-I", os.path.join(PCAP_DIR, "lab-mixed-tcp.pcap"), "-e")
        self.assertExitsWith(r, 0)
        wire = [e for e in self.events() if e["type"] == "sip" and e["sipbeat"]["via"] == "wire"]
        self.wait_for(lambda: len(self.collected()) >= len(wire), "the mirrored copies", 30)
        code, _, _ = self.stop(collector)
        self.assertEqual(code, 0)
        got = self.collected()
        self.assertEqual(self.summary(got), self.summary(wire))
        self.assertEqual({e["sipbeat"]["hep"]["capture_id"] for e in got}, {4242})

    @unittest.skipUnless(shutil.which("sngrep"), "sngrep is not installed")
    def test_sngrep_replays_pcap_as_hep3(self):
        port = 19062
        if not port_free(port, socket.SOCK_DGRAM):
            self.skipTest(f"port {port} is in use")
        collector = self.collector(f"listen_udp: 127.0.0.1:{port}")
        # sngrep sends what it parses as SIP; the lab capture's own HEP copies on 9060 are
        # not SIP to it, so the plain messages are what arrives.
        pcap = os.path.join(PCAP_DIR, "lab-mixed-tcp.pcap")
        subprocess.run(["sngrep", "-I", pcap, "-H", f"udp:127.0.0.1:{port}", "-N", "-q"],
                       timeout=PEER_TIMEOUT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, env=dict(os.environ, HOME=self.home))
        self.write_config("sipbeat.yml", "sipbeat.event_types_blst: []\n"
                          "output.file: {path: \"${path.data}/events\"}\n")
        self.assertExitsWith(self.run_beat("-I", pcap), 0)
        wire = [e for e in self.events() if e["type"] == "sip" and e["sipbeat"]["via"] == "wire"]
        self.wait_for(lambda: len(self.collected()) >= len(wire), "sngrep's HEP3 packets", 30)
        code, _, _ = self.stop(collector)
        self.assertEqual(code, 0)
        got = self.collected()
        want = collections.Counter(
            (e["sip"]["call_id"], e["sip"].get("method", str(e["sip"].get("code"))))
            for e in wire)
        self.assertEqual(collections.Counter(
            (e["sip"]["call_id"], e["sip"].get("method", str(e["sip"].get("code"))))
            for e in got), want)
