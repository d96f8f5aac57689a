// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/field_source.h"

#include <rapidjson/document.h>

namespace sipbeat::processors {

namespace {

constexpr std::string_view kMetadataPrefix = "@metadata.";

/// `key` is `prefix` itself or below it (`sip` covers `sip.method`, not `sipx`).
bool coveredBy(std::string_view key, std::string_view prefix) {
    return key.size() >= prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
           (key.size() == prefix.size() || key[prefix.size()] == '.');
}

}  // namespace

// ---------------------------------------------------------------------------------------
// DocumentFieldSource

const event::Field* DocumentFieldSource::lookup(std::string_view dotted) const {
    if (const event::Field* f = doc_.get(dotted)) {
        return f;
    }
    if (dotted.starts_with(kMetadataPrefix)) {
        const std::string_view key = dotted.substr(kMetadataPrefix.size());
        for (const event::Field& f : doc_.meta()) {
            if (f.key == key) {
                return &f;
            }
        }
    }
    return nullptr;
}

bool DocumentFieldSource::has(std::string_view dotted) const {
    if (dotted == "@timestamp") {
        return true;  // every event has one (Document::timestamp)
    }
    for (const event::Field& f : doc_.fields()) {
        if (coveredBy(f.key, dotted)) {
            return true;
        }
    }
    if (dotted == "@metadata") {
        return !doc_.meta().empty();
    }
    if (dotted.starts_with(kMetadataPrefix)) {
        const std::string_view key = dotted.substr(kMetadataPrefix.size());
        for (const event::Field& f : doc_.meta()) {
            if (coveredBy(f.key, key)) {
                return true;
            }
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------
// JsonFieldSource

struct JsonFieldSource::Parsed {
    rapidjson::Document doc;
    bool ok = false;
    /// What lookup() returns; reused, so a lookup allocates only for list values.
    mutable event::Field scratch;
};

JsonFieldSource::JsonFieldSource(std::string_view json) : json_(json) {}

JsonFieldSource::~JsonFieldSource() = default;

const JsonFieldSource::Parsed& JsonFieldSource::parsed() const {
    if (!parsed_) {
        parsed_ = std::make_unique<Parsed>();
        // Iterative parsing: a hostile event nested a million levels deep must not
        // exhaust the stack (rapidjson's recursive parser would).
        parsed_->doc.Parse<rapidjson::kParseIterativeFlag>(json_.data(), json_.size());
        parsed_->ok = !parsed_->doc.HasParseError() && parsed_->doc.IsObject();
    }
    return *parsed_;
}

namespace {

using JsonValue = rapidjson::Value;

const JsonValue* member(const JsonValue& obj, std::string_view name) {
    // A Value key, not a C string: the name is not NUL-terminated here.
    const JsonValue key(
        rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
    const auto it = obj.FindMember(key);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

/// Walks `dotted` down nested objects. As Beats' mapstr does, a key that literally holds
/// dots (`{"log.level": …}`) is found too: at each level the whole remaining name is tried
/// first, then every split at a dot (so `a.b.c` finds `{"a":{"b.c":…}}` and
/// `{"a.b":{"c":…}}`).
const JsonValue* find(const JsonValue& obj, std::string_view dotted) {
    if (!obj.IsObject() || dotted.empty()) {
        return nullptr;
    }
    if (const JsonValue* v = member(obj, dotted)) {
        return v;
    }
    for (size_t dot = dotted.find('.'); dot != std::string_view::npos;
         dot = dotted.find('.', dot + 1)) {
        const JsonValue* child = member(obj, dotted.substr(0, dot));
        if (child == nullptr || !child->IsObject()) {
            continue;
        }
        if (const JsonValue* v = find(*child, dotted.substr(dot + 1))) {
            return v;
        }
    }
    return nullptr;
}

std::string_view viewOf(const JsonValue& v) {
    return {v.GetString(), v.GetStringLength()};
}

}  // namespace

const event::Field* JsonFieldSource::lookup(std::string_view dotted) const {
    const Parsed& p = parsed();
    if (!p.ok) {
        return nullptr;
    }
    const JsonValue* v = find(p.doc, dotted);
    if (v == nullptr) {
        return nullptr;
    }
    event::Field& f = p.scratch;
    f.key = dotted;
    f.list.clear();
    f.ints.clear();
    switch (v->GetType()) {
        case rapidjson::kFalseType:
        case rapidjson::kTrueType:
            f.kind = event::ValueKind::Bool;
            f.b = v->GetBool();
            return &f;
        case rapidjson::kStringType:
            f.kind = event::ValueKind::String;
            f.s = viewOf(*v);
            return &f;
        case rapidjson::kNumberType:
            if (v->IsInt64()) {
                f.kind = event::ValueKind::Int;
                f.i = v->GetInt64();
            } else if (v->IsUint64()) {
                f.kind = event::ValueKind::Uint;
                f.u = v->GetUint64();
            } else {
                f.kind = event::ValueKind::Double;
                f.d = v->GetDouble();
            }
            return &f;
        case rapidjson::kArrayType: {
            // Lists of strings and lists of integers are what events carry (`tags`,
            // `related.ip`, `sip.sdp.media.port`); other arrays are no leaf value.
            bool strings = true;
            bool ints = true;
            for (const JsonValue& item : v->GetArray()) {
                strings = strings && item.IsString();
                ints = ints && item.IsInt64();
            }
            if (strings) {
                f.kind = event::ValueKind::StringList;
                for (const JsonValue& item : v->GetArray()) {
                    f.list.push_back(viewOf(item));
                }
                return &f;
            }
            if (ints) {
                f.kind = event::ValueKind::IntList;
                for (const JsonValue& item : v->GetArray()) {
                    f.ints.push_back(item.GetInt64());
                }
                return &f;
            }
            return nullptr;
        }
        case rapidjson::kNullType:
        case rapidjson::kObjectType:
            return nullptr;
    }
    return nullptr;
}

bool JsonFieldSource::has(std::string_view dotted) const {
    const Parsed& p = parsed();
    if (!p.ok) {
        return false;
    }
    const JsonValue* v = find(p.doc, dotted);
    if (v == nullptr) {
        return false;
    }
    // An object counts when something is below it; null counts as present, as a nil
    // value does in a Beats event.
    return !v->IsObject() || v->MemberCount() > 0;
}

}  // namespace sipbeat::processors
