// SPDX-License-Identifier: Apache-2.0
#include "outputs/console/console_output.h"
#include "outputs/elasticsearch/es_output.h"
#include "outputs/file/file_output.h"
#include "outputs/kafka/kafka_output.h"
#include "outputs/logstash/logstash_output.h"
#include "outputs/output.h"

namespace sipbeat::outputs {

void Registry::add(FactoryPtr factory) {
    factories_.push_back(std::move(factory));
}

const Factory* Registry::find(std::string_view name) const {
    for (const auto& f : factories_) {
        if (f->name() == name) {
            return f.get();
        }
    }
    return nullptr;
}

std::vector<std::string_view> Registry::names() const {
    std::vector<std::string_view> out;
    for (const auto& f : factories_) {
        out.push_back(f->name());
    }
    return out;
}

config::Spec Registry::schema() const {
    std::vector<std::pair<std::string, config::Spec>> sections;
    for (const auto& f : factories_) {
        config::Spec s = f->schema();
        s.fields.insert(s.fields.begin(), {"enabled", config::boolean(true)});
        s.fields.emplace_back("queue", queueSchema());
        sections.emplace_back(std::string(f->name()), std::move(s));
    }
    return config::object(std::move(sections));
}

config::Spec queueSchema() {
    return config::object({
        {"mem",
         config::object({{"events", config::integer(3200, 32)},
                         {"flush", config::object({{"min_events", config::integer(1600, 0)},
                                                   {"timeout", config::duration("10s", 0)}})}})},
        // Sizes are byte counts or "200MB", "10GiB" (go-humanize, as libbeat); read by the
        // app, which names the key when one is wrong.
        {"disk", config::object({{"path", config::stringNoDefault()},
                                 {"max_size", config::stringNoDefault()},
                                 {"segment_size", config::stringNoDefault()},
                                 {"read_ahead", config::integer(512, 1)},
                                 {"write_ahead", config::integer(2048, 1)},
                                 {"retry_interval", config::duration("1s", 0)},
                                 {"max_retry_interval", config::duration("30s", 0)}})},
    });
}

void registerBuiltinOutputs(Registry& registry) {
    registry.add(std::make_unique<elasticsearch::ElasticsearchFactory>());
    registry.add(std::make_unique<logstash::LogstashFactory>());
    registry.add(std::make_unique<kafka::KafkaFactory>());
    registry.add(std::make_unique<file::FileFactory>());
    registry.add(std::make_unique<console::ConsoleFactory>());
}

}  // namespace sipbeat::outputs
