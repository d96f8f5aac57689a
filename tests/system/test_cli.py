# SPDX-License-Identifier: Apache-2.0
"""The Beats CLI and configuration, as a user of a Beat runs them (issue 2)."""

import json
import os
import re
import subprocess
import sys
import unittest

import yaml

from harness import GEN_DIR, SOURCE_DIR, SipbeatTestCase, read


class VersionAndTestConfig(SipbeatTestCase):
    def test_version_line_has_the_beats_shape(self):
        r = self.run_beat("version")
        self.assertExitsWith(r, 0)
        self.assertRegex(r.stdout.strip(),
                         r"^sipbeat version \d+\.\d+\.\d+ \(\w+\), libbeat \d+\.\d+\.\d+ "
                         r"\[\S+ built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]$")

    def test_test_config_prints_config_ok(self):
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 0)
        self.assertEqual(r.stdout, "Config OK\n")

    def test_shipped_configs_are_valid(self):
        shipped = read(os.path.join(GEN_DIR, "sipbeat.yml"))
        self.write_config("sipbeat.yml", shipped)
        self.assertExitsWith(self.run_beat("test", "config"), 0)
        # The reference has every option commented out, as Beats ship it.
        reference = read(os.path.join(GEN_DIR, "sipbeat.reference.yml"))
        self.write_config("reference.yml", reference)
        self.assertExitsWith(
            self.run_beat("test", "config", "-c", "reference.yml", "-E", "output.console.enabled=true"), 0)

    def test_errors_exit_1_with_exiting_prefix(self):
        r = self.run_beat("test", "config", "-c", "missing.yml")
        self.assertExitsWith(r, 1)
        self.assertTrue(r.stderr.startswith("Exiting: error loading config file: stat "),
                        r.stderr)
        self.assertIn(os.path.join(self.home, "missing.yml"), r.stderr)

    def test_no_output_and_two_outputs_are_refused(self):
        self.write_config("sipbeat.yml", "name: x\n")
        self.assertExitsWith(
            self.run_beat("test", "config"), 1,
            "Exiting: No outputs are defined. Please define one under the output section.")
        self.write_config("sipbeat.yml", self.file_output() + "output.console.pretty: true\n")
        self.assertExitsWith(self.run_beat("test", "config"), 1,
                             "more than one namespace configured accessing 'output'")
        # A disabled output does not count.
        self.assertExitsWith(
            self.run_beat("test", "config", "-E", "output.console.enabled=false"), 0)

    def test_unknown_command_flag_exits_1(self):
        self.assertExitsWith(self.run_beat("--no-such-flag"), 1)


class OverridesAndMerging(SipbeatTestCase):
    def export(self, *args):
        r = self.run_beat("export", "config", *args)
        self.assertExitsWith(r, 0)
        return yaml.safe_load(r.stdout)

    def test_E_wins_over_c_regardless_of_order(self):
        self.write_config("a.yml", "name: from-file\n" + self.file_output())
        before = self.export("-E", "name=from-flag", "-c", "a.yml")
        after = self.export("-c", "a.yml", "-E", "name=from-flag")
        self.assertEqual(before["name"], "from-flag")
        self.assertEqual(after["name"], "from-flag")
        # And the running beat uses it: agent.name comes from `name`.
        r = self.run_beat("-E", "name=from-flag", "-c", "a.yml")
        self.assertExitsWith(r, 0)
        events = self.counters()
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["agent"]["name"], "from-flag")
        self.assertEqual(events[0]["host"]["name"], "from-flag")

    def test_two_c_files_merge_in_order(self):
        self.write_config("a.yml", "name: a\ntags: [from-a]\n" + self.file_output(
            "  number_of_files: 4\n"))
        self.write_config("b.yml", "name: b\nfields: {site: lab}\n"
                          "output.file.rotate_every_kb: 2048\n")
        cfg = self.export("-c", "a.yml", "-c", "b.yml")
        self.assertEqual(cfg["name"], "b")          # later file wins
        self.assertEqual(cfg["tags"], ["from-a"])   # earlier file's keys stay
        self.assertEqual(cfg["output"]["file"]["number_of_files"], 4)
        self.assertEqual(cfg["output"]["file"]["rotate_every_kb"], 2048)
        self.assertExitsWith(self.run_beat("-c", "a.yml", "-c", "b.yml"), 0)
        ev = self.counters()[0]
        self.assertEqual(ev["tags"], ["from-a"])
        self.assertEqual(ev["fields"], {"site": "lab"})
        self.assertEqual(ev["agent"]["name"], "b")

    def test_E_values_are_yaml_typed_and_bare_E_is_true(self):
        self.write_config("sipbeat.yml", self.file_output())
        cfg = self.export("-E", "tags=[x, y]", "-E", "fields_under_root",
                          "-E", "fields={n: 3, s: 'q: z'}")
        self.assertEqual(cfg["tags"], ["x", "y"])
        self.assertIs(cfg["fields_under_root"], True)
        self.assertEqual(cfg["fields"], {"n": 3, "s": "q: z"})
        self.assertExitsWith(self.run_beat("-E", "fields={n: 3, s: 'q: z'}",
                                           "-E", "fields_under_root"), 0)
        ev = self.counters()[0]
        self.assertEqual(ev["n"], 3)
        self.assertEqual(ev["s"], "q: z")

    def test_path_flags_and_legacy_single_dash_form(self):
        data = os.path.join(self.home, "elsewhere")
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat("-path.data", data, "-e")
        self.assertExitsWith(r, 0)
        self.assertTrue(os.path.exists(os.path.join(data, "meta.json")))
        self.assertEqual(len(self.counters(sub="elsewhere/events")), 1)

    def test_sipcmbeat_section_is_an_alias(self):
        self.write_config("sipbeat.yml", "sipcmbeat:\n  http_port: 8080\n  bpf: 'port 5060'\n"
                          + self.file_output())
        cfg = self.export()
        self.assertNotIn("sipcmbeat", cfg)
        self.assertEqual(cfg["sipbeat"]["bpf"], "port 5060")


class EnvironmentExpansion(SipbeatTestCase):
    def test_var_default_and_required(self):
        self.write_config("sipbeat.yml",
                          "name: ${SB_TEST_NAME}\n"
                          "tags: ['${SB_TEST_UNSET:fallback}', '${path.home}']\n"
                          + self.file_output())
        self.env["SB_TEST_NAME"] = "from-env"
        self.env.pop("SB_TEST_UNSET", None)
        self.assertExitsWith(self.run_beat(), 0)
        ev = self.counters()[0]
        self.assertEqual(ev["agent"]["name"], "from-env")
        self.assertEqual(ev["tags"], ["fallback", self.home])

        self.write_config("sipbeat.yml", "name: ${SB_TEST_UNSET:?set SB_TEST_UNSET first}\n"
                          + self.file_output())
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        self.assertIn("set SB_TEST_UNSET first", r.stderr)
        self.assertIn("'name'", r.stderr)

    def test_env_works_inside_E(self):
        self.write_config("sipbeat.yml", self.file_output())
        self.env["SB_TEST_NAME"] = "via-E"
        r = self.run_beat("export", "config", "-E", "name=${SB_TEST_NAME}")
        self.assertExitsWith(r, 0)
        self.assertEqual(yaml.safe_load(r.stdout)["name"], "via-E")


class Validation(SipbeatTestCase):
    def test_typo_names_the_key_and_the_file(self):
        text = self.file_output("  rotate_every_kbb: 5\n")
        path = self.write_config("sipbeat.yml", text)
        line = text.splitlines().index("  rotate_every_kbb: 5") + 1
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        self.assertEqual(
            r.stderr.strip(),
            f"Exiting: unknown config key 'output.file.rotate_every_kbb' (source:'{path}', "
            f"line {line}); did you mean 'output.file.rotate_every_kb'?")

    def test_wrong_type_and_out_of_range_are_named(self):
        path = self.write_config("sipbeat.yml", self.file_output("  number_of_files: lots\n"))
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1, "'output.file.number_of_files'")
        self.assertIn(path, r.stderr)
        self.write_config("sipbeat.yml", self.file_output("  number_of_files: 5000\n"))
        self.assertExitsWith(self.run_beat("test", "config"), 1, "requires value <= 1024")
        self.write_config("sipbeat.yml", "sipbeat.http_port: 70000\n" + self.file_output())
        self.assertExitsWith(self.run_beat("test", "config"), 1, "'sipbeat.http_port'")
        self.write_config("sipbeat.yml", "sipbeat.stats_interval: often\n" + self.file_output())
        self.assertExitsWith(self.run_beat("test", "config"), 1, "'sipbeat.stats_interval'")
        self.write_config("sipbeat.yml", "logging.level: loud\n" + self.file_output())
        self.assertExitsWith(self.run_beat("test", "config"), 1, "'logging.level'")

    def test_outputs_of_later_versions_are_explained(self):
        self.write_config("sipbeat.yml", "output.redis.hosts: ['localhost:6379']\n")
        self.assertExitsWith(self.run_beat("test", "config"), 1,
                             "output.redis is not available in this version")

    def test_yaml_syntax_error_names_file_and_line(self):
        path = self.write_config("sipbeat.yml", "name: [unclosed\n")
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1, "YAML syntax error")
        self.assertIn(path, r.stderr)


class Permissions(SipbeatTestCase):
    def test_world_writable_config_is_refused_unless_strict_perms_false(self):
        path = self.write_config("sipbeat.yml", self.file_output(), mode=0o666)
        r = self.run_beat("test", "config")
        self.assertExitsWith(r, 1)
        self.assertIn(f'config file ("{path}") can only be writable by the owner but the '
                      f'permissions are "-rw-rw-rw-" (to fix the permissions use: '
                      f"'chmod go-w {path}')", r.stderr)
        self.assertExitsWith(self.run_beat("test", "config", "--strict.perms=false"), 0)
        self.assertExitsWith(self.run_beat("test", "config", "-strict.perms=false"), 0)
        env = dict(self.env, BEAT_STRICT_PERMS="false")
        self.assertExitsWith(self.run_beat("test", "config", env=env), 0)

    def test_group_writable_is_refused_too(self):
        self.write_config("sipbeat.yml", self.file_output(), mode=0o620)
        self.assertExitsWith(self.run_beat("test", "config"), 1, '"-rw--w----"')


class DataPath(SipbeatTestCase):
    def test_second_instance_on_same_data_path_is_refused(self):
        self.write_config("sipbeat.yml", self.file_output() +
                          "sipbeat.run_forever: true\nsipbeat.stats_interval: 50ms\n")
        first = self.start_beat("-e")
        lock = os.path.join(self.home, "data", "sipbeat.lock")
        self.wait_for(lambda: os.path.exists(lock), "the first instance to lock")
        second = self.run_beat("-e")
        self.assertExitsWith(second, 1, "Exiting: data path already locked by another beat")
        self.assertIsNone(first.poll(), "the first instance must keep running")
        # It runs on: counters events keep coming every stats_interval.
        self.wait_for(lambda: len(self.counters()) >= 3, "three counters events")
        code, _, err = self.stop(first)
        self.assertEqual(code, 0, err)
        self.assertFalse(os.path.exists(lock), "the lock file is removed on exit")
        # Now a new instance may start.
        self.write_config("sipbeat.yml", self.file_output())
        self.assertExitsWith(self.run_beat("-e"), 0)

    def test_meta_json_keeps_the_identity(self):
        self.write_config("sipbeat.yml", self.file_output())
        self.assertExitsWith(self.run_beat(), 0)
        meta_path = os.path.join(self.home, "data", "meta.json")
        meta = json.loads(read(meta_path))
        self.assertRegex(meta["uuid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                         r"[0-9a-f]{12}$")
        self.assertRegex(meta["first_start"], r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(os.stat(meta_path).st_mode & 0o777, 0o600)
        self.assertExitsWith(self.run_beat(), 0)
        self.assertEqual(json.loads(read(meta_path)), meta)
        events = self.counters()
        self.assertEqual(len(events), 2)
        self.assertEqual({e["agent"]["id"] for e in events}, {meta["uuid"]})
        # A new process gets a new ephemeral id.
        self.assertNotEqual(events[0]["agent"]["ephemeral_id"], events[1]["agent"]["ephemeral_id"])


class FileOutput(SipbeatTestCase):
    def test_rotation_keeps_number_of_files(self):
        # Each start rotates (rotate_on_startup), so seven runs would make seven files.
        self.write_config("sipbeat.yml", self.file_output("  number_of_files: 3\n"))
        for _ in range(7):
            self.assertExitsWith(self.run_beat(), 0)
        files = [os.path.basename(p) for p in self.event_files()]
        self.assertEqual(len(files), 3, files)
        day = re.match(r"sipbeat-(\d{8})", files[0]).group(1)
        self.assertEqual(files, [f"sipbeat-{day}-4.ndjson", f"sipbeat-{day}-5.ndjson",
                                 f"sipbeat-{day}-6.ndjson"])

    def test_rotation_by_size_while_running(self):
        self.write_config("sipbeat.yml", self.file_output(
            "  rotate_every_kb: 1\n  number_of_files: 2\n  permissions: 0640\n") +
            "sipbeat.run_forever: true\nsipbeat.stats_interval: 10ms\n"
            "queue.mem.flush.timeout: 0s\n")
        proc = self.start_beat("-e")
        # One counters event is ~700 bytes, so each file holds one: wait for many rotations.
        def rotations():
            nums = [re.search(r"-\d{8}-(\d+)\.ndjson$", p) for p in self.event_files()]
            return max([int(m.group(1)) for m in nums if m] + [0])
        # Files older than number_of_files go at once, so wait for the count, not a name.
        self.wait_for(lambda: rotations() >= 5, "five rotations")
        code, _, err = self.stop(proc)
        self.assertEqual(code, 0, err)
        files = self.event_files()
        self.assertEqual(len(files), 2, files)
        for p in files:
            self.assertEqual(os.stat(p).st_mode & 0o777, 0o640)
            with open(p) as f:
                for line in f:
                    self.assertEqual(json.loads(line)["type"], "counters")

    def test_event_has_beats_metadata_and_declared_fields(self):
        self.write_config("sipbeat.yml", self.file_output())
        self.assertExitsWith(self.run_beat(), 0)
        [ev] = self.counters()
        self.assertEqual(list(ev)[:2], ["@timestamp", "@metadata"])
        self.assertRegex(ev["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(ev["@metadata"]["beat"], "sipbeat")
        self.assertEqual(ev["@metadata"]["type"], "_doc")
        self.assertEqual(ev["agent"]["type"], "sipbeat")
        self.assertEqual(ev["ecs"]["version"], "8.0.0")
        self.assertEqual(ev["type"], "counters")
        self.assertEqual(ev["event"]["dataset"], "sip.counters")
        self.assertIn("published", ev["counters"]["libbeat"]["pipeline"]["events"])
        # Every field is declared in fields/fields.yml with a matching type.
        self.assertFieldsDeclared()

    def test_timestamp_precision_setting(self):
        self.write_config("sipbeat.yml", "timestamp.precision: millisecond\n" +
                          self.file_output())
        self.assertExitsWith(self.run_beat(), 0)
        self.assertRegex(self.counters()[0]["@timestamp"], r"\.\d{3}Z$")


class ConsoleOutput(SipbeatTestCase):
    def test_console_writes_json_lines_to_stdout(self):
        self.write_config("sipbeat.yml", self.input() + "output.console: {}\n")
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1)
        self.assertEqual(json.loads(lines[0])["type"], "counters")

    def test_console_pretty_and_format(self):
        self.write_config("sipbeat.yml", self.input() + "output.console.pretty: true\n")
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        self.assertTrue(r.stdout.startswith('{\n  "@timestamp": '), r.stdout[:80])
        self.assertEqual(json.loads(r.stdout)["type"], "counters")
        self.write_config("sipbeat.yml", self.input() +
                          "output.console.codec.format.string: '%{[type]} %{[agent.type]}'\n")
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        self.assertEqual(r.stdout, "counters sipbeat\n")


class Logging(SipbeatTestCase):
    def test_logs_go_to_rotating_json_files_without_e(self):
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat()
        self.assertExitsWith(r, 0)
        self.assertEqual(r.stderr, "")
        logs = self.event_files(sub="logs")
        self.assertEqual(len(logs), 1, logs)
        self.assertEqual(os.stat(logs[0]).st_mode & 0o777, 0o600)
        lines = [json.loads(l) for l in read(logs[0]).splitlines()]
        messages = [l["message"] for l in lines]
        self.assertTrue(any(m.startswith("Home path: [" + self.home + "]") for m in messages))
        self.assertIn("sipbeat start running.", messages)
        for l in lines:
            self.assertEqual(l["service.name"], "sipbeat")
            self.assertIn(l["log.level"], ("debug", "info", "warn", "error", "critical"))
            self.assertRegex(l["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_e_logs_to_stderr_and_level_filters(self):
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat("-e")
        self.assertExitsWith(r, 0)
        self.assertIn('"message":"sipbeat start running."', r.stderr)
        self.assertEqual(self.event_files(sub="logs"), [])
        r = self.run_beat("-e", "-E", "logging.level=error")
        self.assertExitsWith(r, 0)
        self.assertNotIn("start running", r.stderr)
        # -v raises the level back to info.
        r = self.run_beat("-e", "-v", "-E", "logging.level=error")
        self.assertIn("start running", r.stderr)

    def test_debug_selectors(self):
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat("-e", "-d", "publisher")
        self.assertExitsWith(r, 0)
        self.assertIn('"log.level":"debug","@timestamp"', r.stderr)
        self.assertIn('"log.logger":"publisher"', r.stderr)
        debug = [l for l in r.stderr.splitlines() if '"log.level":"debug"' in l]
        self.assertTrue(debug)
        self.assertTrue(all('"log.logger":"publisher"' in l for l in debug), debug)
        r = self.run_beat("-e", "-d", "nothing-here")
        self.assertNotIn('"log.level":"debug"', r.stderr)

    def test_environment_systemd_logs_to_stderr(self):
        self.write_config("sipbeat.yml", self.file_output())
        r = self.run_beat("--environment", "systemd")
        self.assertExitsWith(r, 0)
        self.assertIn("start running", r.stderr)
        self.assertEqual(self.event_files(sub="logs"), [])


if __name__ == "__main__":
    unittest.main()
