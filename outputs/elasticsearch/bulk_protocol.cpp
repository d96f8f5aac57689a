// SPDX-License-Identifier: Apache-2.0
#include "outputs/elasticsearch/bulk_protocol.h"

#include <charconv>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sipbeat::outputs::elasticsearch {

namespace {

constexpr size_t kNpos = std::string_view::npos;

bool readNumber(std::string_view& text, int& out) {
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec != std::errc() || ptr == begin || out < 0) {
        return false;
    }
    text.remove_prefix(static_cast<size_t>(ptr - begin));
    return true;
}

size_t skipSpace(std::string_view s, size_t pos) {
    while (pos < s.size() &&
           (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) {
        ++pos;
    }
    return pos;
}

// Position after the string literal starting at `pos` (a '"'), or npos.
size_t skipString(std::string_view s, size_t pos) {
    for (++pos; pos < s.size(); ++pos) {
        if (s[pos] == '\\') {
            ++pos;
        } else if (s[pos] == '"') {
            return pos + 1;
        }
    }
    return kNpos;
}

// Position after the JSON value starting at `pos`, or npos. Only the structure is
// checked (brackets and strings balance): enough to cut a member out of valid JSON.
size_t skipValue(std::string_view s, size_t pos) {
    if (pos >= s.size()) {
        return kNpos;
    }
    if (s[pos] == '"') {
        return skipString(s, pos);
    }
    if (s[pos] == '{' || s[pos] == '[') {
        // A depth counter suffices: strings are skipped whole, so their brackets do not count.
        size_t depth = 0;
        while (pos < s.size()) {
            const char c = s[pos];
            if (c == '"') {
                pos = skipString(s, pos);
                if (pos == kNpos) {
                    return kNpos;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return pos + 1;
                }
            }
            ++pos;
        }
        return kNpos;
    }
    const size_t start = pos;
    while (pos < s.size() && s[pos] != ',' && s[pos] != '}' && s[pos] != ']' && s[pos] != ' ' &&
           s[pos] != '\n' && s[pos] != '\r' && s[pos] != '\t') {
        ++pos;
    }
    return pos == start ? kNpos : pos;
}

std::string stringMember(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::optional<EsVersion> EsVersion::parse(std::string_view text) {
    EsVersion v;
    if (!readNumber(text, v.major)) {
        return std::nullopt;
    }
    // "8", "8.15", "8.15.0", "8.15.0-SNAPSHOT" are all versions; missing parts are zero.
    if (!text.empty() && text.front() == '.') {
        text.remove_prefix(1);
        if (!readNumber(text, v.minor)) {
            return std::nullopt;
        }
        if (!text.empty() && text.front() == '.') {
            text.remove_prefix(1);
            if (!readNumber(text, v.patch)) {
                return std::nullopt;
            }
        }
    }
    if (!text.empty() && text.front() != '-' && text.front() != '+') {
        return std::nullopt;
    }
    return v;
}

bool EsVersion::lessThan(const EsVersion& other) const {
    if (major != other.major) {
        return major < other.major;
    }
    if (minor != other.minor) {
        return minor < other.minor;
    }
    return patch < other.patch;
}

std::string EsVersion::toString() const {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

core::Result<std::string> parseRootResponse(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) {
        return core::Status::error(std::string("invalid JSON from Elasticsearch: ") +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsObject()) {
        return core::Status::error("the answer of Elasticsearch is not a JSON object");
    }
    const rapidjson::Value& root = doc;
    auto version = root.FindMember("version");
    if (version == root.MemberEnd() || !version->value.IsObject()) {
        return core::Status::error("the answer of Elasticsearch has no version");
    }
    std::string number = stringMember(version->value, "number");
    if (number.empty() || !EsVersion::parse(number)) {
        return core::Status::error("the answer of Elasticsearch has no valid version.number");
    }
    return number;
}

bool splitMetadata(std::string_view json, EventMeta& out) {
    out.source_head = json;
    out.source_tail = {};
    out.index.clear();
    out.raw_index.clear();
    out.pipeline.clear();
    out.id.clear();
    out.op_type.clear();

    size_t pos = skipSpace(json, 0);
    if (pos >= json.size() || json[pos] != '{') {
        return false;
    }
    pos = skipSpace(json, pos + 1);
    size_t prev_value_end = kNpos;  // end of the previous member's value
    while (pos < json.size() && json[pos] != '}') {
        const size_t key_start = pos;
        if (json[pos] != '"') {
            return false;
        }
        const size_t key_end = skipString(json, pos);
        if (key_end == kNpos) {
            return false;
        }
        pos = skipSpace(json, key_end);
        if (pos >= json.size() || json[pos] != ':') {
            return false;
        }
        const size_t value_start = skipSpace(json, pos + 1);
        const size_t value_end = skipValue(json, value_start);
        if (value_end == kNpos) {
            return false;
        }
        pos = skipSpace(json, value_end);
        const bool more = pos < json.size() && json[pos] == ',';
        if (json.substr(key_start, key_end - key_start) == "\"@metadata\"") {
            if (prev_value_end != kNpos) {
                // ..."x":1,"@metadata":{...}  → cut from the comma before it.
                out.source_head = json.substr(0, prev_value_end);
                out.source_tail = json.substr(value_end);
            } else {
                // {"@metadata":{...},"x":1 → cut up to the member after it.
                out.source_head = json.substr(0, key_start);
                out.source_tail = json.substr(more ? skipSpace(json, pos + 1) : value_end);
            }
            rapidjson::Document meta;
            meta.Parse(json.data() + value_start, value_end - value_start);
            if (!meta.HasParseError() && meta.IsObject()) {
                out.index = stringMember(meta, "index");
                out.raw_index = stringMember(meta, "raw_index");
                out.pipeline = stringMember(meta, "pipeline");
                out.id = stringMember(meta, "_id");
                out.op_type = stringMember(meta, "op_type");
            }
            return true;
        }
        prev_value_end = value_end;
        if (!more) {
            break;
        }
        pos = skipSpace(json, pos + 1);
    }
    return pos < json.size() && json[pos] == '}';
}

std::string_view opName(BulkOp op) {
    switch (op) {
        case BulkOp::Create:
            return "create";
        case BulkOp::Index:
            return "index";
        case BulkOp::Delete:
            return "delete";
    }
    return "index";
}

BulkOp chooseOp(const EsVersion& es, std::string_view op_type, std::string_view id) {
    if (op_type == "delete" && !id.empty()) {
        return BulkOp::Delete;
    }
    if (op_type == "index") {
        return BulkOp::Index;
    }
    if (!id.empty() || op_type == "create" || !es.lessThan(EsVersion{7, 5, 0})) {
        return BulkOp::Create;
    }
    return BulkOp::Index;
}

void appendJsonString(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out.push_back(kHex[u >> 4]);
                    out.push_back(kHex[u & 15]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

void appendActionLine(std::string& body, BulkOp op, std::string_view index,
                      std::string_view pipeline, std::string_view id, bool with_type) {
    body += "{\"";
    body += opName(op);
    body += "\":{\"_index\":";
    appendJsonString(body, index);
    if (with_type) {
        body += ",\"_type\":\"doc\"";
    }
    if (!pipeline.empty()) {
        body += ",\"pipeline\":";
        appendJsonString(body, pipeline);
    }
    if (!id.empty()) {
        body += ",\"_id\":";
        appendJsonString(body, id);
    }
    body += "}}\n";
}

std::string_view findTimestamp(std::string_view source_head) {
    static constexpr std::string_view kKey = "\"@timestamp\":\"";
    const size_t at = source_head.find(kKey);
    if (at == kNpos) {
        return {};
    }
    const size_t start = at + kKey.size();
    const size_t end = source_head.find('"', start);
    return end == kNpos ? std::string_view() : source_head.substr(start, end - start);
}

void appendDeadLetterSource(std::string& body, std::string_view timestamp, std::string_view source,
                            int status, std::string_view error_json) {
    body += '{';
    if (!timestamp.empty()) {
        body += "\"@timestamp\":";
        appendJsonString(body, timestamp);
        body += ',';
    }
    body += "\"message\":";
    appendJsonString(body, source);
    body += ",\"error.type\":";
    body += std::to_string(status);
    body += ",\"error.message\":";
    appendJsonString(body, error_json);
    body += "}\n";
}

core::Status parseBulkResponse(std::string_view body, BulkResponse& out) {
    out.errors = false;
    out.items.clear();
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) {
        return core::Status::error(std::string("invalid bulk response: ") +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsObject()) {
        return core::Status::error("invalid bulk response: not a JSON object");
    }
    const rapidjson::Value& root = doc;
    auto errors = root.FindMember("errors");
    if (errors != root.MemberEnd()) {
        if (!errors->value.IsBool()) {
            return core::Status::error("invalid bulk response: 'errors' is not a boolean");
        }
        out.errors = errors->value.GetBool();
    }
    auto items = root.FindMember("items");
    if (items == root.MemberEnd()) {
        if (out.errors) {
            return core::Status::error("invalid bulk response: errors without items");
        }
        return core::Status::ok();
    }
    if (!items->value.IsArray()) {
        return core::Status::error("invalid bulk response: 'items' is not a list");
    }
    out.items.reserve(items->value.Size());
    for (const rapidjson::Value& item : items->value.GetArray()) {
        BulkItem parsed;
        // {"create":{"status":201,"error":{...}}}: one member named after the action.
        if (item.IsObject() && item.MemberCount() >= 1 && item.MemberBegin()->value.IsObject()) {
            const rapidjson::Value& inner = item.MemberBegin()->value;
            auto status = inner.FindMember("status");
            if (status != inner.MemberEnd() && status->value.IsInt()) {
                parsed.status = status->value.GetInt();
            }
            auto error = inner.FindMember("error");
            if (error != inner.MemberEnd()) {
                rapidjson::StringBuffer buf;
                rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
                error->value.Accept(writer);
                parsed.error.assign(buf.GetString(), buf.GetSize());
            }
        }
        out.items.push_back(std::move(parsed));
    }
    return core::Status::ok();
}

ItemOutcome classifyItem(int status) {
    if (status >= 100 && status < 300) {
        return ItemOutcome::Acked;
    }
    if (status == 409) {
        return ItemOutcome::Duplicate;
    }
    if (status == 429) {
        return ItemOutcome::TooMany;
    }
    if (status >= 400 && status < 500) {
        return ItemOutcome::NonIndexable;
    }
    // >= 500, or an item without a usable status: try again rather than lose it.
    return ItemOutcome::ServerError;
}

void classifyItems(const BulkResponse& response, size_t count, std::vector<ItemOutcome>& out) {
    out.assign(count, ItemOutcome::Acked);
    if (!response.errors) {
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        out[i] = i < response.items.size() ? classifyItem(response.items[i].status)
                                           : ItemOutcome::ServerError;
    }
}

}  // namespace sipbeat::outputs::elasticsearch
