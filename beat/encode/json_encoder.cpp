// SPDX-License-Identifier: Apache-2.0
#include "beat/encode/json_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "beat/core/json_escape.h"

namespace sipbeat::encode {

namespace {

// Orders dotted names so that every name below `a.` directly follows `a`'s other
// descendants: '.' sorts before every other byte. Then one pass can nest them.
bool keyLess(std::string_view a, std::string_view b) {
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        const auto ca = static_cast<unsigned char>(a[i] == '.' ? 0 : a[i]);
        const auto cb = static_cast<unsigned char>(b[i] == '.' ? 0 : b[i]);
        if (ca != cb) {
            return ca < cb;
        }
    }
    return a.size() < b.size();
}

void appendDouble(std::string& out, double d) {
    if (!std::isfinite(d)) {
        out.append("null");  // JSON has no NaN/Inf
        return;
    }
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, static_cast<size_t>(p - buf));
}

}  // namespace

void JsonEncoder::writeValue(const event::Field& f, std::string& out) const {
    char buf[24];
    switch (f.kind) {
        case event::ValueKind::Bool:
            out.append(f.b ? "true" : "false");
            break;
        case event::ValueKind::Int: {
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, f.i);
            out.append(buf, static_cast<size_t>(p - buf));
            break;
        }
        case event::ValueKind::Uint: {
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, f.u);
            out.append(buf, static_cast<size_t>(p - buf));
            break;
        }
        case event::ValueKind::Double:
            appendDouble(out, f.d);
            break;
        case event::ValueKind::String:
            core::appendJsonString(out, f.s, options_.escape_html);
            break;
        case event::ValueKind::StringList:
            out.push_back('[');
            for (size_t i = 0; i < f.list.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                core::appendJsonString(out, f.list[i], options_.escape_html);
            }
            out.push_back(']');
            break;
        case event::ValueKind::IntList:
            out.push_back('[');
            for (size_t i = 0; i < f.ints.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                auto [p, ec] = std::to_chars(buf, buf + sizeof buf, f.ints[i]);
                out.append(buf, static_cast<size_t>(p - buf));
            }
            out.push_back(']');
            break;
    }
}

const std::vector<uint32_t>& JsonEncoder::sortedOrder(std::span<const event::Field> fields) {
    // Events of one kind carry the same keys in the same order, so the sorted order is
    // computed once per key sequence and reused (FNV-1a over the keys identifies it).
    uint64_t h = 1469598103934665603ULL;
    for (const event::Field& f : fields) {
        for (char c : f.key) {
            h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
        }
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    auto it = order_cache_.find(h);
    if (it != order_cache_.end() && it->second.size() == fields.size()) {
        return it->second;
    }
    if (order_cache_.size() >= kOrderCacheSize) {
        order_cache_.clear();  // bounded: an unusual mix of events just recomputes
    }
    std::vector<uint32_t> order(fields.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return keyLess(fields[a].key, fields[b].key); });
    return order_cache_[h] = std::move(order);
}

void JsonEncoder::encode(const event::Document& doc, std::string& out) {
    out.clear();
    out.append("{\"@timestamp\":\"");
    core::appendRfc3339(out, doc.timestamp, options_.precision);
    out.append("\",\"@metadata\":{\"beat\":");
    core::appendJsonString(out, options_.beat);
    out.append(",\"type\":\"_doc\",\"version\":");
    core::appendJsonString(out, options_.version);
    for (const event::Field& m : doc.meta()) {
        if (m.key == "beat" || m.key == "type" || m.key == "version") {
            continue;
        }
        out.push_back(',');
        core::appendJsonString(out, m.key);
        out.push_back(':');
        writeValue(m, out);
    }
    out.push_back('}');

    const auto fields = doc.fields();
    const std::vector<uint32_t>& order = sortedOrder(fields);

    open_.clear();
    std::string_view last_leaf_path;
    for (uint32_t idx : order) {
        const event::Field& f = fields[idx];
        if (f.key.empty() || f.key == "@timestamp") {
            continue;
        }
        // A value at a path that is a parent of an earlier value, or a duplicate.
        if (!last_leaf_path.empty() &&
            (f.key == last_leaf_path ||
             (f.key.size() > last_leaf_path.size() && f.key[last_leaf_path.size()] == '.' &&
              f.key.substr(0, last_leaf_path.size()) == last_leaf_path))) {
            ++conflicts_;
            continue;
        }
        segs_.clear();
        for (size_t start = 0;;) {
            const size_t dot = f.key.find('.', start);
            segs_.push_back(f.key.substr(start, dot == std::string_view::npos ? dot : dot - start));
            if (dot == std::string_view::npos) {
                break;
            }
            start = dot + 1;
        }
        const size_t nseg = segs_.size();
        // Close the objects that this key does not share.
        size_t common = 0;
        while (common < open_.size() && common + 1 < nseg && open_[common] == segs_[common]) {
            ++common;
        }
        while (open_.size() > common) {
            out.push_back('}');
            open_.pop_back();
        }
        // Comma unless this is the first member of a just-opened object.
        if (out.back() != '{') {
            out.push_back(',');
        }
        for (size_t seg = common; seg + 1 < nseg; ++seg) {
            core::appendJsonString(out, segs_[seg]);
            out.append(":{");
            open_.push_back(segs_[seg]);
        }
        core::appendJsonString(out, segs_[nseg - 1]);
        out.push_back(':');
        writeValue(f, out);
        last_leaf_path = f.key;
    }
    while (!open_.empty()) {
        out.push_back('}');
        open_.pop_back();
    }
    out.push_back('}');
}

std::string prettyPrint(std::string_view json) {
    std::string out;
    out.reserve(json.size() * 2);
    int depth = 0;
    bool in_string = false;
    auto newline = [&](int d) {
        out.push_back('\n');
        out.append(static_cast<size_t>(d) * 2, ' ');
    };
    for (size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < json.size()) {
                out.push_back(json[++i]);
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                out.push_back(c);
                break;
            case '{':
            case '[':
                out.push_back(c);
                if (i + 1 < json.size() && (json[i + 1] == '}' || json[i + 1] == ']')) {
                    out.push_back(json[++i]);
                    break;
                }
                newline(++depth);
                break;
            case '}':
            case ']':
                newline(--depth);
                out.push_back(c);
                break;
            case ',':
                out.push_back(c);
                newline(depth);
                break;
            case ':':
                out.append(": ");
                break;
            default:
                out.push_back(c);
                break;
        }
    }
    return out;
}

}  // namespace sipbeat::encode
