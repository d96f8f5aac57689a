// SPDX-License-Identifier: Apache-2.0
#include "beat/encode/json_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

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

namespace {

// Identifies a document's key sequence: events of one kind carry the same keys in the same
// order. Mixes 8 bytes at a time (keys are short ASCII); 64 bits make a collision among
// the few hundred sequences cached practically impossible.
uint64_t keySequenceHash(std::span<const event::Field> fields) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ fields.size();
    const auto mix = [&](uint64_t w) {
        h ^= w;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    };
    for (const event::Field& f : fields) {
        const std::string_view k = f.key;
        mix(k.size());
        size_t i = 0;
        for (; i + 8 <= k.size(); i += 8) {
            uint64_t w;
            std::memcpy(&w, k.data() + i, 8);
            mix(w);
        }
        uint64_t tail = 0;
        std::memcpy(&tail, k.data() + i, k.size() - i);
        mix(tail);
    }
    return h;
}

}  // namespace

const JsonEncoder::Plan& JsonEncoder::plan(std::span<const event::Field> fields) {
    const uint64_t h = keySequenceHash(fields);
    auto it = plans_.find(h);
    if (it != plans_.end() && it->second.field_count == fields.size()) {
        return it->second;
    }
    if (plans_.size() >= kPlanCacheSize) {
        plans_.clear();  // bounded: an unusual mix of events just recomputes
    }
    // Sorted order: '.' sorts before every other byte, so every name below `a.` directly
    // follows `a`'s other descendants and one pass can nest them.
    std::vector<uint32_t> order(fields.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return keyLess(fields[a].key, fields[b].key); });
    // Write the skeleton once with a placeholder per value; what comes before each value
    // (closing braces, comma, opening keys, the leaf's name) becomes that step's prefix.
    Plan p;
    p.field_count = fields.size();
    std::string sim = "}";  // the end of @metadata precedes the first field
    std::vector<std::string_view> open;
    std::vector<std::string_view> segs;
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
            ++p.conflicts;
            continue;
        }
        const size_t start = sim.size();
        segs.clear();
        for (size_t pos = 0;;) {
            const size_t dot = f.key.find('.', pos);
            segs.push_back(f.key.substr(pos, dot == std::string_view::npos ? dot : dot - pos));
            if (dot == std::string_view::npos) {
                break;
            }
            pos = dot + 1;
        }
        const size_t nseg = segs.size();
        size_t common = 0;
        while (common < open.size() && common + 1 < nseg && open[common] == segs[common]) {
            ++common;
        }
        while (open.size() > common) {
            sim.push_back('}');
            open.pop_back();
        }
        if (sim.back() != '{') {
            sim.push_back(',');
        }
        for (size_t seg = common; seg + 1 < nseg; ++seg) {
            core::appendJsonString(sim, segs[seg]);
            sim.append(":{");
            open.push_back(segs[seg]);
        }
        core::appendJsonString(sim, segs[nseg - 1]);
        sim.push_back(':');
        p.steps.push_back({idx, sim.substr(start)});
        sim.push_back('0');  // the value
        last_leaf_path = f.key;
    }
    p.suffix.assign(open.size() + 1, '}');
    return plans_[h] = std::move(p);
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
    const Plan& p = plan(fields);
    for (const Plan::Step& st : p.steps) {
        out.append(st.prefix);
        writeValue(fields[st.field], out);
    }
    out.append(p.suffix);
    conflicts_ += p.conflicts;
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
