# SPDX-License-Identifier: Apache-2.0
"""Call and registration events (sipcmbeat call-start, call-end, call-attempt, auth-failed,
reg-new, reg-del, other-ok ...) from real peers: Kamailio (lab/kamailio-hep.cfg -A WITH_AUTH)
as registrar + proxy with digest auth, SIPp user agents, all on 127.0.0.1 over UDP - a small
version of the lab's gen-mixed.sh flow. Two sipbeat instances watch it at the same time: one
capturing live on `lo` (the SIP ports only, not the HEP port 9060), one collecting the HEPv3
copies Kamailio mirrors to 127.0.0.1:9060. Both must report exactly the events the rules of
../shared/reference/sipcmbeat.md (sections 2 and 4.6) give for the traffic, which the SIPp
counters prove happened as planned. Every peer is started and stopped by the test, bounded in
time: the peers take about 6 s, the whole test about 10 s (about 23 s when the events never
come and the 15 s wait for them runs out).

AuthFloodLive: the event-rate table (sipcmbeat.md section 8) with its DEFAULT limits, on a
wrong-password REGISTER flood from one source (the lab's gen-authflood.sh, 1000 attempts at
500/s), seen by one live sipbeat: which auth-failed events are still published and with which
rate.* fields, and the ev_rate counters. About 5 s.

Run as root (live capture), with UDP ports 5060-5090 and 9060 free:
  SIPBEAT_BIN=build/release/sipbeat python3 -m unittest tests/system/test_calls_live.py -v
"""

import bisect
import calendar
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

# ctest runs this from tests/system; `python3 -m unittest tests/system/test_calls_live.py`
# from the source root needs the folder on the path to find harness.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import port_free  # noqa: E402
from harness import BIN, SOURCE_DIR, SipbeatTestCase, read

SHARED = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared"))
LAB = os.path.join(SHARED, "lab")
SIPP_DIR = os.path.join(LAB, "sipp")
KAM_CFG = os.path.join(LAB, "kamailio-hep.cfg")
PROXY = "127.0.0.1:5060"
HEP_PORT = 9060
PEER_TIMEOUT = 40          # seconds, bound of any single peer run
EVENT_WAIT = 15            # seconds, bound of the wait for the timer-driven events
SETTLE = 2.0               # seconds after the last expected event: > every 1 s state timeout

# --- the plan: user names distinct from the lab CSVs' u1xxx-u3xxx (u7xxx callers, u8xxx
# callees), ports as in the lab's port layout (../shared/lab/README.md)
CALLERS = ["u7001", "u7002"]                  # registered from 5080, the answered-calls UAC port
ANSWER, ANSWER_BYE, BUSY, DECLINE, RING = "u8001", "u8002", "u8003", "u8004", "u8005"
CALLEE_PORT = {ANSWER: 5070, ANSWER_BYE: 5071, BUSY: 5072, DECLINE: 5073, RING: 5074}
UNKNOWN = "u8099"                             # never registered: Kamailio's own 404
BAD_PASSWORDS = [("u7001", "wrongpw"), ("u8009", "Secret")]   # password is "secret" for all
REREGISTERED = CALLERS                        # refreshed with new Call-IDs
UNREGISTERED = [DECLINE, RING]                # Expires: 0 with new Call-IDs, after the calls
N_BYE, N_WBYE, N_486, N_603, N_404, N_CANCEL, N_NOANSWER, N_OPTIONS = 3, 2, 2, 1, 1, 2, 1, 3
FR_MS = 1000               # X-Test-FR-Inv: Kamailio's no-answer timer for the 408-then-CANCEL call
UAC_PORT = {"bye": 5080, "waitbye": 5081, "486": 5082, "603": 5083, "404": 5084,
            "cancel": 5085, "noanswer": 5086, "badpw": 5088, "options": 5089}
SIP_PORTS = [5060] + sorted(CALLEE_PORT.values()) + sorted(UAC_PORT.values())
N_REG = len(CALLERS) + len(CALLEE_PORT)      # 7 bindings

# Expected events, identical for both instances (the live one sees each relayed message on the
# caller leg and on the callee leg, the HEP one sees every message Kamailio received or sent,
# plus a second copy of each ACK to a 407: same Call-ID, tags and CSeq = retransmissions, which
# never add events, sipcmbeat.md 2.1 "each entry can emit a given type only once" and 2.3/2.4).
EXPECTED_TYPES = {
    # 2.4 "2xx in first invite/early dialog: INVITE -> established + call-start"; the 407 in
    # front is a retry after a challenge (2.3 "INVITE without To-tag in invite negative reply ->
    # first invite", 2.7 re-use of the negative-reply entry), no auth-failed (2.5 "a retry that
    # succeeds ... produces no auth-failed", 2.6 #2): 3 caller-BYE + 2 callee-BYE calls.
    "call-start": N_BYE + N_WBYE,
    # 2.3 "BYE ... -> bye detected and call-end is generated immediately on the BYE request",
    # de-duplicated on the BYE 200 and on the timeout (2.1): one per answered call.
    "call-end": N_BYE + N_WBYE,
    # 2.4 final >= 300 -> invite negative reply, 2.5 call-attempt at the inv_neg timeout (2.6 #6):
    # 2 x 486, 1 x 603, 1 x 404 (Kamailio's own stateful 404 for a user never registered);
    # 2.3 CANCEL -> canceled, 2.5 call-attempt at the inv_canceled timeout (2.6 #5): 2 calls
    # cancelled by the caller + 1 call Kamailio ended with 408 to the caller then CANCEL to the
    # callee; 2.7 "call-attempt is reported once per Call-ID".
    "call-attempt": N_486 + N_603 + N_404 + N_CANCEL + N_NOANSWER,
    # 2.4 "401/407: previous final status of that direction is the same 401/407 (the retried
    # request was challenged again) -> auth-failed immediately" (2.6 #4): REGISTER -> 401 ->
    # REGISTER + wrong digest -> 401, once per wrong-password attempt.
    "auth-failed": len(BAD_PASSWORDS),
    # 4.6 "stored Contact found among the reply's Contacts, expires > 0 -> reg-new" (2.6 #8: the
    # 401 before the 200 changes nothing): one per binding; the re-registrations of 2 bindings
    # with NEW Call-IDs are silent (4.6 binding cache: "the same (AOR, contact) is already bound
    # by another Call-ID ... re-registration with a new Call-ID is silent").
    "reg-new": N_REG,
    # 4.6 "not found among the parsed reply Contacts -> reg-del": the un-REGISTER (Expires: 0)
    # has a new Call-ID and Kamailio's 200 to it carries no Contact; one per un-registered binding.
    "reg-del": len(UNREGISTERED),
    # 2.5 "non-invite finished, other method -> other-ok" at the non_inv_fin timeout (2.6 #10):
    # OPTIONS -> "200 Keepalive" from Kamailio.
    "other-ok": N_OPTIONS,
    # 2.5/4.6 reg-expired only when a binding's timer (expires 3600 + reg_exp_delta 30 s) runs
    # out; a live capture stopped with SIGTERM does not force the remaining entries to expire.
    "reg-expired": 0,
    # 2.5: no non-INVITE transaction was rejected with a non-auth status or left unanswered.
    "other-failed": 0,
    "other-timeout": 0,
}
EXPECTED_ATTEMPT_STATUS = {
    486: N_486,                    # 2.4/2.5: the final status of the rejected INVITE
    603: N_603,                    # idem
    404: N_404,                    # idem, Kamailio's 404 "Not Found"
    # corpus/lab/README.md "Settled by the original engine", difference 1: sipbeat reports the
    # INVITE's final 487 for calls the caller cancelled (2.6 #5), and 487 for the calls the proxy
    # ended with 408 then CANCEL (same outcome in the original engine).
    487: N_CANCEL + N_NOANSWER,
}
EXPECTED_ORIGINATOR = {
    "caller-terminated": N_BYE,    # 3.2 call-end sip.originator: BYE from the caller
    "callee-terminated": N_WBYE,   # 2.3 "a BYE from the callee side sets Callee_Terminated"
}


def udp_bound(port):
    """True when some process has a UDP socket bound to 127.0.0.1:port (read from
    /proc/net/udp, so the check itself never holds the port)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == want for line in f.readlines()[1:])
    except OSError:
        return False


def field(event, dotted):
    """A nested field of an event by its dotted name, None when absent."""
    for part in dotted.split("."):
        if not isinstance(event, dict):
            return None
        event = event.get(part)
    return event


def popen_logged(cmd, log, stdout_too=True, **kw):
    """Popen with stderr (and stdout unless stdout_too is false) written to the file `log`."""
    with open(log, "w") as f:
        return subprocess.Popen(cmd, stdout=f if stdout_too else subprocess.DEVNULL, stderr=f,
                                stdin=subprocess.DEVNULL, **kw)


def sipp_screen(path):
    """Per-message counters of a SIPp -trace_screen file (what SIPp prints at exit), as in
    ../shared/lab/tools/sipp_screen_summary.py: {">INVITE": messages sent, "<407": messages
    received, ...} summed over the scenario lines, plus totals of the other columns."""
    text = read(path)
    lines = text.split("----------------------------- Statistics Screen")[0].splitlines()
    head = max(i for i, line in enumerate(lines) if "Messages  Retrans" in line)
    h = lines[head]
    cols = [h.index(w) for w in ("Messages", "Retrans", "Timeout", "Unexpected")] + [10 ** 6]
    msgs, other = collections.Counter(), collections.Counter()
    for line in lines[head + 1:]:
        m1 = re.match(r"\s*(\S+)\s+(---------->|<----------)", line)
        m2 = re.match(r"\s*(---------->|<----------)\s+(\S+)", line)
        if m1:
            name, sent = m1.group(1), m1.group(2).startswith("-")
        elif m2:
            name, sent = m2.group(2), m2.group(1).startswith("<")
        else:
            continue
        v = [line[cols[i]:cols[i + 1]].strip() for i in range(4)]
        v = [int(x) if x.isdigit() else 0 for x in v]
        msgs[(">" if sent else "<") + name] += v[0]
        other["retrans"] += v[1]
        other["timeout"] += v[2]
        other["unexpected"] += v[3]
    found = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    other["successful"] = int(found[-1]) if found else -1
    found = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    other["failed"] = int(found[-1]) if found else -1
    return msgs, other


NO_LAB = f"{LAB} not found: the shared lab (SIPp scenarios, Kamailio config) is not beside the repository"


@unittest.skipUnless(os.path.isdir(LAB), NO_LAB)
@unittest.skipUnless(os.geteuid() == 0, "live capture needs root (CAP_NET_RAW)")
@unittest.skipUnless(shutil.which("sipp"), "SIPp (sip-tester) is not installed")
@unittest.skipUnless(shutil.which("kamailio"), "Kamailio is not installed")
class LivePeers(SipbeatTestCase):
    """Kamailio, SIPp and live sipbeat helpers of the tests below (the skips above are
    inherited by them)."""

    # ---------------------------------------------------------------- peers
    def setUp(self):
        super().setUp()
        for port in SIP_PORTS + [HEP_PORT]:
            if not port_free(port, socket.SOCK_DGRAM):
                self.skipTest(f"UDP port {port} is in use (the test needs {SIP_PORTS} and "
                              f"{HEP_PORT} free)")
        if not port_free(5060, socket.SOCK_STREAM):
            self.skipTest("TCP port 5060 is in use")
        self.work = tempfile.mkdtemp(prefix="peers-", dir=self.home)
        self.runs = {}      # name -> {"rc", "msgs", "other", "call_ids", "dir"}

    def csv(self, name, rows):
        path = os.path.join(self.work, name + ".csv")
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n" + "".join(";".join(r) + ";\n" for r in rows))
        return path

    @staticmethod
    def auth(user, password="secret"):
        return f"[authentication username={user} password={password}]"

    def sipp(self, name, scenario, port, calls, *args, remote=PROXY):
        """Start one SIPp run (its files in work/<name>/); returns the Popen."""
        d = os.path.join(self.work, name)
        os.mkdir(d)
        cmd = (["sipp", "-sf", os.path.join(SIPP_DIR, scenario)] + ([remote] if remote else [])
               + ["-i", "127.0.0.1", "-p", str(port), "-m", str(calls), "-nostdin",
                  "-timeout", f"{PEER_TIMEOUT - 5}s",
                  "-trace_screen", "-screen_file", os.path.join(d, "screen"),
                  "-trace_msg", "-message_file", os.path.join(d, "messages"),
                  "-trace_err", "-error_file", os.path.join(d, "errors")] + list(args))
        with open(os.path.join(d, "cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        proc = popen_logged(cmd, os.path.join(d, "stdout"), cwd=d)
        self.addCleanup(self._kill, proc)
        proc.run_name = name
        return proc

    def finish(self, *procs):
        """Wait for SIPp runs, record exit code, screen counters and Call-IDs of each."""
        deadline = time.monotonic() + PEER_TIMEOUT
        for proc in procs:
            name = proc.run_name
            try:
                rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "killed (timeout)"
            d = os.path.join(self.work, name)
            screen = os.path.join(d, "screen")
            msgs, other = (sipp_screen(screen) if os.path.exists(screen)
                           else (collections.Counter(), collections.Counter()))
            log = os.path.join(d, "messages")
            call_ids = set(re.findall(r"^Call-ID:\s*(\S+)", read(log), re.M | re.I)) \
                if os.path.exists(log) else set()
            self.runs[name] = {"rc": rc, "msgs": msgs, "other": other, "call_ids": call_ids,
                               "dir": d}

    def check_run(self, name, rc, calls, want, unexpected=0):
        """The peers did what the plan says: exit code, every expected message line, no
        timeout, no unexpected message except the planned ones, every call done."""
        r = self.runs[name]
        where = (f"SIPp run {name} (the PEERS misbehaved, not sipbeat): see {r['dir']}\n"
                 + read(os.path.join(r["dir"], "stdout"))[-1500:])
        self.assertEqual(r["rc"], rc, "exit code of " + where)
        got = {k: r["msgs"].get(k, 0) for k in want}
        self.assertEqual(got, want, "message counters of " + where)
        self.assertEqual(r["other"]["timeout"], 0, "timeouts in " + where)
        self.assertEqual(r["other"]["unexpected"], unexpected, "unexpected messages in " + where)
        ok = calls if rc == 0 else 0
        self.assertEqual((r["other"]["successful"], r["other"]["failed"]), (ok, calls - ok),
                         "successful/failed calls of " + where)
        if not name.startswith("uas-"):
            self.assertEqual(len(r["call_ids"]), calls, "Call-IDs of " + where)

    def start_kamailio(self):
        run = os.path.join(self.work, "kamailio")
        os.mkdir(run)
        self.kam_log = os.path.join(run, "kamailio.log")
        # own session, so that the cleanup can end its children too if the main process hangs
        kam = popen_logged(["kamailio", "-f", KAM_CFG, "-DD", "-E", "-Y", run, "-m", "64",
                            "-M", "8", "-A", "WITH_AUTH"], self.kam_log, cwd=run,
                           start_new_session=True)
        self.addCleanup(self.stop_kamailio, kam)
        self.kamcmd = (["kamcmd", "-s", f"unix:{run}/kamailio_ctl"]
                       if shutil.which("kamcmd") else None)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self.assertIsNone(kam.poll(), "Kamailio exited:\n" + read(self.kam_log)[-2000:])
            if udp_bound(5060) and (self.kamcmd is None or subprocess.run(
                    self.kamcmd + ["core.version"], capture_output=True,
                    timeout=5).returncode == 0):
                return kam
            time.sleep(0.1)
        self.fail("Kamailio did not start:\n" + read(self.kam_log)[-2000:])

    @staticmethod
    def stop_kamailio(kam):
        if kam.poll() is None:
            kam.send_signal(signal.SIGTERM)
            try:
                kam.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(kam.pid, signal.SIGKILL)
                kam.wait(timeout=15)

    def aors(self):
        """Kamailio's usrloc AoRs (None without kamcmd)."""
        if self.kamcmd is None:
            return None
        out = subprocess.run(self.kamcmd + ["ul.dump", "brief"], capture_output=True, text=True,
                             timeout=10).stdout
        return sorted(re.findall(r"AoR:\s*(\S+)", out))

    # ---------------------------------------------------------------- sipbeat
    COMMON = ("sipbeat.messages.enabled: false\n"
              "sipbeat.event_types_blst: []\n"
              "sipbeat.evr_limits: [0, 0, 0]\n"
              "sipbeat.calls_timeouts: {inv_neg: 1s, inv_canceled: 1s, non_inv_fin: 1s, "
              "non_inv_neg: 1s, inv_bye_repl: 1s}\n"
              "queue.mem.flush.timeout: 10ms\n"
              "output.file: {path: \"${path.data}/events\"}\n")

    INSTANCES = {
        # live capture: the SIP ports only. Kamailio sends its HEP copies from its SIP
        # socket (5060 → 9060), so a filter on the SIP ports alone would catch them too: the
        # BPF leaves port 9060 out and this instance sees the wire only.
        "live": ("sipbeat.iface: lo\n"
                 f"sipbeat.ports: [{', '.join(map(str, SIP_PORTS))}]\n"
                 f"sipbeat.bpf: \"udp and portrange 5060-5090 and not port {HEP_PORT}\"\n"
                 "sipbeat.max_blocked_timeout: 50ms\n", "Capturing on lo"),
        "hep": (f"sipbeat.hep.listen_udp: 127.0.0.1:{HEP_PORT}\n", "HEP collector listening"),
    }

    def start_sipbeats(self):
        self.beats = {}
        for name, (cfg, ready) in self.INSTANCES.items():
            self.write_config(name + ".yml", cfg + self.COMMON)
            log = os.path.join(self.home, name + ".log")
            proc = popen_logged([BIN, "--path.home", self.home,
                                 "--path.data", os.path.join(self.home, name),
                                 "-c", name + ".yml", "-e"], log, stdout_too=False)
            self.addCleanup(self._kill, proc)
            self.beats[name] = (proc, log)
        for name, (proc, log) in self.beats.items():
            ready = self.INSTANCES[name][1]
            self.wait_for(lambda: ready in read(log) or proc.poll() is not None,
                          f"sipbeat {name} to start", timeout=20)
            self.assertIsNone(proc.poll(), f"sipbeat {name} exited:\n" + read(log)[-2000:])

    def beat_events(self, name):
        return [e for e in self.events(sub=name + "/events") if e.get("type") != "counters"]


class CallEventsLive(LivePeers):

    # ---------------------------------------------------------------- the test
    def test_calls_and_registrations(self):
        t0 = time.monotonic()
        self.start_sipbeats()
        kam = self.start_kamailio()

        # phase 1: registrations, REGISTER -> 401 -> REGISTER+auth -> 200, each group from the
        # port its UA listens on later (the Contact is [local_ip]:[local_port])
        regs = [self.sipp("reg-5080", "register_csv.xml", 5080, len(CALLERS), "-inf",
                          self.csv("reg-5080", [(u, self.auth(u), "3600") for u in CALLERS]))]
        for user, port in CALLEE_PORT.items():
            regs.append(self.sipp(f"reg-{port}", "register_csv.xml", port, 1, "-inf",
                                  self.csv(f"reg-{port}", [(user, self.auth(user), "3600")])))
        self.finish(*regs)
        for p in regs:
            n = len(CALLERS) if p.run_name == "reg-5080" else 1
            self.check_run(p.run_name, 0, n, {">REGISTER": 2 * n, "<401": n, "<200": n})
        all_users = sorted(CALLERS + list(CALLEE_PORT))
        aors = self.aors()
        if aors is not None:
            self.assertEqual([a.split("@")[0] for a in aors], all_users, "Kamailio's bindings")

        # phase 2: re-registrations of the callers (new Call-IDs, same Contacts) and
        # wrong passwords (REGISTER -> 401 -> REGISTER+bad digest -> 401 = failed SIPp call)
        rereg = self.sipp("rereg-5080", "register_csv.xml", 5080, len(REREGISTERED), "-inf",
                          self.csv("rereg-5080", [(u, self.auth(u), "3600") for u in REREGISTERED]))
        badpw = self.sipp("badpw-5088", "register_csv.xml", UAC_PORT["badpw"],
                          len(BAD_PASSWORDS), "-default_behaviors", "all,-bye", "-inf",
                          self.csv("badpw-5088", [(u, self.auth(u, pw), "3600")
                                                  for u, pw in BAD_PASSWORDS]))
        self.finish(rereg, badpw)
        n = len(REREGISTERED)
        self.check_run("rereg-5080", 0, n, {">REGISTER": 2 * n, "<401": n, "<200": n})
        n = len(BAD_PASSWORDS)
        # SIPp books the second 401 as unexpected on its "200" line
        self.check_run("badpw-5088", 1, n, {">REGISTER": 2 * n, "<401": n, "<200": 0},
                       unexpected=n)

        # phase 3: calls, callees (UAS) first, then every caller in parallel
        uas = [self.sipp("uas-5070-answer", "uas_answer.xml", 5070, N_BYE, remote=None),
               self.sipp("uas-5071-answerbye", "uas_answer_bye.xml", 5071, N_WBYE, "-d", "500",
                         remote=None),
               self.sipp("uas-5072-486", "uas_reject_486.xml", 5072, N_486, remote=None),
               self.sipp("uas-5073-603", "uas_reject_603.xml", 5073, N_603, remote=None),
               self.sipp("uas-5074-ring", "uas_ring_noanswer.xml", 5074, N_CANCEL + N_NOANSWER,
                         remote=None)]
        self.wait_for(lambda: all(udp_bound(p) for p in CALLEE_PORT.values())
                      or any(p.poll() is not None for p in uas), "the callees", timeout=10)

        def calls(kind, callee, n):
            return self.csv("calls-" + kind, [(CALLERS[i % len(CALLERS)], callee,
                                               self.auth(CALLERS[i % len(CALLERS)]))
                                              for i in range(n)])
        uac = [self.sipp("calls-bye", "uac_auth_call_bye.xml", UAC_PORT["bye"], N_BYE,
                         "-d", "500", "-inf", calls("bye", ANSWER, N_BYE)),
               self.sipp("calls-waitbye", "uac_auth_call_waitbye.xml", UAC_PORT["waitbye"],
                         N_WBYE, "-inf", calls("waitbye", ANSWER_BYE, N_WBYE)),
               self.sipp("calls-486", "uac_auth_call_fail.xml", UAC_PORT["486"], N_486,
                         "-inf", calls("486", BUSY, N_486)),
               self.sipp("calls-603", "uac_auth_call_fail.xml", UAC_PORT["603"], N_603,
                         "-inf", calls("603", DECLINE, N_603)),
               self.sipp("calls-404", "uac_auth_call_fail.xml", UAC_PORT["404"], N_404,
                         "-inf", calls("404", UNKNOWN, N_404)),
               self.sipp("calls-cancel", "uac_auth_cancel.xml", UAC_PORT["cancel"], N_CANCEL,
                         "-d", "500", "-inf", calls("cancel", RING, N_CANCEL)),
               self.sipp("calls-noanswer", "uac_auth_noanswer.xml", UAC_PORT["noanswer"],
                         N_NOANSWER, "-key", "fr_ms", str(FR_MS), "-inf",
                         calls("noanswer", RING, N_NOANSWER)),
               self.sipp("options", "options.xml", UAC_PORT["options"], N_OPTIONS)]
        self.finish(*uac)
        self.finish(*uas)
        # callers: every INVITE challenged once (407, ACK), then the retry with credentials
        n = N_BYE
        self.check_run("calls-bye", 0, n, {">INVITE": 2 * n, "<407": n, ">ACK": 2 * n,
                                           "<200": 2 * n, ">BYE": n})
        n = N_WBYE
        self.check_run("calls-waitbye", 0, n, {">INVITE": 2 * n, "<407": n, ">ACK": 2 * n,
                                               "<200": n, "<BYE": n, ">200": n})
        for kind, n in (("486", N_486), ("603", N_603), ("404", N_404)):
            self.check_run("calls-" + kind, 0, n, {">INVITE": 2 * n, "<407": n, ">ACK": 2 * n,
                                                   "<" + kind: n})
        n = N_CANCEL
        self.check_run("calls-cancel", 0, n, {">INVITE": 2 * n, "<407": n, ">ACK": 2 * n,
                                              ">CANCEL": n, "<200": n, "<487": n})
        n = N_NOANSWER
        self.check_run("calls-noanswer", 0, n, {">INVITE": 2 * n, "<407": n, ">ACK": 2 * n,
                                                "<408": n, "<480": 0, "<487": 0})
        self.check_run("options", 0, N_OPTIONS, {">OPTIONS": N_OPTIONS, "<200": N_OPTIONS})
        # callees: reached through Kamailio (the 404 call never reaches a callee)
        self.check_run("uas-5070-answer", 0, N_BYE, {"<INVITE": N_BYE, ">180": N_BYE,
                                                      ">200": 2 * N_BYE, "<ACK": N_BYE,
                                                      "<BYE": N_BYE})
        self.check_run("uas-5071-answerbye", 0, N_WBYE, {"<INVITE": N_WBYE, ">180": N_WBYE,
                                                          ">200": N_WBYE, "<ACK": N_WBYE,
                                                          ">BYE": N_WBYE, "<200": N_WBYE})
        for kind, n in (("486", N_486), ("603", N_603)):
            self.check_run(f"uas-{CALLEE_PORT[BUSY if kind == '486' else DECLINE]}-{kind}", 0, n,
                           {"<INVITE": n, ">100": n, ">" + kind: n, "<ACK": n})
        n = N_CANCEL + N_NOANSWER      # Kamailio's CANCEL of the no-answer call lands here too
        self.check_run("uas-5074-ring", 0, n, {"<INVITE": n, ">100": n, ">180": n,
                                               "<CANCEL": n, ">200": n, ">487": n, "<ACK": n})

        # phase 4: un-registrations (Expires: 0, new Call-IDs) of the 603 and ringing callees
        unreg = [self.sipp(f"unreg-{CALLEE_PORT[u]}", "register_csv.xml", CALLEE_PORT[u], 1,
                           "-inf", self.csv(f"unreg-{u}", [(u, self.auth(u), "0")]))
                 for u in UNREGISTERED]
        self.finish(*unreg)
        for p in unreg:
            self.check_run(p.run_name, 0, 1, {">REGISTER": 2, "<401": 1, "<200": 1})
        aors = self.aors()
        if aors is not None:
            self.assertEqual([a.split("@")[0] for a in aors],
                             sorted(set(all_users) - set(UNREGISTERED)), "Kamailio's bindings")
        peers_done = time.monotonic()

        # phase 5: the timer-driven events (1 s state timeouts; a live capture advances its
        # packet clock with wall time when no packet comes, the collector likewise), then a
        # settle time in which any surplus event would show up
        total = sum(EXPECTED_TYPES.values())
        deadline = time.monotonic() + EVENT_WAIT
        while time.monotonic() < deadline and any(
                len(self.beat_events(name)) < total for name in self.beats):
            time.sleep(0.2)
        time.sleep(SETTLE)
        for name, (proc, log) in self.beats.items():
            code, _, _ = self.stop(proc)
            self.assertEqual(code, 0, f"sipbeat {name} exit code:\n" + read(log)[-2000:])
        self.stop_kamailio(kam)
        elapsed = time.monotonic() - t0
        print(f"\n[test_calls_live] peers {peers_done - t0:.1f} s, total {elapsed:.1f} s",
              flush=True)

        # ---- what each sipbeat reported
        ids = {name: r["call_ids"] for name, r in self.runs.items()}
        reg_ids = set().union(*(ids[n] for n in ids if n.startswith("reg-")))
        unreg_ids = set().union(*(ids[n] for n in ids if n.startswith("unreg-")))
        # the same events, attributed to the SIPp run (Call-IDs) that made them
        want_by_call = collections.Counter()
        for cid in ids["calls-bye"]:
            want_by_call[("call-start", cid, 200)] += 1
            want_by_call[("call-end", cid, "caller-terminated")] += 1
        for cid in ids["calls-waitbye"]:
            want_by_call[("call-start", cid, 200)] += 1
            want_by_call[("call-end", cid, "callee-terminated")] += 1
        for run, status in (("calls-486", 486), ("calls-603", 603), ("calls-404", 404),
                            ("calls-cancel", 487), ("calls-noanswer", 487)):
            for cid in ids[run]:
                want_by_call[("call-attempt", cid, status)] += 1
        for cid in ids["badpw-5088"]:
            want_by_call[("auth-failed", cid, 401)] += 1
        for cid in reg_ids:
            want_by_call[("reg-new", cid, None)] += 1
        for cid in unreg_ids:
            want_by_call[("reg-del", cid, None)] += 1
        for cid in ids["options"]:
            want_by_call[("other-ok", cid, None)] += 1
        self.assertEqual(sum(want_by_call.values()), total, "plan vs. Call-IDs of the runs")
        # (a callee sees the caller's Call-IDs: Kamailio relays them unchanged)
        run_of = {cid: name for name, s in ids.items() if not name.startswith("uas-")
                  for cid in s}

        for name in self.beats:
            with self.subTest(instance=name):
                events = self.beat_events(name)
                types = collections.Counter(e["type"] for e in events)
                self.assertEqual({t: types.get(t, 0) for t in EXPECTED_TYPES}, EXPECTED_TYPES,
                                 f"{name}: events per type")
                self.assertEqual(set(types) - set(EXPECTED_TYPES), set(),
                                 f"{name}: unexpected event types: " + "; ".join(
                                     f"{e['type']} {e.get('event', {}).get('reason')} "
                                     f"{e.get('err_info')!r} {e.get('source')}"
                                     for e in events if e["type"] not in EXPECTED_TYPES)[:2000])
                self.assertEqual(
                    collections.Counter(field(e, "sip.response.status") for e in events
                                        if e["type"] == "call-attempt"),
                    EXPECTED_ATTEMPT_STATUS, f"{name}: call-attempt statuses")
                self.assertEqual(
                    collections.Counter(field(e, "sip.originator") for e in events
                                        if e["type"] == "call-end"),
                    EXPECTED_ORIGINATOR, f"{name}: call-end originators")
                self.assertEqual(
                    collections.Counter(field(e, "sip.response.status") for e in events
                                        if e["type"] == "auth-failed"),
                    {401: len(BAD_PASSWORDS)}, f"{name}: auth-failed statuses")
                for e in events:
                    self.assertTrue(field(e, "sip.call_id"), f"{name}: no sip.call_id in {e}")
                    self.assertEqual(field(e, "client.ip"), "127.0.0.1", f"{name}: {e}")
                    self.assertEqual(field(e, "event.action"), e["type"], f"{name}: {e}")

                def key(e):
                    t = e["type"]
                    detail = (field(e, "sip.response.status")
                              if t in ("call-start", "call-attempt", "auth-failed")
                              else field(e, "sip.originator") if t == "call-end" else None)
                    return (t, field(e, "sip.call_id"), detail)
                got_by_call = collections.Counter(key(e) for e in events)
                missing = want_by_call - got_by_call
                extra = got_by_call - want_by_call
                self.assertEqual(
                    (sorted((k[0], run_of.get(k[1], "?"), k[2]) for k in missing),
                     sorted((k[0], run_of.get(k[1], "?"), k[2]) for k in extra)), ([], []),
                    f"{name}: (missing, surplus) events as (type, SIPp run, status/originator)")


# --- auth-failed flood: lab/scripts/gen-authflood.sh, shorter
FLOOD_CSV = os.path.join(SIPP_DIR, "csv", "udp-authflood-5087.csv")   # u3000-u3099, "wrongpw"
FLOOD_PORT = 5087
FLOOD_ATTEMPTS = 1000      # REGISTER -> 401 -> REGISTER + wrong digest -> 401, each one
FLOOD_RATE = 500           # attempts/s (SIPp -r), as the lab script: the flood lasts 2 s
# sipcmbeat defaults (sipcmbeat.md 5.2), left unset in the config: evr_limits [20, 240, 3600]
# per evr_intervals [1s, 1m, 1h], evr_conseq_report_min 100, evr_conseq_report_max 10000
EVR_LIMIT, EVR_PERIOD_MS = 20, 1000
EVR_REPORT_MIN, EVR_REPORT_MAX = 100, 10000


def reported_exceeded(n_exceeded):
    """[(rate.exceeded, rate.ex_diff)] of the exceeded events still published (sipcmbeat.md
    8.3) out of one uninterrupted run of n_exceeded exceeded events: c = 1 (ex_diff 0), then
    c = min * 2^k below max (ex_diff c - 1 for c == min, else c / 2)."""
    assert n_exceeded < EVR_REPORT_MAX, "the plan stays below evr_conseq_report_max"
    out = [(1, 0)] if n_exceeded >= 1 else []
    c = EVR_REPORT_MIN
    while c <= n_exceeded:
        out.append((c, c - 1 if c == EVR_REPORT_MIN else c // 2))
        c *= 2
    return out


def ts_ns(text):
    """Nanoseconds since the epoch of an event time ("2026-11-23T14:01:34.648319Z", with 0-9
    fraction digits)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text or "")
    if not m:
        raise ValueError(f"not an event time: {text!r}")
    secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return secs * 10 ** 9 + int((m.group(2) or "").ljust(9, "0"))


def sipp_final_401_times(path):
    """Seconds (SIPp's clock) at which SIPp received the 401 to each CSeq 2 REGISTER, i.e. when
    each auth-failed happened on the wire, from a -trace_msg message file, sorted."""
    parts = re.split(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", read(path), flags=re.M)
    out = []
    for stamp, body in zip(parts[1::2], parts[2::2]):
        if ("message received" in body.split("\n", 2)[1]
                and re.search(r"^SIP/2\.0 401\b", body, re.M)
                and re.search(r"^CSeq:\s*2 REGISTER", body, re.M | re.I)):
            day, frac = stamp.split(".")
            out.append(calendar.timegm(time.strptime(day, "%Y-%m-%d %H:%M:%S"))
                       + int(frac) / 10 ** len(frac))
    return sorted(out)


class AuthFloodLive(LivePeers):
    """Wrong-password REGISTER flood from ONE source (127.0.0.1:5087) through Kamailio, exactly
    as ../shared/lab/scripts/gen-authflood.sh makes it (register_csv.xml, users with password
    "wrongpw", -r 500, -default_behaviors all,-bye), watched by one sipbeat capturing live on lo
    with the DEFAULT event-rate limits (sipcmbeat.md 8): every attempt gives one auth-failed on
    its second 401 (2.4, 2.6 #4), all keyed "auth-failed:127.0.0.1" (8.1: type + source IP,
    ports ignored), and the rate table decides which of them are published."""

    # as CallEventsLive, but evr_limits left at the default [20, 240, 3600]
    COMMON = LivePeers.COMMON.replace("sipbeat.evr_limits: [0, 0, 0]\n", "")
    INSTANCES = {
        "live": ("sipbeat.iface: lo\n"
                 f"sipbeat.ports: [5060, {FLOOD_PORT}]\n"
                 f"sipbeat.bpf: \"udp and portrange 5060-5090 and not port {HEP_PORT}\"\n"
                 "sipbeat.max_blocked_timeout: 50ms\n", "Capturing on lo"),
    }

    def setUp(self):
        super().setUp()
        if not port_free(FLOOD_PORT, socket.SOCK_DGRAM):
            self.skipTest(f"UDP port {FLOOD_PORT} is in use")
        if not os.path.exists(FLOOD_CSV):
            self.skipTest(f"{FLOOD_CSV} not found")

    def test_auth_failed_flood_default_rate_limits(self):
        # Why the counts are exact although the run is timed by the wall clock: the rate table
        # works on the packet times of the capture, not on when sipbeat gets to the packets, and
        # with 500 attempts/s against a limit of 20/s the outcome never depends on where the
        # 1 s windows fall (8.2). The entry is created by the first auth-failed; until 1 s has
        # passed, its 1 s rate is the plain count (peak hold), and the first 21 auth-failures
        # come within ~40 ms, so events 1-20 are ok and the 21st is the first exceeded one
        # (c = 1). From then on every completed window computes about 500/s and the peak hold
        # carries that value until the next window ends, so each later event is exceeded too:
        # c runs 1 .. attempts - 20 without an exceeded->ok transition, and the reported c
        # values (8.3) follow from the attempt count alone. This holds as long as the flood
        # keeps well over 20 auth-failures in every second of the run, checked below on the
        # SIPp side, so that a slow or stalled host is told apart from a sipbeat error.
        n = FLOOD_ATTEMPTS
        want_reported = reported_exceeded(n - EVR_LIMIT)   # [(1, 0), (100, 99), (200, 100), ...]
        want_published = EVR_LIMIT + len(want_reported)
        t0 = time.monotonic()
        # Kamailio mirrors every message as HEP to 127.0.0.1:9060 (the lab script runs its
        # hepsink there): a socket that takes them, so that no ICMP port-unreachable comes back
        hep_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(hep_sink.close)
        hep_sink.bind(("127.0.0.1", HEP_PORT))
        self.start_sipbeats()
        kam = self.start_kamailio()

        flood = self.sipp("flood-5087", "register_csv.xml", FLOOD_PORT, n, "-r", str(FLOOD_RATE),
                          "-default_behaviors", "all,-bye", "-inf", FLOOD_CSV)
        t_flood = time.monotonic()
        self.finish(flood)
        flood_s = time.monotonic() - t_flood
        # SIPp books the second 401 as unexpected on its "200" line: every attempt a failed call
        self.check_run("flood-5087", 1, n, {">REGISTER": 2 * n, "<401": n, "<200": 0},
                       unexpected=n)
        # the flood kept over the limit from its start to its end (see above), on SIPp's clock
        times = sipp_final_401_times(os.path.join(self.runs["flood-5087"]["dir"], "messages"))
        where = f"the PEERS were too slow, not sipbeat: see {self.runs['flood-5087']['dir']}"
        self.assertEqual(len(times), n, "final 401s in SIPp's message trace; " + where)
        self.assertLess(times[EVR_LIMIT] - times[0], 1.0,
                        f"the {EVR_LIMIT + 1}st auth failure came over 1 s after the 1st; " + where)
        in_1s = [bisect.bisect_left(times, t + 1.0) - i
                 for i, t in enumerate(times) if t + 1.0 <= times[-1]]
        self.assertGreater(min(in_1s), 2 * EVR_LIMIT,
                           "fewest auth failures in 1 s (every 1 s window of the run); " + where)
        peers_done = time.monotonic()

        # auth-failed comes at once on the second 401: wait for the published ones, then a
        # settle time (> the 1 s state timeouts) in which any surplus event would show up
        deadline = time.monotonic() + EVENT_WAIT
        while (time.monotonic() < deadline
               and len(self.beat_events("live")) < want_published):
            time.sleep(0.2)
        time.sleep(SETTLE)
        proc, log = self.beats["live"]
        code, _, _ = self.stop(proc)
        self.assertEqual(code, 0, "sipbeat exit code:\n" + read(log)[-2000:])
        self.stop_kamailio(kam)
        elapsed = time.monotonic() - t0
        print(f"\n[test_calls_live] flood {flood_s:.1f} s, peers {peers_done - t0:.1f} s, "
              f"total {elapsed:.1f} s", flush=True)

        # ---- what sipbeat reported
        all_events = self.events(sub="live/events")
        events = [e for e in all_events if e.get("type") != "counters"]
        counters = [e for e in all_events if e.get("type") == "counters"]
        self.assertTrue(counters, "no counters event on exit")
        ctr = counters[-1]["counters"]
        ev_rate = {k: field(ctr, f"ev_rate.{k}.val") for k in (
            "total_events", "blst_type", "blst_rate", "blst_sent", "blst_recovered",
            "tracking_fail")}
        capture = {k: field(ctr, f"pcap.lo.{k}.val") for k in ("recvd", "drop", "if_drop")}
        summary = (f"\nev_rate counters {ev_rate}, capture {capture}, published: "
                   + "; ".join(f"{e['type']} {e.get('@timestamp')} {e.get('rate')}"
                               for e in events)[:6000])

        self.assertEqual(collections.Counter(e["type"] for e in events),
                         {"auth-failed": want_published}, "published events per type" + summary)
        ok = [e for e in events if field(e, "rate.exceeded") == 0]
        ex = [e for e in events if field(e, "rate.exceeded") != 0]
        # the first 20 (in the first second) published as not exceeded, then the reported
        # exceeded ones, in this order
        self.assertEqual([field(e, "rate.exceeded") for e in events],
                         [0] * EVR_LIMIT + [c for c, _ in want_reported],
                         "rate.exceeded of the published events, in order" + summary)
        self.assertEqual([field(e, "rate.ex_diff") for e in ex], [d for _, d in want_reported],
                         "rate.ex_diff of the exceeded events" + summary)
        self.assertEqual([field(e, "rate.ex_diff") for e in ok], [0] * EVR_LIMIT,
                         "rate.ex_diff of the events not exceeded" + summary)
        stamps = [ts_ns(e["@timestamp"]) for e in events]
        self.assertEqual(stamps, sorted(stamps), "events in time order" + summary)
        self.assertLess(stamps[EVR_LIMIT] - stamps[0], 10 ** 9,
                        "the first exceeded event within 1 s of the first event" + summary)
        for e in events:
            self.assertEqual(field(e, "rate.key"), "auth-failed:127.0.0.1", f"rate.key: {e}")
            self.assertEqual(field(e, "sip.response.status"), 401, f"status: {e}")
            self.assertEqual((field(e, "client.ip"), field(e, "client.port")),
                             ("127.0.0.1", FLOOD_PORT), f"client: {e}")
            self.assertIn(field(e, "sip.call_id"), self.runs["flood-5087"]["call_ids"],
                          f"Call-ID not one of the flood's: {e}")
        self.assertEqual(len({field(e, "sip.call_id") for e in events}), len(events),
                         "one auth-failed per attempt" + summary)
        # not exceeded: the 1 s interval reported (first with a non-zero rate), its rate the
        # count so far (peak hold in the first second), since = the entry's creation
        self.assertEqual([field(e, "rate.crt") for e in ok], list(range(1, EVR_LIMIT + 1)),
                         "rate.crt of the events not exceeded" + summary)
        self.assertEqual({(field(e, "rate.lim"), field(e, "rate.period")) for e in ok},
                         {(EVR_LIMIT, EVR_PERIOD_MS)}, "rate.lim/period, not exceeded" + summary)
        # (compared in microseconds: @timestamp has 6 fraction digits, rate.since up to 9)
        self.assertEqual({ts_ns(field(e, "rate.since")) // 1000 for e in ok}, {stamps[0] // 1000},
                         "rate.since of the events not exceeded = the first event" + summary)
        # exceeded: the 1 s interval is the first exceeded one, over its limit; since = the
        # ok->exceeded transition (the c = 1 event), never reset (no exceeded->ok in between)
        self.assertEqual([(field(e, "rate.lim"), field(e, "rate.period")) for e in ex],
                         [(EVR_LIMIT, EVR_PERIOD_MS)] * len(ex),
                         "rate.lim/period of the exceeded events" + summary)
        for e in ex:
            self.assertGreater(field(e, "rate.crt"), EVR_LIMIT, "rate.crt, exceeded" + summary)
        self.assertEqual({ts_ns(field(e, "rate.since")) // 1000 for e in ex},
                         {stamps[EVR_LIMIT] // 1000},
                         "rate.since of the exceeded events = the first exceeded" + summary)

        # the final counters event: every auth-failed went through the table (8.1), all but
        # the first 20 exceeded, the reported ones sent, none recovered
        self.assertEqual(ev_rate["total_events"], n, "ev_rate.total_events" + summary)
        self.assertEqual((ev_rate["blst_rate"], ev_rate["blst_sent"]),
                         (n - EVR_LIMIT, len(want_reported)),
                         "ev_rate.blst_rate, ev_rate.blst_sent" + summary)
        self.assertEqual((ev_rate["blst_type"], ev_rate["blst_recovered"],
                          ev_rate["tracking_fail"]), (0, 0, 0),
                         "ev_rate.blst_type, blst_recovered, tracking_fail" + summary)
