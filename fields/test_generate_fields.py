"""Tests for fields/generate_fields.py.

Run from the repository root:  /usr/bin/python3 -m unittest fields/test_generate_fields.py
(or by path: /usr/bin/python3 fields/test_generate_fields.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "generate_fields.py")
FIELDS_YML = os.path.join(HERE, "fields.yml")
DOCS = os.path.join(HERE, os.pardir, "docs", "fields.asciidoc")

_spec = importlib.util.spec_from_file_location("generate_fields", SCRIPT)
gf = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = gf  # dataclasses look their module up while the class is built
_spec.loader.exec_module(gf)

# A packetbeat SIP message event (golden sip-expected.json, first event) in flattened form,
# with the host-dependent keys filled in; dotted keys must be accepted like nested ones.
PACKETBEAT_INVITE = {
    "@timestamp": "2016-11-26T06:41:35.374Z",
    "@metadata.beat": "sipbeat",
    "@metadata.type": "_doc",
    "agent.type": "sipbeat", "agent.version": "0.1.0", "agent.name": "sensor1",
    "agent.id": "0b1c", "agent.ephemeral_id": "7f3e",
    "ecs.version": "8.0.0", "host.name": "sensor1",
    "client.ip": "10.0.2.20", "client.port": 5060,
    "destination.ip": "10.0.2.15", "destination.port": 5060,
    "event.action": "sip-invite", "event.category": ["network"], "event.dataset": "sip",
    "event.duration": 0, "event.kind": "event", "event.original": "INVITE sip:test@10.0.2.15",
    "event.sequence": 1, "event.type": ["info", "protocol"],
    "event.start": "2016-11-26T06:41:35.374Z", "event.end": "2016-11-26T06:41:35.374Z",
    "network.application": "sip", "network.community_id": "1:xDRQZvk3ErEhBDslXv1c6EKI804=",
    "network.iana_number": "17", "network.protocol": "sip", "network.transport": "udp",
    "network.type": "ipv4", "network.direction": "unknown",
    "related.hosts": ["10.0.2.15", "10.0.2.20"], "related.ip": ["10.0.2.20", "10.0.2.15"],
    "related.user": ["test", "sipp"],
    "server.ip": "10.0.2.15", "server.port": 5060,
    "sip.call_id": "1-2187@10.0.2.20",
    "sip.contact.display_info": "test", "sip.contact.uri.host": "10.0.2.15",
    "sip.contact.uri.original": "sip:test@10.0.2.15:5060", "sip.contact.uri.port": 5060,
    "sip.contact.uri.scheme": "sip", "sip.contact.uri.username": "test",
    "sip.content_length": 123, "sip.content_type": "application/sdp",
    "sip.cseq.code": 1, "sip.cseq.method": "INVITE",
    "sip.from.display_info": "DVI4/8000", "sip.from.tag": "1",
    "sip.from.uri.host": "10.0.2.20", "sip.from.uri.original": "sip:sipp@10.0.2.20:5060",
    "sip.from.uri.port": 5060, "sip.from.uri.scheme": "sip", "sip.from.uri.username": "sipp",
    "sip.max_forwards": 70, "sip.method": "INVITE",
    "sip.sdp.body.original": "v=0\r\n", "sip.sdp.connection.address": "10.0.2.20",
    "sip.sdp.connection.info": "IN IP4 10.0.2.20", "sip.sdp.owner.ip": "10.0.2.20",
    "sip.sdp.owner.session_id": "42", "sip.sdp.owner.version": "42", "sip.sdp.version": "0",
    "sip.sdp.media": [{"type": "audio", "port": 6000, "protocol": "RTP/AVP", "formats": ["5"],
                       "codecs": ["DVI4/8000"], "direction": "recvonly",
                       "connection": {"address": "10.0.2.20"}}],
    "sip.timestamp": "2016-11-26T06:41:35.374123456Z",
    "sip.to.display_info": "test", "sip.to.uri.original": "sip:test@10.0.2.15:5060",
    "sip.to.uri.port": 5060, "sip.type": "request", "sip.uri.original": "sip:test@10.0.2.15:5060",
    "sip.uri.port": 5060, "sip.version": "2.0",
    "sip.via.original": ["SIP/2.0/UDP 10.0.2.20:5060;branch=z9hG4bK-2187-1-0"],
    "source.ip": "10.0.2.20", "source.port": 5060,
    "sipbeat": {"via": "hep", "hep": {"capture_id": 2001}},
    "status": "OK", "type": "sip",
}

# sipcmbeat's call-start sample (reference/sipcmbeat.md §3.3), nested, with the From/To/
# Contact URIs in the object layout fields.yml declares.
SIPCMBEAT_CALL_START = {
    "@timestamp": "2024-05-10T10:00:00.512Z",
    "@metadata": {"beat": "sipbeat", "type": "_doc", "version": "0.1.0"},
    "type": "call-start",
    "sip": {
        "call_id": "call1",
        "from": {"uri": {"original": "sip:alice@example.com"}},
        "to": {"uri": {"original": "sip:bob@example.com"}},
        "contact": {"uri": {"original": "sip:alice@10.0.0.1:5060"}},
        "request": {"method": "INVITE", "sig": "263502471I000002F0000V0000"},
        "sip_reason": "OK", "response": {"status": 200}, "pdd": 200, "ring_time": 301,
        "fromtag": "f1", "totag": "t1",
    },
    "uri": {"original": "sip:bob@example.com"},
    "user_agent": {"original": "UAC-1"}, "uas": {"original": "UAS-2"},
    "event": {"call_start": "2024-05-10T10:00:00.511823Z", "kind": "event", "module": "sip",
              "dataset": "sip.calls", "action": "call-start",
              "category": ["network", "session"], "type": ["start"], "outcome": "success",
              "created": "2024-05-10T10:00:01.000001+02:00"},
    "client": {"transport": "udp", "ip": "10.0.0.1", "port": 5060},
    "server": {"ip": "10.0.0.2", "port": 5070},
    "rate": {"exceeded": 0, "ex_diff": 0, "crt": 1, "lim": 20.5, "period": 1000,
             "since": "2024-05-10T10:00:00.511Z", "key": "call-start:10.0.0.1"},
    "dbg": {"state": "established", "prev_state": "init->first invite", "lastev": "empty",
            "evflags": "call-start", "evgen": "reply", "created": "2024-05-10T10:00:00.010Z",
            "call_start": "2024-05-10T10:00:00.511823Z", "cseq": [1, 0], "rcseq": [1, 0],
            "forked": "1970-01-01T00:00:00Z", "call_flags": 2, "req_no": [1, 0],
            "repl_no": [3, 0], "req_retr": [0, 0], "repl_retr": [0, 0], "last_method": [2, 0],
            "last_status": [200, 0], "msg_trace": ">INVITE<100<180<200", "event_cnt": 0,
            "event_idx": 0, "event_next_idx": 1},
    "encrypt_flags": "0",
    "agent": {"version_long": "v0.1.0-2-g62008c4", "version_base": "0.1.0",
              "commit_hash": "62008c44", "build_time": "2024/08/27 14:41 UTC",
              "type": "sipbeat", "version": "0.1.0"},
    "fields": {"site": "lab", "rack": 7},
    "tags": ["a", "b"],
}

COUNTERS_EVENT = {
    "@timestamp": "2024-05-10T10:00:00Z",
    "type": "counters",
    "event": {"dataset": "sip.counters"},
    "counters": {"events": {"published": {"val": 10}, "dbg": {"pdd_ok": {"val": 3}}},
                 "calls": {"active": {"val": 2, "min": 0, "max": 5}}},
}


def run_generator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          check=False)


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="sipbeat-fields-test-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        return path

    def write_events(self, *events: object) -> str:
        return self.write("events.ndjson", "".join(json.dumps(e) + "\n" for e in events))


class GeneratedOutputsTest(TempDirTest):
    """Runs the CLI once per test on the real fields.yml and inspects what it wrote."""

    def setUp(self) -> None:
        super().setUp()
        self.out = os.path.join(self.tmp, "gen")
        result = run_generator("--fields", FIELDS_YML, "--out-dir", self.out,
                               "--beat", "sipbeat", "--version", "0.1.0")
        self.assertEqual(result.returncode, 0, result.stderr)

    def load_json(self, name: str) -> dict:
        with open(os.path.join(self.out, name), encoding="utf-8") as stream:
            return json.load(stream)

    def read(self, name: str) -> str:
        with open(os.path.join(self.out, name), encoding="utf-8") as stream:
            return stream.read()

    def test_writes_every_output(self) -> None:
        self.assertEqual(sorted(os.listdir(self.out)), sorted(gf.OUTPUT_NAMES))

    @unittest.skipUnless(shutil.which("g++"), "g++ not installed")
    def test_header_compiles_warning_free(self) -> None:
        tu = self.write("tu.cpp", textwrap.dedent(f"""\
            #include "{os.path.join(self.out, 'field_names.h')}"
            #include "{os.path.join(self.out, 'field_names.h')}"  // #pragma once

            namespace f = sipbeat::fields;

            constexpr bool sortedAndUnique() {{
                for (std::size_t i = 1; i < f::kAllFields.size(); ++i) {{
                    if (!(f::kAllFields[i - 1].name < f::kAllFields[i].name)) return false;
                }}
                return true;
            }}

            static_assert(f::kSipCallId == "sip.call_id");
            static_assert(f::kTimestamp == "@timestamp");
            static_assert(f::kEventOriginal == "event.original");
            static_assert(f::kSourceIp == "source.ip");
            static_assert(sortedAndUnique());
            static_assert(f::findField("sip.call_id") != nullptr);
            static_assert(f::findField("sip.call_id")->type == "keyword");
            static_assert(f::findField("source.ip")->type == "ip");
            static_assert(f::findField("no.such.field") == nullptr);
            static_assert(f::findField("") == nullptr);
            static_assert(f::findField("~past.the.last") == nullptr);  // '~' sorts last
            static_assert(f::meta::kEcsSchemaVersion == "8.0.0");

            int main() {{ return f::findField(f::kSipCallId) == nullptr ? 1 : 0; }}
            """))
        result = subprocess.run(
            ["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic",
             "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wold-style-cast", "-Werror", tu],
            capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_header_lists_every_field_once(self) -> None:
        header = self.read("field_names.h")
        self.assertIn("#pragma once", header)
        self.assertIn("#include <array>", header)
        self.assertIn("#include <string_view>", header)
        table = re.search(r"kAllFields\{\{\n(.*?)\n\}\};", header, re.S).group(1)
        names = re.findall(r'^\s+\{"([^"]+)", "[^"]+"\},$', table, re.M)
        schema = gf.load_fields(FIELDS_YML)
        self.assertEqual(names, sorted(schema.leaves))
        field_part = header.split("namespace meta {")[0]
        constants = re.findall(r"inline constexpr std::string_view (k\w+) = ", field_part)
        self.assertEqual(len(constants), len(names))
        self.assertEqual(len(constants), len(set(constants)))

    def test_es8_template(self) -> None:
        template = self.load_json("template-es8.json")
        self.assertEqual(template["index_patterns"], ["sipbeat-0.1.0"])
        self.assertEqual(template["data_stream"], {})
        self.assertEqual(template["priority"], 150)
        index = template["template"]["settings"]["index"]
        self.assertEqual(index["number_of_shards"], 1)
        self.assertEqual(index["refresh_interval"], "5s")
        self.assertEqual(index["mapping"]["total_fields"]["limit"], 10000)
        self.assertIn("sip.call_id", index["query"]["default_field"])
        self.assertEqual(index["query"]["default_field"][-1], "fields.*")
        self.assertNotIn("event.original", index["query"]["default_field"])  # not indexed

        mappings = template["template"]["mappings"]
        self.assertEqual(mappings["_meta"], {"beat": "sipbeat", "version": "0.1.0"})
        self.assertIs(mappings["date_detection"], False)
        props = mappings["properties"]
        self.assertEqual(props["sip"]["properties"]["call_id"],
                         {"type": "keyword", "ignore_above": 1024})
        self.assertEqual(props["source"]["properties"]["ip"], {"type": "ip"})
        self.assertEqual(props["source"]["properties"]["port"], {"type": "long"})
        self.assertEqual(props["event"]["properties"]["original"],
                         {"type": "keyword", "ignore_above": 1024, "index": False,
                          "doc_values": False})
        self.assertEqual(props["event"]["properties"]["duration"],
                         {"type": "long", "meta": {"unit": "nanos"}})
        self.assertEqual(props["sip"]["properties"]["timestamp"], {"type": "date_nanos"})
        self.assertEqual(props["@timestamp"], {"type": "date"})
        self.assertEqual(
            props["sip"]["properties"]["from"]["properties"]["uri"]["properties"]["original"]
            ["fields"]["text"], {"type": "text", "norms": False})
        self.assertEqual(props["counters"], {"type": "object"})

        dynamic = {name: body for entry in mappings["dynamic_templates"]
                   for name, body in entry.items()}
        self.assertEqual(dynamic["fields"], {"path_match": "fields.*",
                                             "match_mapping_type": "string",
                                             "mapping": {"type": "keyword"}})
        self.assertEqual(dynamic["counters"], {"path_match": "counters.*",
                                               "match_mapping_type": "long",
                                               "mapping": {"type": "long"}})
        self.assertEqual(list(mappings["dynamic_templates"][-1]), ["strings_as_keyword"])

    def test_es7_template(self) -> None:
        template = self.load_json("template-es7.json")
        self.assertEqual(sorted(template), ["index_patterns", "mappings", "order", "settings"])
        self.assertEqual(template["index_patterns"], ["sipbeat-0.1.0-*"])
        self.assertEqual(template["order"], 1)
        self.assertEqual(template["mappings"]["properties"]["source"]["properties"]["ip"],
                         {"type": "ip"})

    def test_index_pattern(self) -> None:
        pattern = self.load_json("index-pattern.json")
        self.assertEqual(pattern["type"], "index-pattern")
        self.assertEqual(pattern["id"], "sipbeat-*")
        self.assertEqual(pattern["version"], "0.1.0")
        attributes = pattern["attributes"]
        self.assertEqual(attributes["title"], "sipbeat-*")
        self.assertEqual(attributes["timeFieldName"], "@timestamp")
        fields = {f["name"]: f for f in json.loads(attributes["fields"])}
        self.assertEqual(fields["sip.call_id"]["type"], "string")
        self.assertEqual(fields["source.ip"]["type"], "ip")
        self.assertEqual(fields["sip.timestamp"]["type"], "date")
        self.assertEqual(fields["sip.content_length"]["type"], "number")
        self.assertFalse(fields["sip.uri.original.text"]["aggregatable"])
        self.assertFalse(fields["event.original"]["searchable"])
        self.assertIn("_id", fields)
        formats = json.loads(attributes["fieldFormatMap"])
        self.assertEqual(formats["event.duration"]["params"]["inputFormat"], "nanoseconds")

    def test_asciidoc(self) -> None:
        docs = self.read("fields.asciidoc")
        self.assertIn("[[exported-fields]]", docs)
        self.assertIn("* <<exported-fields-sip>>", docs)
        self.assertIn("== SIP fields", docs)
        self.assertIn("*`sip.call_id`*::\n+\n--\n", docs)
        self.assertIn("*`sip.uri.original.text`*::", docs)
        self.assertIn("Field is not indexed.", docs)

    def test_committed_docs_are_up_to_date(self) -> None:
        with open(DOCS, encoding="utf-8") as stream:
            committed = stream.read()
        self.assertEqual(committed, self.read("fields.asciidoc"),
                         "docs/fields.asciidoc is stale: regenerate it with "
                         "generate_fields.py --out-dir docs --only fields.asciidoc")


class CheckEventsTest(TempDirTest):
    def check(self, *events: object) -> subprocess.CompletedProcess:
        return run_generator("--fields", FIELDS_YML, "--check-events", self.write_events(*events))

    def test_good_events_pass(self) -> None:
        result = self.check(PACKETBEAT_INVITE, SIPCMBEAT_CALL_START, COUNTERS_EVENT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "3 events checked")

    def test_undeclared_field_fails_naming_it(self) -> None:
        event = dict(SIPCMBEAT_CALL_START, sip=dict(SIPCMBEAT_CALL_START["sip"], bogus_attr="x"))
        result = self.check(SIPCMBEAT_CALL_START, event)
        self.assertEqual(result.returncode, 1)
        self.assertIn("events.ndjson:2: sip.bogus_attr: field is not declared", result.stderr)
        self.assertNotIn("events.ndjson:1:", result.stderr)

    def test_wrong_types_fail(self) -> None:
        cases = {
            "source.port": ("5060", "does not fit type long"),
            "source.ip": ("10.0.0.300", "is not an IPv4/IPv6 address"),
            "@timestamp": ("2024-05-10 10:00:00", "is not an RFC 3339 date"),
            "sip.code": ("200", "does not fit type integer"),  # json_type integer
            "sip.unmatched_invite": ("true", "does not fit type boolean"),
            "event.sequence": (1.5, "does not fit type long"),
            "sip.call_id": (12, "does not fit type keyword"),
            "rate.crt": (True, "does not fit type double"),
            "dbg.cseq": ([1, "2"], "does not fit type long"),
            "counters.calls.active.val": ("2", "object_type of counters"),
        }
        for path, (value, message) in cases.items():
            with self.subTest(path=path):
                result = self.check({"type": "sip", path: value})
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertIn(f"events.ndjson:1: {path}: ", result.stderr)
                self.assertIn(message, result.stderr)

    def test_string_where_object_is_declared_fails(self) -> None:
        # sipcmbeat's string form of sip.from cannot share an index with packetbeat's object.
        result = self.check({"type": "call-start", "sip": {"from": "sip:alice@example.com"}})
        self.assertEqual(result.returncode, 1)
        self.assertIn("sip.from: string", result.stderr)

    def test_object_where_value_is_declared_fails(self) -> None:
        result = self.check({"type": {"nested": "x"}})
        self.assertEqual(result.returncode, 1)
        self.assertIn("type: object given for a keyword field", result.stderr)

    def test_invalid_json_line_fails(self) -> None:
        path = self.write("bad.ndjson", '{"type": "sip"}\n{"type": NaN}\n')
        result = run_generator("--fields", FIELDS_YML, "--check-events", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bad.ndjson:2: invalid JSON", result.stderr)


class ValidationTest(TempDirTest):
    def check_fails(self, yml: str, *expected: str) -> None:
        path = self.write("fields.yml", textwrap.dedent(yml))
        result = run_generator("--fields", path, "--check-events", self.write_events({}))
        self.assertEqual(result.returncode, 1, result.stdout)
        for text in expected:
            self.assertIn(text, result.stderr)

    def test_minimal_file_is_valid(self) -> None:
        path = self.write("fields.yml", textwrap.dedent("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: x.y
                  type: keyword
                  description: A field.
            """))
        result = run_generator("--fields", path, "--check-events",
                               self.write_events({"x": {"y": "v"}}))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_bad_type(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: sip
                  type: group
                  description: Group.
                  fields:
                    - name: code
                      type: strnig
                      description: Code.
            """, "sip.code", "unknown type 'strnig'")

    def test_duplicate_leaf_across_sections(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: sip.call_id
                  type: keyword
                  description: One.
            - key: b
              title: B
              description: Section.
              fields:
                - name: sip
                  type: group
                  description: Group.
                  fields:
                    - name: call_id
                      type: keyword
                      description: Two.
            """, "'sip.call_id'", "declared twice")

    def test_leaf_and_group_on_one_path(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: sip.from
                  type: keyword
                  description: URI string.
                - name: sip.from.tag
                  type: keyword
                  description: Tag.
            """, "'sip.from'", "declared as a keyword field")

    def test_bad_name(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: call id
                  type: keyword
                  description: X.
            """, "'call id'", "invalid name")

    def test_missing_description(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: x
                  type: long
            """, "'x'", "missing `description`")

    def test_duplicate_yaml_key(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: x
                  type: long
                  type: keyword
                  description: X.
            """, "duplicate key 'type'")

    def test_attribute_not_valid_for_type(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: x
                  type: long
                  ignore_above: 10
                  description: X.
            """, "'x'", "attribute 'ignore_above' is not valid for type long")

    def test_bad_format_for_type(self) -> None:
        self.check_fails("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: x
                  type: keyword
                  format: duration
                  description: X.
            """, "'x'", "format 'duration' is not allowed")


class TemplateRulesTest(TempDirTest):
    """Per-type mapping rules, on a small fields.yml covering what the real one does not use."""

    def setUp(self) -> None:
        super().setUp()
        self.schema = gf.load_fields(self.write("fields.yml", textwrap.dedent("""\
            - key: a
              title: A
              description: Section.
              fields:
                - name: n
                  type: group
                  description: Group.
                  fields:
                    - name: count
                      type: integer
                      description: Integer.
                    - name: pattern
                      type: wildcard
                      description: Wildcard.
                    - name: message
                      type: match_only_text
                      description: Message.
                    - name: ratio
                      type: scaled_float
                      scaling_factor: 100
                      description: Ratio.
                    - name: short_kw
                      type: keyword
                      ignore_above: -1
                      description: No ignore_above.
                    - name: count_alias
                      type: alias
                      path: n.count
                      description: Alias.
                - name: labels
                  type: object
                  object_type: keyword
                  description: Labels.
            """)))

    def props(self, es_major: int) -> dict:
        mappings = gf.build_mappings(self.schema, "b", "1.0.0", es_major)
        return mappings["properties"]["n"]["properties"]

    def test_es8_types(self) -> None:
        props = self.props(8)
        self.assertEqual(props["count"], {"type": "long"})  # libbeat maps integer to long
        self.assertEqual(props["pattern"], {"type": "wildcard", "ignore_above": 1024})
        self.assertEqual(props["message"], {"type": "match_only_text"})
        self.assertEqual(props["ratio"], {"type": "scaled_float", "scaling_factor": 100})
        self.assertEqual(props["short_kw"], {"type": "keyword"})
        self.assertEqual(props["count_alias"], {"type": "alias", "path": "n.count"})

    def test_es7_falls_back_to_basic_types(self) -> None:
        props = self.props(7)
        self.assertEqual(props["pattern"], {"type": "keyword", "ignore_above": 1024})
        self.assertEqual(props["message"], {"type": "text", "norms": False})

    def test_alias_cannot_be_set_in_events(self) -> None:
        problems = gf.EventChecker(self.schema).check({"n": {"count_alias": 1, "count": 2}})
        self.assertEqual([path for path, _ in problems], ["n.count_alias"])

    def test_integer_range(self) -> None:
        checker = gf.EventChecker(self.schema)
        self.assertEqual(checker.check({"n": {"count": 2**63 - 1}}), [])
        self.assertEqual(len(checker.check({"n": {"count": 2**63}})), 1)


class ConstantNameTest(unittest.TestCase):
    def test_pascal_case(self) -> None:
        self.assertEqual(gf.constant_name("sip.call_id"), "kSipCallId")
        self.assertEqual(gf.constant_name("@timestamp"), "kTimestamp")
        self.assertEqual(gf.constant_name("event.original"), "kEventOriginal")
        self.assertEqual(gf.constant_name("event.duration2"), "kEventDuration2")

    def test_collisions_are_deterministic(self) -> None:
        names = gf.constant_names(["a_b.c", "a.b_c", "a.b.c", "all.fields", "x"])
        self.assertEqual(names["a.b.c"], "kABC")
        self.assertEqual(names["a.b_c"], "kABC_2")
        self.assertEqual(names["a_b.c"], "kABC_3")
        self.assertEqual(names["all.fields"], "kAllFields_2")  # kAllFields is the table
        self.assertEqual(names, gf.constant_names(reversed(list(names))))


class CliTest(TempDirTest):
    def test_needs_a_task(self) -> None:
        result = run_generator("--fields", FIELDS_YML)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("nothing to do", result.stderr)

    def test_only_writes_selected_output(self) -> None:
        out = os.path.join(self.tmp, "docs")
        result = run_generator("--fields", FIELDS_YML, "--out-dir", out, "--beat", "sipbeat",
                               "--version", "0.1.0", "--only", "fields.asciidoc")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(out), ["fields.asciidoc"])

    def test_missing_fields_file(self) -> None:
        result = run_generator("--fields", os.path.join(self.tmp, "nope.yml"),
                               "--check-events", self.write_events({}))
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot read", result.stderr)


if __name__ == "__main__":
    unittest.main()
