// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "beat/app/settings.h"
#include "beat/config/expand.h"
#include "beat/config/loader.h"
#include "beat/config/node.h"
#include "beat/config/schema.h"
#include "unit/test_util.h"

#include <stdlib.h>

namespace sipbeat::config {
namespace {

using test::TempDir;

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(NodeTest, DottedKeysAreNestedAndMergeWithBlocks) {
    Node n = parseYaml("output.file.path: /a\noutput:\n  file:\n    filename: x\n", "t.yml");
    ASSERT_NE(n.find("output.file.path"), nullptr);
    EXPECT_EQ(n.find("output.file.path")->text(), "/a");
    EXPECT_EQ(n.find("output.file.filename")->text(), "x");
    EXPECT_EQ(n.find("output.file.path")->origin().source, "t.yml");
    EXPECT_EQ(n.find("output.file.filename")->origin().line, 4);
}

TEST(NodeTest, MergeReplacesScalarsAndListsAndMergesMaps) {
    Node a = parseYaml("a: {b: 1, c: [1, 2]}\nd: x\n", "a.yml");
    Node b = parseYaml("a: {c: [3]}\nd: y\n", "b.yml");
    a.merge(b);
    EXPECT_EQ(a.find("a.b")->text(), "1");
    ASSERT_EQ(a.find("a.c")->items().size(), 1u);
    EXPECT_EQ(a.find("a.c")->items()[0].text(), "3");
    EXPECT_EQ(a.find("d")->text(), "y");
    EXPECT_EQ(a.find("d")->origin().source, "b.yml");
}

TEST(NodeTest, OverrideFlagsAreYamlTyped) {
    std::string key;
    Node v;
    ASSERT_TRUE(parseOverride("output.console.pretty", key, v));
    EXPECT_EQ(key, "output.console.pretty");
    EXPECT_EQ(v.text(), "true");
    ASSERT_TRUE(parseOverride("tags=[a, b]", key, v));
    ASSERT_TRUE(v.isSequence());
    EXPECT_EQ(v.items()[1].text(), "b");
    ASSERT_TRUE(parseOverride("output={file.path: /x, file.filename: y}", key, v));
    EXPECT_EQ(v.find("file.path")->text(), "/x");
    ASSERT_TRUE(parseOverride("name='quoted: yes'", key, v));
    EXPECT_EQ(v.text(), "quoted: yes");
    EXPECT_TRUE(v.quoted());
    EXPECT_EQ(v.origin().source, "command line flag -E");
    EXPECT_FALSE(parseOverride("name=", key, v));
}

TEST(ExpandTest, EnvironmentDefaultsErrorsAndConfigReferences) {
    ::setenv("SIPBEAT_TEST_VAR", "from-env", 1);
    ::unsetenv("SIPBEAT_TEST_UNSET");
    Node n = parseYaml(
        "path.home: /opt/sb\n"
        "a: ${SIPBEAT_TEST_VAR}\n"
        "b: ${SIPBEAT_TEST_UNSET:fallback}\n"
        "c: ${SIPBEAT_TEST_UNSET}\n"
        "d: ${path.home}/data\n"
        "e: x-${SIPBEAT_TEST_UNSET:${SIPBEAT_TEST_VAR}}-y\n"
        "f: $${NOT_EXPANDED}\n"
        "g: ${SIPBEAT_TEST_VAR:+alt}${SIPBEAT_TEST_UNSET:+never}\n",
        "t.yml");
    expandVariables(n);
    EXPECT_EQ(n.find("a")->text(), "from-env");
    EXPECT_EQ(n.find("b")->text(), "fallback");
    EXPECT_EQ(n.find("c")->text(), "");
    EXPECT_EQ(n.find("d")->text(), "/opt/sb/data");
    EXPECT_EQ(n.find("e")->text(), "x-from-env-y");
    EXPECT_EQ(n.find("f")->text(), "${NOT_EXPANDED}");
    EXPECT_EQ(n.find("g")->text(), "alt");
}

TEST(ExpandTest, AVariableWithCommasIsAListWhereAListIsRead) {
    // go-ucfg: ES_HOSTS="a:9200, b:9200" with `hosts: '${ES_HOSTS}'` gives two hosts.
    ::setenv("SIPBEAT_TEST_HOSTS", "a:9200, b:9200", 1);
    auto schema = std::make_shared<Spec>(object({
        {"hosts", listOf(stringNoDefault())},
        {"literal", listOf(stringNoDefault())},
        {"mixed", listOf(stringNoDefault())},
        {"name", stringNoDefault()},
    }));
    Node n = parseYaml(
        "hosts: '${SIPBEAT_TEST_HOSTS}'\n"
        "literal: 'x,y'\n"
        "mixed: 'pre-${SIPBEAT_TEST_HOSTS}'\n"
        "name: '${SIPBEAT_TEST_HOSTS}'\n",
        "t.yml");
    expandVariables(n);
    validate(n, *schema);
    Config cfg(std::move(n), schema);
    EXPECT_EQ(cfg.getStringList("hosts"), (std::vector<std::string>{"a:9200", "b:9200"}));
    EXPECT_EQ(cfg.getStringList("literal"), (std::vector<std::string>{"x,y"}));
    EXPECT_EQ(cfg.getStringList("mixed"), (std::vector<std::string>{"pre-a:9200, b:9200"}));
    EXPECT_EQ(cfg.getString("name"), "a:9200, b:9200");  // a string stays a string
}

TEST(ExpandTest, RequiredVariableFailsWithItsMessageAndKey) {
    ::unsetenv("SIPBEAT_TEST_UNSET");
    Node n = parseYaml("output.file.path: ${SIPBEAT_TEST_UNSET:?set the events dir}\n", "t.yml");
    const std::string err = errorOf([&] { expandVariables(n); });
    EXPECT_NE(err.find("set the events dir"), std::string::npos) << err;
    EXPECT_NE(err.find("output.file.path"), std::string::npos) << err;
    EXPECT_NE(err.find("t.yml"), std::string::npos) << err;
}

TEST(ExpandTest, CyclicReferenceIsAnErrorNotACrash) {
    Node n = parseYaml("a: ${b}\nb: ${a}\n", "t.yml");
    EXPECT_NE(errorOf([&] { expandVariables(n); }).find("cyclic"), std::string::npos);
}

TEST(ExpandTest, ExponentialReferencesAreBounded) {
    std::string yaml = "v0: " + std::string(64, 'x') + "\n";
    // 16 levels: within the reference depth limit, but 64 * 2^15 bytes = 2 MiB.
    for (int i = 1; i < 16; ++i) {
        yaml += "v" + std::to_string(i) + ": ${v" + std::to_string(i - 1) + "}${v" +
                std::to_string(i - 1) + "}\n";
    }
    Node n = parseYaml(yaml, "t.yml");
    EXPECT_NE(errorOf([&] { expandVariables(n); }).find("more than 1 MiB"), std::string::npos);
}

TEST(NodeTest, RecursiveAndExplodingAliasesAreRefused) {
    EXPECT_NE(errorOf([] { parseYaml("x: &a [*a]\n", "r.yml"); }).find("nested deeper"),
              std::string::npos);
    std::string laughs = "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n";
    for (int i = 1; i < 8; ++i) {
        laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) {
            laughs += (j ? ",*a" : "*a") + std::to_string(i - 1);
        }
        laughs += "]\n";
    }
    EXPECT_NE(errorOf([&] { parseYaml(laughs, "l.yml"); }).find("more than 1000000 values"),
              std::string::npos);
}

TEST(SchemaTest, ScalarParsers) {
    int64_t i = 0;
    EXPECT_TRUE(parseInt("0600", i));
    EXPECT_EQ(i, 0600);
    EXPECT_TRUE(parseInt("0x1F", i));
    EXPECT_EQ(i, 31);
    EXPECT_TRUE(parseInt("-12", i));
    EXPECT_EQ(i, -12);
    EXPECT_FALSE(parseInt("12kb", i));
    int64_t ns = 0;
    EXPECT_TRUE(parseDuration("1m30s", ns));
    EXPECT_EQ(ns, 90LL * 1000000000);
    EXPECT_TRUE(parseDuration("250ms", ns));
    EXPECT_EQ(ns, 250000000);
    EXPECT_TRUE(parseDuration("5", ns));
    EXPECT_EQ(ns, 5LL * 1000000000);
    EXPECT_FALSE(parseDuration("5 minutes", ns));
    bool b = false;
    EXPECT_TRUE(parseBool("on", b));
    EXPECT_TRUE(b);
    EXPECT_TRUE(parseBool("No", b));
    EXPECT_FALSE(b);
}

Spec testSchema() {
    return object({
        {"output", object({{"file", object({{"number_of_files", integer(7, 2, 1024)},
                                            {"path", stringNoDefault()}})}})},
        {"level", oneOf("info", {"debug", "info"})},
        {"timeout", duration("10s")},
    });
}

TEST(SchemaTest, UnknownKeyNamesKeyFileLineAndSuggestion) {
    Node n = parseYaml("output:\n  file:\n    number_of_fils: 3\n", "/etc/sipbeat/x.yml");
    const std::string err = errorOf([&] { validate(n, testSchema()); });
    EXPECT_EQ(err,
              "unknown config key 'output.file.number_of_fils' (source:'/etc/sipbeat/x.yml', "
              "line 3); did you mean 'output.file.number_of_files'?");
}

TEST(SchemaTest, WrongTypeAndRangeAreNamed) {
    Node n = parseYaml("output.file.number_of_files: many\n", "a.yml");
    EXPECT_EQ(errorOf([&] { validate(n, testSchema()); }),
              "invalid value 'many' (expected an integer) accessing "
              "'output.file.number_of_files' (source:'a.yml', line 1)");
    n = parseYaml("output.file.number_of_files: 5000\n", "a.yml");
    EXPECT_EQ(errorOf([&] { validate(n, testSchema()); }),
              "requires value <= 1024 (got 5000) accessing 'output.file.number_of_files' "
              "(source:'a.yml', line 1)");
    n = parseYaml("level: verbose\n", "a.yml");
    EXPECT_NE(errorOf([&] { validate(n, testSchema()); }).find("expected one of: debug, info"),
              std::string::npos);
    n = parseYaml("timeout: soon\n", "a.yml");
    EXPECT_NE(errorOf([&] { validate(n, testSchema()); }).find("'timeout'"), std::string::npos);
    n = parseYaml("output: [a]\n", "a.yml");
    EXPECT_NE(errorOf([&] { validate(n, testSchema()); }).find("expected an object"),
              std::string::npos);
}

TEST(SchemaTest, TypedAccessFallsBackToDefaults) {
    Node n = parseYaml("output.file.path: /x\ntimeout: 1m\n", "a.yml");
    auto spec = std::make_shared<const Spec>(testSchema());
    validate(n, *spec);
    Config cfg(std::move(n), spec);
    EXPECT_EQ(cfg.getInt("output.file.number_of_files"), 7);
    EXPECT_EQ(cfg.getString("output.file.path"), "/x");
    EXPECT_EQ(cfg.getDurationNs("timeout"), 60LL * 1000000000);
    EXPECT_EQ(cfg.getString("level"), "info");
}

TEST(SchemaTest, CfgIgnoreUnknownToleratesListedKeys) {
    Spec s = object({{"known", boolean(false)}, {"cfg_ignore_unknown", listOf(stringNoDefault())}});
    s.ignore_unknown_list = "cfg_ignore_unknown";
    Node n = parseYaml("known: true\nfuture_key: 1\ncfg_ignore_unknown: [future_key]\n", "a.yml");
    EXPECT_NO_THROW(validate(n, s));
    n = parseYaml("other_key: 1\ncfg_ignore_unknown: [future_key]\n", "a.yml");
    EXPECT_THROW(validate(n, s), ConfigError);
    n = parseYaml("other_key: 1\ncfg_ignore_unknown: [all]\n", "a.yml");
    EXPECT_NO_THROW(validate(n, s));
}

class LoaderTest : public ::testing::Test {
protected:
    LoadOptions opts() const {
        LoadOptions o;
        o.home = dir_.path();
        return o;
    }
    TempDir dir_;
};

TEST_F(LoaderTest, OverridesWinOverEveryFileAndFilesMergeInOrder) {
    dir_.write("a.yml", "name: from-a\ntags: [a]\nlogging.level: debug\n");
    dir_.write("b.yml", "name: from-b\nfields.x: 1\n");
    LoadOptions o = opts();
    o.files = {"a.yml", "b.yml"};
    o.overrides = {"name=from-E"};
    Node n = load(o);
    EXPECT_EQ(n.find("name")->text(), "from-E");
    EXPECT_EQ(n.find("tags")->items()[0].text(), "a");
    EXPECT_EQ(n.find("logging.level")->text(), "debug");
    EXPECT_EQ(n.find("fields.x")->text(), "1");
    EXPECT_EQ(n.find("path.data")->text(), dir_.path() + "/data");
}

TEST_F(LoaderTest, SipcmbeatSectionIsAnAliasAndSipbeatWins) {
    dir_.write("s.yml", "sipcmbeat:\n  bpf: udp\n  http_port: 1\nsipbeat.http_port: 2\n");
    LoadOptions o = opts();
    o.files = {"s.yml"};
    o.overrides = {"sipcmbeat.pcap=x.pcap"};
    Node n = load(o);
    EXPECT_EQ(n.child("sipcmbeat"), nullptr);
    EXPECT_EQ(n.find("sipbeat.bpf")->text(), "udp");
    EXPECT_EQ(n.find("sipbeat.http_port")->text(), "2");
    EXPECT_EQ(n.find("sipbeat.pcap")->text(), "x.pcap");
}

TEST_F(LoaderTest, PathConfigFromCommandLineLocatesFiles) {
    test::TempDir other;
    other.write("c.yml", "name: here\n");
    LoadOptions o = opts();
    o.files = {"c.yml"};
    o.overrides = {"path.config=" + other.path()};
    EXPECT_EQ(load(o).find("name")->text(), "here");
}

TEST_F(LoaderTest, PermissionsAreCheckedUnlessDisabled) {
    const std::string p = dir_.write("w.yml", "name: x\n");
    ::chmod(p.c_str(), 0666);
    LoadOptions o = opts();
    o.files = {"w.yml"};
    const std::string err = errorOf([&] { load(o); });
    EXPECT_NE(err.find("can only be writable by the owner but the permissions are "
                       "\"-rw-rw-rw-\" (to fix the permissions use: 'chmod go-w " +
                       p + "')"),
              std::string::npos)
        << err;
    o.strict_perms = false;
    EXPECT_EQ(load(o).find("name")->text(), "x");
}

TEST_F(LoaderTest, MissingFileIsNamed) {
    LoadOptions o = opts();
    o.files = {"nope.yml"};
    EXPECT_NE(errorOf([&] { load(o); }).find(dir_.path() + "/nope.yml"), std::string::npos);
}

TEST(RootSchemaTest, ExactlyOneOutputAndUnavailableOutputsExplained) {
    outputs::Registry reg;
    outputs::registerBuiltinOutputs(reg);
    TempDir dir;
    dir.write("sipbeat.yml", "");
    app::CliOptions cli;
    cli.overrides = {"output.console.enabled=true", "output.file.path=/tmp/x"};
    EXPECT_NE(errorOf([&] {
                  app::loadConfig(cli, reg, dir.path());
              }).find("more than one namespace configured accessing 'output'"),
              std::string::npos);
    cli.overrides = {"output.console.enabled=true", "output.file.path=/tmp/x",
                     "output.file.enabled=false"};
    EXPECT_EQ(errorOf([&] { app::loadConfig(cli, reg, dir.path()); }), "");
    cli.overrides = {"output.redis.hosts=[localhost]"};
    EXPECT_NE(errorOf([&] {
                  app::loadConfig(cli, reg, dir.path());
              }).find("output.redis is not available"),
              std::string::npos);
    cli.overrides = {};
    EXPECT_EQ(errorOf([&] { app::loadConfig(cli, reg, dir.path()); }),
              "No outputs are defined. Please define one under the output section.");
}

TEST(RootSchemaTest, EverySipcmbeatKeyIsAccepted) {
    outputs::Registry reg;
    outputs::registerBuiltinOutputs(reg);
    TempDir dir;
    // A sipcmbeat config as its users have them (sipcmbeat.md §5.2, shipped template).
    dir.write("sipbeat.yml",
              "sipcmbeat:\n"
              "  pcap: ''\n  bpf: 'udp and port 5060'\n  replay_min_delay: 275ms\n"
              "  replay_scale: 0.5\n  pcap_buf_kb: 4096\n  http_port: 8080\n"
              "  http_addr: 127.0.0.1\n  tcp_gc_int: 20s\n  calls_timeouts: {inv_1st: 30s}\n"
              "  event_types_blst: [msg-probe, other-failed]\n  evr_limits: [20, 240, 3600]\n"
              "  evr_intervals: [1s, 1m, 1h]\n  stats_groups: ['all']\n"
              "  encryption_key: 9eeeb97ee2e4619cc23767ae1dcfd82b\n  pcap_dump_queue_len: 10240\n"
              "output.console.pretty: true\n");
    app::CliOptions cli;
    EXPECT_EQ(errorOf([&] { app::loadConfig(cli, reg, dir.path()); }), "");
}

}  // namespace
}  // namespace sipbeat::config
