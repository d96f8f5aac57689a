// SPDX-License-Identifier: Apache-2.0
// Fuzz target: untrusted bytes as an encoded event → JsonFieldSource lookups (plain,
// dotted, literal-dot keys, lists), conditions of every kind on it, format strings and a
// Selector with rules. Nothing may crash or hang; every view a lookup hands out must be
// readable (the sanitizers check the bytes touched below).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "beat/config/node.h"
#include "beat/config/schema.h"
#include "beat/encode/encoded_event.h"
#include "beat/processors/condition.h"
#include "beat/processors/field_source.h"
#include "outputs/common/format_string.h"

namespace {

using sipbeat::processors::ConditionPtr;
using sipbeat::processors::JsonFieldSource;

struct Fixture {
    ConditionPtr condition;
    sipbeat::outputs::FormatString format;
    sipbeat::outputs::Selector selector;
};

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture x;
        const sipbeat::config::Node cond = sipbeat::config::parseYaml(
            "or:\n"
            "  - equals: {sip.method: INVITE}\n"
            "  - and:\n"
            "      - range: {sip.status: {gte: 400, lt: 700}}\n"
            "      - network: {source.ip: [private, '2001:db8::/32']}\n"
            "  - regexp: {tags: '(?i)^la(b|x)+$'}\n"
            "  - contains: {user_agent.original: Asterisk}\n"
            "  - not: {has_fields: ['log.level', a.b.c]}\n",
            "fuzz.yml");
        x.condition = sipbeat::processors::compileCondition(cond, "when").value();
        x.format = sipbeat::outputs::FormatString::parse(
                       "%{[sip.method]}-%{[a][b]:none}-%{[sip.status]}-%{+yyyy.MM.dd HH:mm:ss.SSS "
                       "xxxx-ww}")
                       .value();
        auto schema = std::make_shared<sipbeat::config::Spec>(sipbeat::config::object(
            {{"out", sipbeat::config::object(
                         {{"index", sipbeat::config::string("sipbeat-%{[agent.version]}")},
                          {"indices", sipbeat::outputs::Selector::rulesSchema("index")}})}}));
        sipbeat::config::Node root = sipbeat::config::parseYaml(
            "out.indices:\n"
            "  - index: '%{[type]}'\n"
            "    mappings: {sip: messages, call: calls}\n"
            "    default: other\n"
            "    when.has_fields: [type]\n"
            "  - index: 'x-%{[sip.method]}'\n"
            "    when.network: {destination.ip: public}\n",
            "fuzz.yml");
        sipbeat::config::validate(root, *schema);
        const sipbeat::config::Config cfg(std::move(root), schema);
        x.selector =
            sipbeat::outputs::Selector::fromConfig(cfg, "out", "index", "indices", true).value();
        return x;
    }();
    return f;
}

unsigned touch(std::string_view v) {
    unsigned sum = 0;
    for (const char c : v) {
        sum += static_cast<unsigned char>(c);
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Fixture& fx = fixture();
    sipbeat::encode::EncodedEvent event;
    event.json.assign(reinterpret_cast<const char*>(data), size);
    event.timestamp = static_cast<sipbeat::core::TimestampNs>(size) * 86400000000000LL;
    const std::string_view input = event.json;

    const JsonFieldSource src(input);
    for (std::string_view name : {"sip.method", "sip", "a.b.c", "log.level", "tags", "a", "",
                                  "@metadata.beat", "x.y.z.w", "sip.status"}) {
        if (const sipbeat::event::Field* f = src.lookup(name)) {
            unsigned sum = touch(f->key) + touch(f->s);
            for (std::string_view s : f->list) {
                sum += touch(s);
            }
            if (f->kind == sipbeat::event::ValueKind::String && f->s.size() > size) {
                std::abort();  // a decoded string is never longer than its JSON text
            }
            (void)sum;
        }
        (void)src.has(name);
    }
    (void)fx.condition->check(src);
    (void)fx.format.expand(event, src);
    (void)fx.selector.select(event);
    return 0;
}
