// SPDX-License-Identifier: Apache-2.0
#include "outputs/console/console_output.h"
#include "outputs/file/file_output.h"
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
        sections.emplace_back(std::string(f->name()), std::move(s));
    }
    return config::object(std::move(sections));
}

void registerBuiltinOutputs(Registry& registry) {
    registry.add(std::make_unique<file::FileFactory>());
    registry.add(std::make_unique<console::ConsoleFactory>());
}

}  // namespace sipbeat::outputs
