// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/codec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "beat/encode/json_encoder.h"

namespace sipbeat::outputs {

config::Spec codecSchema() {
    return config::object({
        {"json", config::object({{"pretty", config::boolean(false)},
                                 {"escape_html", config::boolean(false)}})},
        {"format", config::object({{"string", config::string("")}})},
    });
}

CodecSettings readCodec(const config::Config& cfg, const std::string& prefix) {
    CodecSettings s;
    s.pretty = cfg.getBool(prefix + ".codec.json.pretty");
    s.escape_html = cfg.getBool(prefix + ".codec.json.escape_html");
    s.format = cfg.getString(prefix + ".codec.format.string");
    return s;
}

namespace {

// `<`, `>` and `&` only ever occur inside JSON strings, so escaping them everywhere is
// exactly Go's HTML escaping of string contents.
void escapeHtml(std::string& s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
            case '<':
                out.append("\\u003c");
                break;
            case '>':
                out.append("\\u003e");
                break;
            case '&':
                out.append("\\u0026");
                break;
            default:
                out.push_back(c);
        }
    }
    s.swap(out);
}

const rapidjson::Value* lookup(const rapidjson::Value& root, std::string_view path) {
    const rapidjson::Value* cur = &root;
    // `[a][b]` and `[a.b]` both name a.b.
    std::string normal;
    for (char c : path) {
        if (c == '[') {
            continue;
        }
        normal.push_back(c == ']' ? '.' : c);
    }
    while (!normal.empty() && normal.back() == '.') {
        normal.pop_back();
    }
    std::string_view rest = normal;
    while (!rest.empty()) {
        if (!cur->IsObject()) {
            return nullptr;
        }
        // Prefer the longest literal key (a field may contain dots, e.g. `log.level`).
        const rapidjson::Value* found = nullptr;
        size_t used = 0;
        for (size_t len = rest.size(); len > 0; --len) {
            if (len != rest.size() && rest[len] != '.') {
                continue;
            }
            // A Value key, not a C string: the name is not NUL-terminated here.
            const rapidjson::Value name(
                rapidjson::StringRef(rest.data(), static_cast<rapidjson::SizeType>(len)));
            const auto it = cur->FindMember(name);
            if (it != cur->MemberEnd()) {
                found = &it->value;
                used = len;
                break;
            }
        }
        if (found == nullptr) {
            return nullptr;
        }
        cur = found;
        rest.remove_prefix(used);
        if (!rest.empty()) {
            rest.remove_prefix(1);
        }
    }
    return cur;
}

}  // namespace

std::string formatEvent(std::string_view format, std::string_view json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    std::string out;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%' || i + 1 >= format.size() || format[i + 1] != '{') {
            out.push_back(format[i]);
            continue;
        }
        const size_t end = format.find('}', i + 2);
        if (end == std::string_view::npos) {
            out.append(format.substr(i));
            break;
        }
        std::string_view body = format.substr(i + 2, end - i - 2);
        std::string_view def;
        bool has_def = false;
        if (const size_t close = body.rfind(']');
            close != std::string_view::npos && close + 1 < body.size() && body[close + 1] == ':') {
            def = body.substr(close + 2);
            has_def = true;
            body = body.substr(0, close + 1);
        }
        const rapidjson::Value* v = doc.HasParseError() ? nullptr : lookup(doc, body);
        if (v == nullptr || v->IsNull()) {
            if (has_def) {
                out.append(def);
            }
        } else if (v->IsString()) {
            out.append(v->GetString(), v->GetStringLength());
        } else {
            rapidjson::StringBuffer buf;
            rapidjson::Writer<rapidjson::StringBuffer> w(buf);
            v->Accept(w);
            out.append(buf.GetString(), buf.GetSize());
        }
        i = end;
    }
    return out;
}

std::string_view Codec::apply(const encode::EncodedEvent& event, std::string& scratch) const {
    if (!settings_.format.empty()) {
        scratch = formatEvent(settings_.format, event.json);
        return scratch;
    }
    if (!settings_.pretty && !settings_.escape_html) {
        return event.json;
    }
    scratch = settings_.pretty ? encode::prettyPrint(event.json) : event.json;
    if (settings_.escape_html) {
        escapeHtml(scratch);
    }
    return scratch;
}

}  // namespace sipbeat::outputs
