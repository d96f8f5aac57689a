// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/format_string.h"

#include <memory>

#include <gtest/gtest.h>

#include "beat/config/node.h"
#include "beat/config/schema.h"
#include "beat/processors/field_source.h"

namespace sipbeat::outputs {
namespace {

// 2024-03-05T07:08:09.123456789Z
constexpr core::TimestampNs kTs = 1709622489123456789LL;

encode::EncodedEvent eventOf(std::string json, core::TimestampNs ts = kTs) {
    encode::EncodedEvent e;
    e.json = std::move(json);
    e.timestamp = ts;
    return e;
}

const char* const kJson =
    R"({"@timestamp":"2024-03-05T07:08:09.123Z","@metadata":{"beat":"sipbeat","version":"0.1.0"},)"
    R"("agent":{"version":"0.1.0","name":"Probe-1"},"type":"sip","sip":{"method":"INVITE",)"
    R"("status":200,"ratio":0.25,"big":1234567.5,"small":0.00001,"ok":true,"empty":""},)"
    R"("tags":["a"],"log.level":"info"})";

std::optional<std::string> expand(const std::string& fmt, const std::string& json = kJson,
                                  core::TimestampNs ts = kTs) {
    core::Result<FormatString> fs = FormatString::parse(fmt);
    EXPECT_TRUE(fs.isOk()) << fmt << ": " << fs.status().message();
    if (!fs) {
        return std::nullopt;
    }
    const encode::EncodedEvent ev = eventOf(json, ts);
    const processors::JsonFieldSource src(ev.json);
    return fs->expand(ev, src);
}

std::string parseError(const std::string& fmt) {
    core::Result<FormatString> fs = FormatString::parse(fmt);
    EXPECT_FALSE(fs.isOk()) << fmt;
    return fs ? std::string() : fs.status().message();
}

TEST(FormatStringTest, FieldForms) {
    EXPECT_EQ(expand("%{[sip.method]}"), "INVITE");
    EXPECT_EQ(expand("%{[sip][method]}"), "INVITE");
    EXPECT_EQ(expand("x-%{[sip.method]}-%{[type]}-y"), "x-INVITE-sip-y");
    EXPECT_EQ(expand("%{[@metadata][beat]}-%{[agent.version]}"), "sipbeat-0.1.0");
    EXPECT_EQ(expand("%{[log.level]}"), "info");
    EXPECT_EQ(expand("%{[sip.method] }"), "INVITE");
}

TEST(FormatStringTest, ValuesAsText) {
    EXPECT_EQ(expand("%{[sip.status]}"), "200");
    EXPECT_EQ(expand("%{[sip.ok]}"), "true");
    EXPECT_EQ(expand("%{[sip.ratio]}"), "0.25");
    EXPECT_EQ(expand("%{[sip.big]}"), "1.2345675e+06");  // Go's %g, shortest
    EXPECT_EQ(expand("%{[sip.small]}"), "1e-05");
    EXPECT_EQ(expand("%{[agent.name]}"), "Probe-1");  // raw, no case change
}

TEST(FormatStringTest, MissingFieldsAndDefaults) {
    EXPECT_EQ(expand("%{[nope]}"), std::nullopt);
    EXPECT_EQ(expand("a-%{[nope]}-b"), std::nullopt);
    EXPECT_EQ(expand("%{[nope]:fallback}"), "fallback");
    EXPECT_EQ(expand("%{[sip.method]:fallback}"), "INVITE");
    EXPECT_EQ(expand("%{[nope]:}"), "");
    EXPECT_EQ(expand("%{[sip.empty]:was-empty}"), "was-empty");  // libbeat: "" takes default
    EXPECT_EQ(expand("%{[sip.empty]}"), "");
    EXPECT_EQ(expand("%{[tags]}"), std::nullopt);  // a list is no text
    EXPECT_EQ(expand("%{[tags]:d}"), "d");
    EXPECT_EQ(expand("%{[sip]:obj}"), "obj");
    EXPECT_EQ(expand("%{[sip.method]}", "not json"), std::nullopt);
    EXPECT_EQ(expand("%{[x]:a b c}"), "a b c");
    EXPECT_EQ(expand("%{[x]:a\\:b}"), "a:b");
}

TEST(FormatStringTest, Dates) {
    EXPECT_EQ(expand("sipbeat-%{+yyyy.MM.dd}"), "sipbeat-2024.03.05");
    EXPECT_EQ(expand("%{+yy-M-d H:m:s}"), "24-3-5 7:8:9");
    EXPECT_EQ(expand("%{+HH\\:mm\\:ss.SSS}"), "07:08:09.123");
    EXPECT_EQ(expand("%{+HH:mm:ss}"), "07:08:09");  // `:` is text in a date pattern
    EXPECT_EQ(expand("%{+yyyyMMdd'T'HHmmss}"), "20240305T070809");
    EXPECT_EQ(expand("%{+'week' xxxx-ww}"), "week 2024-10");
    EXPECT_EQ(expand("%{+SSSSSS|SSSSSSSSSSS}"), "123456|12345678900");
    EXPECT_EQ(expand("%{+EEE EEEE MMM MMMM D a hh kk KK}"), "Tue Tuesday Mar March 65 AM 07 07 07");
    EXPECT_EQ(expand("%{+''yyyy''}"), "'2024'");
    EXPECT_EQ(expand("%{+ZZ}"), "+00:00");
    // Epoch, leap day, year end and ISO week edge: 2021-01-03 is in week 53 of 2020.
    EXPECT_EQ(expand("%{+yyyy-MM-dd HH:mm:ss}", kJson, 0), "1970-01-01 00:00:00");
    EXPECT_EQ(expand("%{+yyyy-MM-dd}", kJson, 1709164800LL * 1000000000LL), "2024-02-29");
    EXPECT_EQ(expand("%{+yyyy-MM-dd HH:mm:ss}", kJson, 1704067199LL * 1000000000LL),
              "2023-12-31 23:59:59");
    EXPECT_EQ(expand("%{+xxxx.ww e}", kJson, 1609632000LL * 1000000000LL), "2020.53 7");
    // Before the epoch.
    EXPECT_EQ(expand("%{+yyyy-MM-dd HH:mm:ss.SSS}", kJson, -1000000LL), "1969-12-31 23:59:59.999");
}

TEST(FormatStringTest, LiteralsAndEscapes) {
    EXPECT_EQ(expand("plain"), "plain");
    EXPECT_EQ(expand(""), "");
    EXPECT_EQ(expand("100%"), "100%");
    EXPECT_EQ(expand("a}b"), "a}b");
    EXPECT_EQ(expand("50% {x}"), "50% {x}");
    EXPECT_EQ(expand("\\%{[sip.method]}"), "%{[sip.method]}");
}

TEST(FormatStringTest, ParseErrors) {
    EXPECT_NE(parseError("%{[a]").find("missing closing '}'"), std::string::npos);
    EXPECT_NE(parseError("x %{").find("missing closing"), std::string::npos);
    EXPECT_NE(parseError("%{}").find("empty format expansion"), std::string::npos);
    EXPECT_NE(parseError("%{a.b}").find("unsupported format expression"), std::string::npos);
    EXPECT_NE(parseError("%{[a]:x:y}").find("too many format modifiers"), std::string::npos);
    EXPECT_NE(parseError("%{[a]:?x}").find("unsupported format operator"), std::string::npos);
    EXPECT_NE(parseError("%{[a][]}").find("empty fields selector"), std::string::npos);
    EXPECT_NE(parseError("%{[a]b}").find("expected field extractor"), std::string::npos);
    EXPECT_NE(parseError("%{[a}").find("missing closing ']'"), std::string::npos);
    EXPECT_NE(parseError("%{[a%{[b]}]}").find("nested"), std::string::npos);
    EXPECT_NE(parseError("%{+yyyy-qq}").find("unsupported pattern letter 'q'"), std::string::npos);
    EXPECT_NE(parseError("%{+yyyy 'open}").find("unterminated quote"), std::string::npos);
    EXPECT_NE(parseError("%{ [a]}").find("unsupported format expression"), std::string::npos);
}

TEST(FormatStringTest, BindMakesStaticFieldsConstant) {
    core::Result<FormatString> fs = FormatString::parse("sipbeat-%{[agent.version]}-%{+yyyy}");
    ASSERT_TRUE(fs.isOk());
    EXPECT_FALSE(fs->isConstant());
    fs->bind({{"agent.version", "0.1.0"}});
    EXPECT_TRUE(fs->isConstant());
    EXPECT_EQ(fs->text(), "sipbeat-%{[agent.version]}-%{+yyyy}");

    // A constant format never looks at the event: the JSON below is not even valid.
    const encode::EncodedEvent ev = eventOf("{{{ not json", kTs);
    const processors::JsonFieldSource src(ev.json);
    EXPECT_EQ(fs->expand(ev, src), "sipbeat-0.1.0-2024");

    core::Result<FormatString> partial = FormatString::parse("%{[a]}-%{[b]:dflt}-%{[c]:x}");
    ASSERT_TRUE(partial.isOk());
    partial->bind({{"b", ""}, {"c", "C"}});
    EXPECT_FALSE(partial->isConstant());
    EXPECT_EQ(partial->expand(eventOf(R"({"a":"A"})"), processors::JsonFieldSource(R"({"a":"A"})")),
              "A-dflt-C");
}

/// A FieldSource that counts lookups, to show what is (not) read.
class CountingSource final : public processors::FieldSource {
public:
    explicit CountingSource(std::string_view json) : inner_(json) {}
    const event::Field* lookup(std::string_view dotted) const override {
        ++lookups;
        return inner_.lookup(dotted);
    }
    bool has(std::string_view dotted) const override {
        ++lookups;
        return inner_.has(dotted);
    }
    mutable int lookups = 0;

private:
    processors::JsonFieldSource inner_;
};

TEST(FormatStringTest, ConstantFormatsDoNoLookup) {
    core::Result<FormatString> fs = FormatString::parse("sipbeat-%{+yyyy.MM.dd}");
    ASSERT_TRUE(fs.isOk());
    EXPECT_TRUE(fs->isConstant());
    const encode::EncodedEvent ev = eventOf(kJson);
    const CountingSource src(ev.json);
    EXPECT_EQ(fs->expand(ev, src), "sipbeat-2024.03.05");
    EXPECT_EQ(src.lookups, 0);
}

// ---------------------------------------------------------------------------------------
// Selector

config::Config configOf(const std::string& yaml) {
    auto schema = std::make_shared<config::Spec>(config::object({
        {"output", config::object({{"elasticsearch",
                                    config::object({
                                        {"index", config::string("sipbeat-%{[agent.version]}")},
                                        {"indices", Selector::rulesSchema("index")},
                                        {"pipeline", config::stringNoDefault()},
                                        {"pipelines", Selector::rulesSchema("pipeline")},
                                    })}})},
    }));
    config::Node root = config::parseYaml(yaml, "sipbeat.yml");
    config::validate(root, *schema);
    return config::Config(std::move(root), schema);
}

Selector selectorOf(const std::string& yaml, const std::string& key = "index",
                    const std::string& rules = "indices", bool lower = true) {
    core::Result<Selector> s =
        Selector::fromConfig(configOf(yaml), "output.elasticsearch", key, rules, lower);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s ? std::move(*s) : Selector{};
}

std::string selectorError(const std::string& yaml) {
    core::Result<Selector> s =
        Selector::fromConfig(configOf(yaml), "output.elasticsearch", "index", "indices", true);
    EXPECT_FALSE(s.isOk());
    return s ? std::string() : s.status().message();
}

TEST(SelectorTest, ScalarOnlyUsesDefaultFromSchema) {
    Selector s = selectorOf("output.elasticsearch: {}\n");
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.select(eventOf(kJson)), "sipbeat-0.1.0");
    EXPECT_EQ(s.select(eventOf(R"({"x":1})")), std::nullopt);  // agent.version missing
    s.bind({{"agent.version", "9.9.9"}});
    EXPECT_EQ(s.select(eventOf("garbage")), "sipbeat-9.9.9");
}

TEST(SelectorTest, ScalarIsLowerCasedForIndices) {
    Selector s = selectorOf("output.elasticsearch.index: 'Calls-%{[agent.name]}-%{+yyyy.MM}'\n");
    EXPECT_EQ(s.select(eventOf(kJson)), "calls-probe-1-2024.03");
    Selector keep = selectorOf("output.elasticsearch.index: 'Calls-%{[agent.name]}'\n", "index",
                               "indices", false);
    EXPECT_EQ(keep.select(eventOf(kJson)), "Calls-Probe-1");
}

TEST(SelectorTest, EmptyWhenNothingConfigured) {
    Selector s = selectorOf("output.elasticsearch: {}\n", "pipeline", "pipelines");
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.select(eventOf(kJson)), std::nullopt);
}

TEST(SelectorTest, RulesFirstMatchWinsThenScalar) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  index: 'sipbeat-other'\n"
        "  indices:\n"
        "    - index: 'sip-errors-%{+yyyy.MM.dd}'\n"
        "      when.range: {sip.status.gte: 400}\n"
        "    - index: 'sip-%{[sip.method]}'\n"
        "      when.equals: {type: sip}\n"
        "    - index: 'never-reached'\n");
    EXPECT_EQ(s.select(eventOf(kJson)), "sip-invite");
    EXPECT_EQ(s.select(eventOf(R"({"type":"sip","sip":{"status":486,"method":"INVITE"}})")),
              "sip-errors-2024.03.05");
    EXPECT_EQ(s.select(eventOf(R"({"type":"call"})")), "never-reached");
    // A rule whose field is missing (no default) gives nothing: the next rule is tried.
    EXPECT_EQ(s.select(eventOf(R"({"type":"sip"})")), "never-reached");
}

TEST(SelectorTest, FallsBackToScalarWhenNoRuleMatches) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  index: 'fallback'\n"
        "  indices:\n"
        "    - index: 'calls'\n"
        "      when.equals: {type: call}\n");
    EXPECT_EQ(s.select(eventOf(R"({"type":"call"})")), "calls");
    EXPECT_EQ(s.select(eventOf(R"({"type":"sip"})")), "fallback");
}

TEST(SelectorTest, MappingsAndDefault) {
    // The Beats docs' example shape: a field value mapped to a name, `default` otherwise.
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  index: 'fallback'\n"
        "  indices:\n"
        "    - index: '%{[sip.method]}'\n"
        "      mappings:\n"
        "        INVITE: 'sip-calls'\n"
        "        register: 'sip-Regs'\n"
        "        sip.dotted: 'dotted'\n"
        "      default: 'SIP-Other'\n");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"INVITE"}})")), "sip-calls");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"REGISTER"}})")), "sip-regs");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"OPTIONS"}})")), "sip-other");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"sip.dotted"}})")), "dotted");
    EXPECT_EQ(s.select(eventOf(R"({"type":"x"})")), "sip-other");  // missing field → default
}

TEST(SelectorTest, MappingWithoutDefaultFallsThrough) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  index: 'fallback'\n"
        "  indices:\n"
        "    - index: '%{[sip.method]}'\n"
        "      mappings: {INVITE: calls}\n",
        "index", "indices", false);
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"INVITE"}})")), "calls");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"BYE"}})")), "fallback");
}

TEST(SelectorTest, DefaultWithoutMappingsForMissingFields) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  indices:\n"
        "    - index: 'sip-%{[sip.method]}'\n"
        "      default: 'sip-unknown'\n");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"method":"BYE"}})")), "sip-bye");
    EXPECT_EQ(s.select(eventOf(R"({"type":"x"})")), "sip-unknown");
}

TEST(SelectorTest, PipelinesRules) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  pipelines:\n"
        "    - pipeline: 'Calls-Pipe'\n"
        "      when.has_fields: [sip.call_id]\n",
        "pipeline", "pipelines", true);
    EXPECT_EQ(s.select(eventOf(R"({"sip":{"call_id":"abc"}})")), "calls-pipe");
    EXPECT_EQ(s.select(eventOf(R"({"sip":{}})")), std::nullopt);
}

TEST(SelectorTest, BindReachesRules) {
    Selector s = selectorOf(
        "output.elasticsearch:\n"
        "  indices:\n"
        "    - index: 'sipbeat-%{[agent.version]}-%{+yyyy}'\n");
    s.bind({{"agent.version", "1.2.3"}});
    EXPECT_EQ(s.select(eventOf("not json at all")), "sipbeat-1.2.3-2024");
}

TEST(SelectorTest, ConfigErrorsNameKeyAndFile) {
    std::string e = selectorError(
        "output.elasticsearch:\n"
        "  indices:\n"
        "    - index: '%{[a'\n");
    EXPECT_NE(e.find("accessing 'output.elasticsearch.indices.0.index'"), std::string::npos) << e;
    EXPECT_NE(e.find("(source:'sipbeat.yml', line 3)"), std::string::npos) << e;

    e = selectorError(
        "output.elasticsearch:\n"
        "  indices:\n"
        "    - index: x\n"
        "    - index: y\n"
        "      when.equals: {a: [1]}\n");
    EXPECT_NE(e.find("accessing 'output.elasticsearch.indices.1.when.equals.a'"), std::string::npos)
        << e;
    EXPECT_NE(e.find("sipbeat.yml"), std::string::npos) << e;

    e = selectorError(
        "output.elasticsearch:\n"
        "  indices:\n"
        "    - index: x\n"
        "      mappings: {a: [1]}\n");
    EXPECT_NE(e.find("accessing 'output.elasticsearch.indices.0.mappings'"), std::string::npos)
        << e;

    e = selectorError("output.elasticsearch.index: '%{nope}'\n");
    EXPECT_NE(e.find("accessing 'output.elasticsearch.index' (source:'sipbeat.yml', line 1)"),
              std::string::npos)
        << e;
}

TEST(SelectorTest, SchemaRejectsRulesWithoutKeyOrUnknownKeys) {
    std::string msg;
    try {
        configOf("output.elasticsearch.indices: [{when.equals: {a: 1}}]\n");
    } catch (const config::ConfigError& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("output.elasticsearch.indices.0.index"), std::string::npos) << msg;
    msg.clear();
    try {
        configOf("output.elasticsearch.indices: [{index: a, mapping: {}}]\n");
    } catch (const config::ConfigError& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("mapping"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sipbeat::outputs
