# SPDX-License-Identifier: Apache-2.0
"""Helpers for black-box tests of the sipbeat binary: scratch homes, config files,
running the binary with a time bound, reading what it wrote."""

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

BIN = os.environ.get("SIPBEAT_BIN", "")
GEN_DIR = os.environ.get("SIPBEAT_GEN_DIR", "")
SOURCE_DIR = os.environ.get(
    "SIPBEAT_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
TIMEOUT = 60
PCAP_DIR = os.path.join(SOURCE_DIR, "tests", "data", "pcaps")


def read(path):
    with open(path) as f:
        return f.read()


class SipbeatTestCase(unittest.TestCase):
    """Each test gets its own path.home with a file output under data/events."""

    def setUp(self):
        if not BIN or not os.path.exists(BIN):
            self.fail("SIPBEAT_BIN must point at the built sipbeat binary (run through ctest)")
        self.home = tempfile.mkdtemp(prefix="sipbeat-system-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = dict(os.environ)
        self.env.pop("BEAT_STRICT_PERMS", None)

    def write_config(self, name, text, mode=0o600):
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def input(self, pcap="lab-mixed-tcp.pcap", messages=False, calls=False):
        """A bundled lab capture as input; message and call events off unless asked for, so
        tests about the beat itself see just the counters event."""
        return (f"sipbeat.pcap: {os.path.join(PCAP_DIR, pcap)}\n"
                f"sipbeat.messages.enabled: {'true' if messages else 'false'}\n"
                f"sipbeat.calls.enabled: {'true' if calls else 'false'}\n")

    def file_output(self, extra=""):
        return (self.input() + "output.file:\n  path: ${path.data}/events\n"
                "  filename: sipbeat\n" + extra)

    def counters(self, sub="data/events"):
        return [e for e in self.events(sub) if e.get("type") == "counters"]

    def run_beat(self, *args, env=None, timeout=TIMEOUT):
        cmd = [BIN, "--path.home", self.home] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env, stdin=subprocess.DEVNULL)

    def start_beat(self, *args):
        cmd = [BIN, "--path.home", self.home] + list(args)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env, stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill, proc)
        return proc

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    def wait_for(self, predicate, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        self.fail("timed out waiting for " + what)

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
        return proc.returncode, out, err

    def event_files(self, sub="data/events", name="sipbeat"):
        return sorted(glob.glob(os.path.join(self.home, sub, name + "-*.ndjson")))

    def events(self, sub="data/events", name="sipbeat"):
        out = []
        for path in self.event_files(sub, name):
            with open(path) as f:
                out.extend(json.loads(line) for line in f if line.strip())
        return out

    def assertFieldsDeclared(self, sub="data/events"):
        """Every field of the written events is declared in fields/fields.yml with a
        matching type (SPEC §6)."""
        check = subprocess.run(
            [sys.executable, os.path.join(SOURCE_DIR, "fields", "generate_fields.py"),
             "--fields", os.path.join(SOURCE_DIR, "fields", "fields.yml"),
             "--check-events"] + self.event_files(sub),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def assertExitsWith(self, result, code, stderr_contains=None):
        self.assertEqual(result.returncode, code,
                         f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        if stderr_contains is not None:
            self.assertIn(stderr_contains, result.stderr)
