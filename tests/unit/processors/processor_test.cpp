// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/processor.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "beat/config/node.h"
#include "beat/event/document.h"

namespace sipbeat::processors {
namespace {

HostInfo testHost() {
    HostInfo h;
    h.hostname = "probe-1";
    h.architecture = "x86_64";
    h.os_type = "linux";
    h.os_platform = "debian";
    h.os_name = "Debian GNU/Linux";
    h.os_family = "debian";
    h.os_version = "12 (bookworm)";
    h.os_kernel = "6.1.0-18-amd64";
    h.os_codename = "bookworm";
    h.id = "0123456789abcdef0123456789abcdef";
    h.ips = {"192.0.2.10", "2001:db8::10"};
    h.macs = {"52-54-00-12-34-56"};
    h.utc_offset_seconds = 3600;
    h.timezone_abbreviation = "CET";
    return h;
}

ProcessorList compileOk(const std::string& yaml, const HostInfo& host = testHost()) {
    const config::Node root = config::parseYaml(yaml, "sipbeat.yml");
    const config::Node* list = root.find("processors");
    EXPECT_NE(list, nullptr);
    core::Result<ProcessorList> r =
        compileProcessors(list ? *list : config::Node(), "processors", host);
    EXPECT_TRUE(r.isOk()) << yaml << "\n" << r.status().message();
    return r ? std::move(*r) : ProcessorList{};
}

std::string compileError(const std::string& yaml) {
    const config::Node root = config::parseYaml(yaml, "sipbeat.yml");
    const config::Node* list = root.find("processors");
    core::Result<ProcessorList> r =
        compileProcessors(list ? *list : config::Node(), "processors", testHost());
    EXPECT_FALSE(r.isOk()) << yaml;
    return r ? std::string() : r.status().message();
}

/// The document as sorted `key=value` lines, lists as `[a,b]`.
std::string dump(const event::Document& doc) {
    std::vector<std::string> lines;
    for (const event::Field& f : doc.fields()) {
        std::string v;
        switch (f.kind) {
            case event::ValueKind::Bool:
                v = f.b ? "true" : "false";
                break;
            case event::ValueKind::Int:
                v = std::to_string(f.i) + "i";
                break;
            case event::ValueKind::Uint:
                v = std::to_string(f.u) + "u";
                break;
            case event::ValueKind::Double:
                v = std::to_string(f.d) + "d";
                break;
            case event::ValueKind::String:
                v = "'" + std::string(f.s) + "'";
                break;
            case event::ValueKind::StringList:
                v = "[";
                for (size_t i = 0; i < f.list.size(); ++i) {
                    v += (i ? "," : "") + std::string(f.list[i]);
                }
                v += "]";
                break;
            case event::ValueKind::IntList:
                v = "[";
                for (size_t i = 0; i < f.ints.size(); ++i) {
                    v += (i ? "," : "") + std::to_string(f.ints[i]);
                }
                v += "]i";
                break;
        }
        lines.push_back(std::string(f.key) + "=" + v);
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& l : lines) {
        out += l + "\n";
    }
    return out;
}

/// A small SIP message event.
void fill(event::Document& doc) {
    doc.clear();
    doc.setString("type", "sip");
    doc.setString("sip.method", "INVITE");
    doc.setInt("sip.status", 200);
    doc.setString("sip.call_id", "abc@host");
    doc.setString("source.ip", "10.0.0.1");
    doc.setInt("source.port", 5060);
    doc.setString("host.name", "probe-1");
    doc.setStringList("tags", {"lab"});
    doc.appendToIntList("sip.sdp.media.port", 4000);
    doc.appendToIntList("sip.sdp.media.port", 4002);
}

class ProcessorTest : public ::testing::Test {
protected:
    void SetUp() override { fill(doc_); }
    /// Runs the processors; returns whether the event is kept.
    bool run(const std::string& yaml) {
        ProcessorList list = compileOk(yaml);
        return list.run(doc_);
    }
    event::Document doc_;
};

TEST_F(ProcessorTest, EmptyListKeepsEverything) {
    ProcessorList list = compileOk("processors: []\n");
    EXPECT_TRUE(list.empty());
    const std::string before = dump(doc_);
    EXPECT_TRUE(list.run(doc_));
    EXPECT_EQ(dump(doc_), before);
    EXPECT_TRUE(compileOk("processors: ~\n").empty());
}

TEST_F(ProcessorTest, AddFieldsUnderTargetTyped) {
    // The Beats docs' example.
    ASSERT_TRUE(
        run("processors:\n"
            "  - add_fields:\n"
            "      target: project\n"
            "      fields:\n"
            "        name: myproject\n"
            "        id: '574734885120952459'\n"
            "        n: 7\n"
            "        ratio: 0.5\n"
            "        on: true\n"
            "        list: [a, b]\n"
            "        ports: [1, 2]\n"
            "        nested: {deep.er: x}\n"));
    const std::string d = dump(doc_);
    EXPECT_NE(d.find("project.name='myproject'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.id='574734885120952459'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.n=7i\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.ratio=0.500000d\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.on=true\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.list=[a,b]\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.ports=[1,2]i\n"), std::string::npos) << d;
    EXPECT_NE(d.find("project.nested.deep.er='x'\n"), std::string::npos) << d;
}

TEST_F(ProcessorTest, AddFieldsDefaultTargetAndRoot) {
    ASSERT_TRUE(run("processors:\n  - add_fields: {fields: {site: lab}}\n"));
    EXPECT_EQ(doc_.get("fields.site")->s, "lab");
    ASSERT_TRUE(
        run("processors:\n  - add_fields: {target: '', fields: {site: root, sip.method: X}}\n"));
    EXPECT_EQ(doc_.get("site")->s, "root");
    EXPECT_EQ(doc_.get("sip.method")->s, "X");  // overwrites, as DeepUpdate does
}

TEST_F(ProcessorTest, AddFieldsReplacesConflictingLeavesAndObjects) {
    ASSERT_TRUE(
        run("processors:\n  - add_fields: {target: '', fields: {sip.method.x: 1, source: s}}\n"));
    EXPECT_EQ(doc_.get("sip.method"), nullptr);
    EXPECT_EQ(doc_.get("sip.method.x")->i, 1);
    EXPECT_EQ(doc_.get("source.ip"), nullptr);
    EXPECT_EQ(doc_.get("source.port"), nullptr);
    EXPECT_EQ(doc_.get("source")->s, "s");
}

TEST_F(ProcessorTest, AddTags) {
    ASSERT_TRUE(run("processors:\n  - add_tags: {tags: [web, production]}\n"));
    EXPECT_EQ(dump(doc_).find("tags=[lab,web,production]\n") != std::string::npos, true)
        << dump(doc_);
    ASSERT_TRUE(run("processors:\n  - add_tags: {tags: single, target: 'x.y'}\n"));
    ASSERT_NE(doc_.get("x.y"), nullptr);
    EXPECT_EQ(doc_.get("x.y")->list.size(), 1u);
    // Not a list: left alone (libbeat refuses).
    const std::string before = dump(doc_);
    ASSERT_TRUE(run("processors:\n  - add_tags: {tags: [t], target: sip.method}\n"));
    ASSERT_TRUE(run("processors:\n  - add_tags: {tags: [t], target: sip}\n"));
    EXPECT_EQ(dump(doc_), before);
}

TEST_F(ProcessorTest, AddLabelsFlattens) {
    // The Beats docs' example.
    ASSERT_TRUE(
        run("processors:\n"
            "  - add_labels:\n"
            "      labels:\n"
            "        number: 1\n"
            "        with.dots: test\n"
            "        nested:\n"
            "          with.dots: nested\n"
            "        array:\n"
            "          - do\n"
            "          - re\n"
            "          - with.field: mi\n"));
    const std::string d = dump(doc_);
    EXPECT_NE(d.find("labels.number=1i\n"), std::string::npos) << d;
    EXPECT_NE(d.find("labels.with.dots='test'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("labels.nested.with.dots='nested'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("labels.array.0='do'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("labels.array.1='re'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("labels.array.2.with.field='mi'\n"), std::string::npos) << d;
}

TEST_F(ProcessorTest, DropEventWithAndWithoutCondition) {
    EXPECT_TRUE(run("processors:\n  - drop_event.when.equals: {sip.method: BYE}\n"));
    EXPECT_FALSE(run("processors:\n  - drop_event.when.equals: {sip.method: INVITE}\n"));
    EXPECT_FALSE(run("processors:\n  - drop_event: ~\n"));
    EXPECT_FALSE(run("processors:\n  - drop_event: {}\n"));
    // Processors after a drop do not run.
    fill(doc_);
    EXPECT_FALSE(run("processors:\n  - drop_event:\n  - add_fields: {fields: {x: 1}}\n"));
    EXPECT_EQ(doc_.get("fields.x"), nullptr);
}

TEST_F(ProcessorTest, DropFieldsLeavesAndSubtrees) {
    ASSERT_TRUE(run("processors:\n  - drop_fields: {fields: [sip.call_id, source]}\n"));
    EXPECT_EQ(doc_.get("sip.call_id"), nullptr);
    EXPECT_EQ(doc_.get("source.ip"), nullptr);
    EXPECT_EQ(doc_.get("source.port"), nullptr);
    EXPECT_NE(doc_.get("sip.method"), nullptr);
    // Missing fields, ignore_missing, and the fields that are never dropped.
    ASSERT_TRUE(
        run("processors:\n  - drop_fields: {fields: [nope, type, '@timestamp'], ignore_missing: "
            "true}\n"));
    EXPECT_NE(doc_.get("type"), nullptr);
    ASSERT_TRUE(run("processors:\n  - drop_fields: {fields: [sip]}\n"));
    EXPECT_EQ(dump(doc_), "host.name='probe-1'\ntags=[lab]\ntype='sip'\n");
}

TEST_F(ProcessorTest, DropFieldsPrefixIsNotAParent) {
    doc_.setString("sipx", "keep");
    ASSERT_TRUE(run("processors:\n  - drop_fields: {fields: [sip]}\n"));
    EXPECT_NE(doc_.get("sipx"), nullptr);
    EXPECT_EQ(doc_.get("sip.method"), nullptr);
}

TEST_F(ProcessorTest, IncludeFieldsKeepsListedAndMandatory) {
    ASSERT_TRUE(run("processors:\n  - include_fields: {fields: [sip.method, source]}\n"));
    EXPECT_EQ(dump(doc_),
              "sip.method='INVITE'\nsource.ip='10.0.0.1'\nsource.port=5060i\ntype='sip'\n");
    fill(doc_);
    ASSERT_TRUE(run("processors:\n  - include_fields: {fields: [nothing.here]}\n"));
    EXPECT_EQ(dump(doc_), "type='sip'\n");
}

TEST_F(ProcessorTest, RenameLeavesAndSubtrees) {
    ASSERT_TRUE(
        run("processors:\n"
            "  - rename:\n"
            "      fields:\n"
            "        - {from: sip.call_id, to: call.id}\n"
            "        - {from: source, to: client}\n"));
    EXPECT_EQ(doc_.get("sip.call_id"), nullptr);
    EXPECT_EQ(doc_.get("call.id")->s, "abc@host");
    EXPECT_EQ(doc_.get("source.ip"), nullptr);
    EXPECT_EQ(doc_.get("client.ip")->s, "10.0.0.1");
    EXPECT_EQ(doc_.get("client.port")->i, 5060);
    EXPECT_EQ(doc_.get("error.message"), nullptr);
}

TEST_F(ProcessorTest, RenameIntoOwnChild) {
    // libbeat deletes first so that `a` can become `a.b`.
    doc_.setString("a", "v");
    ASSERT_TRUE(run("processors:\n  - rename.fields: [{from: a, to: a.b}]\n"));
    EXPECT_EQ(doc_.get("a"), nullptr);
    EXPECT_EQ(doc_.get("a.b")->s, "v");
}

TEST_F(ProcessorTest, RenameFailureLeavesEventUnchangedWithErrorMessage) {
    const std::string before = dump(doc_);
    // The second pair fails (target exists): the first is undone.
    ASSERT_TRUE(
        run("processors:\n"
            "  - rename:\n"
            "      fields:\n"
            "        - {from: sip.call_id, to: call.id}\n"
            "        - {from: source.ip, to: sip.method}\n"));
    ASSERT_NE(doc_.get("error.message"), nullptr);
    EXPECT_EQ(doc_.get("error.message")->s,
              "Failed to rename fields in processor: target field sip.method already exists, "
              "drop or rename this field first");
    doc_.remove("error.message");
    EXPECT_EQ(dump(doc_), before);

    // Missing source.
    ASSERT_TRUE(
        run("processors:\n  - rename.fields: [{from: source, to: s}, {from: nope, to: x}]\n"));
    EXPECT_NE(std::string(doc_.get("error.message")->s).find("could not fetch value for key: nope"),
              std::string::npos);
    doc_.remove("error.message");
    EXPECT_EQ(dump(doc_), before);

    // A leaf in the way of the target.
    ASSERT_TRUE(run("processors:\n  - rename.fields: [{from: source.ip, to: sip.method.ip}]\n"));
    EXPECT_NE(doc_.get("error.message"), nullptr);
    doc_.remove("error.message");
    EXPECT_EQ(dump(doc_), before);
}

TEST_F(ProcessorTest, RenameIgnoreMissingAndNoFailOnError) {
    const std::string before = dump(doc_);
    ASSERT_TRUE(
        run("processors:\n  - rename: {fields: [{from: nope, to: x}], ignore_missing: true}\n"));
    EXPECT_EQ(dump(doc_), before);
    // Without fail_on_error a failing pair is skipped and the others apply.
    ASSERT_TRUE(
        run("processors:\n"
            "  - rename:\n"
            "      fail_on_error: false\n"
            "      fields: [{from: nope, to: x}, {from: sip.call_id, to: call.id}]\n"));
    EXPECT_EQ(doc_.get("call.id")->s, "abc@host");
    EXPECT_EQ(doc_.get("error.message"), nullptr);
}

TEST_F(ProcessorTest, CopyFields) {
    // The Beats docs' example shape.
    ASSERT_TRUE(
        run("processors:\n"
            "  - copy_fields:\n"
            "      fields:\n"
            "        - from: sip.method\n"
            "          to: event.action\n"
            "        - from: sip.sdp\n"
            "          to: media\n"
            "        - from: tags\n"
            "          to: labels.tags\n"
            "      fail_on_error: false\n"
            "      ignore_missing: true\n"));
    EXPECT_EQ(doc_.get("sip.method")->s, "INVITE");
    EXPECT_EQ(doc_.get("event.action")->s, "INVITE");
    ASSERT_NE(doc_.get("media.media.port"), nullptr);
    EXPECT_EQ(doc_.get("media.media.port")->ints, (std::vector<int64_t>{4000, 4002}));
    EXPECT_EQ(doc_.get("sip.sdp.media.port")->ints.size(), 2u);
    EXPECT_EQ(doc_.get("labels.tags")->list.size(), 1u);
}

TEST_F(ProcessorTest, CopyFieldsFailureUndoes) {
    const std::string before = dump(doc_);
    ASSERT_TRUE(
        run("processors:\n"
            "  - copy_fields.fields: [{from: sip, to: copy}, {from: source.ip, to: host.name}]\n"));
    ASSERT_NE(doc_.get("error.message"), nullptr);
    EXPECT_NE(std::string(doc_.get("error.message")->s).find("Failed to copy fields"),
              std::string::npos);
    doc_.remove("error.message");
    EXPECT_EQ(dump(doc_), before);
}

TEST_F(ProcessorTest, AddHostMetadata) {
    ASSERT_TRUE(run("processors:\n  - add_host_metadata: ~\n"));
    const std::string d = dump(doc_);
    EXPECT_NE(d.find("host.hostname='probe-1'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.architecture='x86_64'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.family='debian'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.kernel='6.1.0-18-amd64'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.name='Debian GNU/Linux'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.platform='debian'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.type='linux'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.version='12 (bookworm)'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.os.codename='bookworm'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.id='0123456789abcdef0123456789abcdef'\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.ip=[192.0.2.10,2001:db8::10]\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.mac=[52-54-00-12-34-56]\n"), std::string::npos) << d;
    EXPECT_NE(d.find("host.name='probe-1'\n"), std::string::npos) << d;
}

TEST_F(ProcessorTest, AddHostMetadataOptions) {
    ASSERT_TRUE(
        run("processors:\n"
            "  - add_host_metadata:\n"
            "      netinfo.enabled: false\n"
            "      name: custom\n"
            "      cache.ttl: 5m\n"
            "      geo: {name: lab-1, location: '40.7, -73.9', city_name: Paris}\n"));
    EXPECT_EQ(doc_.get("host.ip"), nullptr);
    EXPECT_EQ(doc_.get("host.mac"), nullptr);
    EXPECT_EQ(doc_.get("host.name")->s, "custom");
    EXPECT_EQ(doc_.get("host.geo.name")->s, "lab-1");
    EXPECT_EQ(doc_.get("host.geo.city_name")->s, "Paris");
    EXPECT_DOUBLE_EQ(doc_.get("host.geo.location.lat")->d, 40.7);
    EXPECT_DOUBLE_EQ(doc_.get("host.geo.location.lon")->d, -73.9);
}

TEST_F(ProcessorTest, AddHostMetadataReplaceFields) {
    doc_.setString("host.id", "from-event");
    ASSERT_TRUE(run("processors:\n  - add_host_metadata: {replace_fields: false}\n"));
    EXPECT_EQ(doc_.get("host.id")->s, "from-event");
    EXPECT_EQ(doc_.get("host.hostname"), nullptr);
    ASSERT_TRUE(run("processors:\n  - add_host_metadata: {replace_fields: true}\n"));
    EXPECT_EQ(doc_.get("host.id")->s, "0123456789abcdef0123456789abcdef");
    // Only host.name present: added even without replace_fields.
    fill(doc_);
    ASSERT_TRUE(run("processors:\n  - add_host_metadata: {replace_fields: false}\n"));
    EXPECT_NE(doc_.get("host.hostname"), nullptr);
}

TEST_F(ProcessorTest, AddLocale) {
    ASSERT_TRUE(run("processors:\n  - add_locale: ~\n"));
    EXPECT_EQ(doc_.get("event.timezone")->s, "+01:00");
    ASSERT_TRUE(run("processors:\n  - add_locale: {format: abbreviation}\n"));
    EXPECT_EQ(doc_.get("event.timezone")->s, "CET");
    HostInfo west = testHost();
    west.utc_offset_seconds = -(5 * 3600 + 30 * 60);
    ProcessorList l = compileOk("processors:\n  - add_locale: {format: offset}\n", west);
    ASSERT_TRUE(l.run(doc_));
    EXPECT_EQ(doc_.get("event.timezone")->s, "-05:30");
    HostInfo utc = testHost();
    utc.utc_offset_seconds = 0;
    ProcessorList u = compileOk("processors:\n  - add_locale:\n", utc);
    ASSERT_TRUE(u.run(doc_));
    EXPECT_EQ(doc_.get("event.timezone")->s, "+00:00");
}

TEST_F(ProcessorTest, WhenOnEveryProcessor) {
    ASSERT_TRUE(
        run("processors:\n"
            "  - add_fields: {fields: {a: 1}, when.equals: {sip.method: BYE}}\n"
            "  - add_fields: {fields: {b: 1}, when.equals: {sip.method: INVITE}}\n"
            "  - add_tags: {tags: [x], when.has_fields: [nope]}\n"
            "  - drop_fields: {fields: [source.port], when.network: {source.ip: private}}\n"
            "  - rename: {fields: [{from: sip.call_id, to: cid}], when.not.has_fields: [sip]}\n"));
    EXPECT_EQ(doc_.get("fields.a"), nullptr);
    EXPECT_NE(doc_.get("fields.b"), nullptr);
    EXPECT_EQ(doc_.get("tags")->list.size(), 1u);
    EXPECT_EQ(doc_.get("source.port"), nullptr);
    EXPECT_NE(doc_.get("sip.call_id"), nullptr);
}

TEST_F(ProcessorTest, IfThenElse) {
    // Packetbeat's shipped processors (reference/beats.md §2.4).
    const std::string yaml =
        "processors:\n"
        "  - if.contains.tags: forwarded\n"
        "    then:\n"
        "      - drop_fields:\n"
        "          fields: [host]\n"
        "    else:\n"
        "      - add_host_metadata: ~\n";
    ASSERT_TRUE(run(yaml));
    EXPECT_NE(doc_.get("host.hostname"), nullptr);
    fill(doc_);
    doc_.appendToList("tags", "forwarded");
    ASSERT_TRUE(run(yaml));
    EXPECT_EQ(doc_.get("host.name"), nullptr);
    EXPECT_EQ(doc_.get("host.hostname"), nullptr);
}

TEST_F(ProcessorTest, IfThenWithoutElseAndSingleMapBranch) {
    ASSERT_TRUE(
        run("processors:\n"
            "  - if: {equals: {sip.method: BYE}}\n"
            "    then: {add_fields: {fields: {bye: true}}}\n"));
    EXPECT_EQ(doc_.get("fields.bye"), nullptr);
    EXPECT_FALSE(
        run("processors:\n"
            "  - if: {equals: {sip.method: INVITE}}\n"
            "    then:\n"
            "      - add_fields: {fields: {inv: true}}\n"
            "      - drop_event: {when.range: {sip.status.gte: 200}}\n"));
    EXPECT_TRUE(doc_.get("fields.inv")->b);
}

TEST_F(ProcessorTest, ReusedDocumentGivesSameResult) {
    ProcessorList list = compileOk(
        "processors:\n"
        "  - add_fields: {fields: {site: lab}}\n"
        "  - rename.fields: [{from: sip.call_id, to: call.id}]\n"
        "  - copy_fields.fields: [{from: sip.sdp, to: sdp}]\n"
        "  - drop_fields.fields: [source]\n"
        "  - add_host_metadata: ~\n");
    std::string first;
    for (int i = 0; i < 50; ++i) {
        fill(doc_);
        ASSERT_TRUE(list.run(doc_));
        if (i == 0) {
            first = dump(doc_);
        } else {
            ASSERT_EQ(dump(doc_), first);
        }
    }
}

TEST(ProcessorErrorTest, MessagesNameTheKeyAndFile) {
    std::string e = compileError("processors:\n  - drop_fieldz: {fields: [a]}\n");
    EXPECT_NE(e.find("the processor action 'drop_fieldz' does not exist"), std::string::npos) << e;
    EXPECT_NE(e.find("accessing 'processors.0.drop_fieldz' (source:'sipbeat.yml', line 2)"),
              std::string::npos)
        << e;

    e = compileError("processors:\n  - add_tags: {tags: [a]}\n  - drop_fields: {}\n");
    EXPECT_NE(e.find("missing required field accessing 'processors.1.drop_fields.fields'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("sipbeat.yml"), std::string::npos) << e;

    e = compileError("processors:\n  - drop_fields: {fields: [a], ignore_mising: true}\n");
    EXPECT_NE(e.find("unknown config key accessing 'processors.0.drop_fields.ignore_mising'"),
              std::string::npos)
        << e;

    e = compileError("processors:\n  - drop_event: {when: {equals: {a: [1]}}}\n");
    EXPECT_NE(e.find("accessing 'processors.0.drop_event.when.equals.a'"), std::string::npos) << e;
    EXPECT_NE(e.find("(source:'sipbeat.yml', line 2)"), std::string::npos) << e;

    e = compileError("processors:\n  - drop_event: {}\n    add_tags: {tags: [a]}\n");
    EXPECT_NE(e.find("exactly one action, but found 2 actions"), std::string::npos) << e;

    e = compileError("processors: {drop_event: {}}\n");
    EXPECT_NE(e.find("required 'array'"), std::string::npos) << e;

    e = compileError("processors:\n  - drop_event\n");
    EXPECT_NE(e.find("each processor must be a map"), std::string::npos) << e;

    e = compileError("processors:\n  - rename: {fields: [{from: a}]}\n");
    EXPECT_NE(e.find("missing required field accessing 'processors.0.rename.fields.0.to'"),
              std::string::npos)
        << e;
    e = compileError("processors:\n  - rename: {fields: [{from: a, to: b, too: c}]}\n");
    EXPECT_NE(e.find("'processors.0.rename.fields.0.too'"), std::string::npos) << e;
    e = compileError("processors:\n  - copy_fields: {fields: []}\n");
    EXPECT_NE(e.find("processors.0.copy_fields.fields"), std::string::npos) << e;
    e = compileError(
        "processors:\n  - rename: {fields: [{from: a, to: b}], fail_on_error: maybe}\n");
    EXPECT_NE(e.find("required 'bool', but found 'maybe' accessing "
                     "'processors.0.rename.fail_on_error'"),
              std::string::npos)
        << e;
    e = compileError("processors:\n  - add_fields: {target: x}\n");
    EXPECT_NE(e.find("missing required field accessing 'processors.0.add_fields.fields'"),
              std::string::npos)
        << e;
    e = compileError("processors:\n  - add_fields: {fields: [a]}\n");
    EXPECT_NE(e.find("required 'object'"), std::string::npos) << e;
    e = compileError("processors:\n  - add_labels: ~\n");
    EXPECT_NE(e.find("processors.0.add_labels.labels"), std::string::npos) << e;
    e = compileError("processors:\n  - add_tags: {target: t}\n");
    EXPECT_NE(e.find("processors.0.add_tags.tags"), std::string::npos) << e;
    e = compileError("processors:\n  - add_locale: {format: long}\n");
    EXPECT_NE(e.find("invalid timezone format 'long'"), std::string::npos) << e;
    EXPECT_NE(e.find("processors.0.add_locale.format"), std::string::npos) << e;
    e = compileError("processors:\n  - add_host_metadata: {netinfo.enable: true}\n");
    EXPECT_NE(e.find("processors.0.add_host_metadata.netinfo.enable"), std::string::npos) << e;
    e = compileError("processors:\n  - add_host_metadata: {geo.location: 'north'}\n");
    EXPECT_NE(e.find("processors.0.add_host_metadata.geo.location"), std::string::npos) << e;
    e = compileError("processors:\n  - drop_fields: {fields: ['/^sip/']}\n");
    EXPECT_NE(e.find("regular expressions"), std::string::npos) << e;
    e = compileError("processors:\n  - drop_fields: a\n");
    EXPECT_NE(e.find("required 'object'"), std::string::npos) << e;

    e = compileError(
        "processors:\n"
        "  - if.equals: {a: 1}\n"
        "    then:\n"
        "      - drop_evnt: {}\n");
    EXPECT_NE(e.find("accessing 'processors.0.then.0.drop_evnt' (source:'sipbeat.yml', line 4)"),
              std::string::npos)
        << e;
    e = compileError("processors:\n  - if.equals: {a: 1}\n");
    EXPECT_NE(e.find("missing required field accessing 'processors.0.then'"), std::string::npos)
        << e;
    e = compileError("processors:\n  - if.bogus: {a: 1}\n    then: []\n");
    EXPECT_NE(e.find("accessing 'processors.0.if.bogus'"), std::string::npos) << e;
    e = compileError("processors:\n  - if.equals: {a: 1}\n    then: []\n    otherwise: []\n");
    EXPECT_NE(e.find("processors.0.otherwise"), std::string::npos) << e;
}

TEST(HostInfoTest, DetectReadsThisMachine) {
    const HostInfo h = HostInfo::detect();
    EXPECT_FALSE(h.hostname.empty());
    EXPECT_FALSE(h.architecture.empty());
    EXPECT_EQ(h.os_type, "linux");
    EXPECT_FALSE(h.os_kernel.empty());
    for (const std::string& mac : h.macs) {
        EXPECT_EQ(mac.size(), 17u) << mac;
    }
}

}  // namespace
}  // namespace sipbeat::processors
