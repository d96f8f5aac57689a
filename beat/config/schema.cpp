// SPDX-License-Identifier: Apache-2.0
#include "beat/config/schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace sipbeat::config {

const Spec* Spec::field(std::string_view name) const {
    for (const auto& [k, v] : fields) {
        if (k == name) {
            return &v;
        }
    }
    if (open && element) {
        return element.get();
    }
    return nullptr;
}

const Spec* Spec::find(std::string_view dotted_path) const {
    const Spec* cur = this;
    while (cur != nullptr && !dotted_path.empty()) {
        const size_t dot = dotted_path.find('.');
        cur = cur->field(dotted_path.substr(0, dot));
        dotted_path =
            dot == std::string_view::npos ? std::string_view{} : dotted_path.substr(dot + 1);
    }
    return cur;
}

Spec boolean(bool def) {
    Spec s;
    s.type = Type::Bool;
    s.default_text = def ? "true" : "false";
    return s;
}

Spec integer(int64_t def, std::optional<int64_t> min, std::optional<int64_t> max) {
    Spec s = integerNoDefault(min, max);
    s.default_text = std::to_string(def);
    return s;
}

Spec integerNoDefault(std::optional<int64_t> min, std::optional<int64_t> max) {
    Spec s;
    s.type = Type::Int;
    if (min) {
        s.min = static_cast<double>(*min);
    }
    if (max) {
        s.max = static_cast<double>(*max);
    }
    return s;
}

Spec floating(double def, std::optional<double> min, std::optional<double> max) {
    Spec s;
    s.type = Type::Float;
    std::ostringstream os;
    os << def;
    s.default_text = os.str();
    s.min = min;
    s.max = max;
    return s;
}

Spec string(std::string def) {
    Spec s;
    s.type = Type::String;
    s.default_text = std::move(def);
    return s;
}

Spec stringNoDefault() {
    Spec s;
    s.type = Type::String;
    return s;
}

Spec oneOf(std::string def, std::vector<std::string> allowed) {
    Spec s = string(std::move(def));
    s.allowed = std::move(allowed);
    return s;
}

Spec duration(std::string def, std::optional<double> min_seconds) {
    Spec s;
    s.type = Type::Duration;
    s.default_text = std::move(def);
    s.min = min_seconds;
    return s;
}

Spec listOf(Spec element, std::string def) {
    Spec s;
    s.type = Type::Sequence;
    s.element = std::make_shared<Spec>(std::move(element));
    s.default_text = std::move(def);
    return s;
}

Spec object(std::vector<std::pair<std::string, Spec>> fields) {
    Spec s;
    s.type = Type::Map;
    s.fields = std::move(fields);
    return s;
}

Spec openMap(Spec value) {
    Spec s;
    s.type = Type::Map;
    s.open = true;
    s.element = std::make_shared<Spec>(std::move(value));
    return s;
}

Spec any() {
    return Spec{};
}

Spec required(Spec s) {
    s.required = true;
    return s;
}

bool parseBool(std::string_view text, bool& out) {
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t == "true" || t == "yes" || t == "on" || t == "y") {
        out = true;
        return true;
    }
    if (t == "false" || t == "no" || t == "off" || t == "n") {
        out = false;
        return true;
    }
    return false;
}

bool parseInt(std::string_view text, int64_t& out) {
    if (text.empty()) {
        return false;
    }
    bool negative = false;
    std::string_view t = text;
    if (t[0] == '-' || t[0] == '+') {
        negative = t[0] == '-';
        t.remove_prefix(1);
    }
    int base = 10;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        base = 16;
        t.remove_prefix(2);
    } else if (t.size() > 2 && t[0] == '0' && t[1] == 'o') {
        base = 8;
        t.remove_prefix(2);
    } else if (t.size() > 1 && t[0] == '0') {
        // YAML 1.1 (go-yaml v2, which Beats uses) reads 0600 as octal: file modes.
        base = 8;
        t.remove_prefix(1);
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
    if (ec != std::errc() || p != t.data() + t.size() || v > static_cast<uint64_t>(INT64_MAX)) {
        return false;
    }
    out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
}

bool parseFloat(std::string_view text, double& out) {
    if (text.empty()) {
        return false;
    }
    std::string t(text);
    char* end = nullptr;
    out = std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size() && std::isfinite(out);
}

bool parseDuration(std::string_view text, int64_t& out_ns) {
    if (text.empty()) {
        return false;
    }
    // A bare number is seconds, as go-ucfg reads numbers into time.Duration.
    double bare = 0;
    if (parseFloat(text, bare)) {
        out_ns = static_cast<int64_t>(bare * 1e9);
        return true;
    }
    // Go's time.ParseDuration: [-]{number unit}+ with units ns us µs ms s m h.
    std::string_view t = text;
    bool negative = false;
    if (t[0] == '-' || t[0] == '+') {
        negative = t[0] == '-';
        t.remove_prefix(1);
    }
    double total = 0;
    bool any = false;
    while (!t.empty()) {
        size_t n = 0;
        while (n < t.size() && ((t[n] >= '0' && t[n] <= '9') || t[n] == '.')) {
            ++n;
        }
        if (n == 0) {
            return false;
        }
        double num = 0;
        if (!parseFloat(t.substr(0, n), num)) {
            return false;
        }
        t.remove_prefix(n);
        size_t u = 0;
        while (u < t.size() && !(t[u] >= '0' && t[u] <= '9') && t[u] != '.') {
            ++u;
        }
        const std::string_view unit = t.substr(0, u);
        double scale = 0;
        if (unit == "ns") {
            scale = 1;
        } else if (unit == "us" || unit == "\xC2\xB5s") {
            scale = 1e3;
        } else if (unit == "ms") {
            scale = 1e6;
        } else if (unit == "s") {
            scale = 1e9;
        } else if (unit == "m") {
            scale = 60e9;
        } else if (unit == "h") {
            scale = 3600e9;
        } else {
            return false;
        }
        total += num * scale;
        any = true;
        t.remove_prefix(u);
    }
    if (!any) {
        return false;
    }
    out_ns = static_cast<int64_t>(negative ? -total : total);
    return true;
}

namespace {

std::string joinPath(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

[[noreturn]] void fail(const std::string& what, const std::string& path, const Origin& origin) {
    throw ConfigError(keyErrorMessage(what, path, origin));
}

size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1);
    std::vector<size_t> cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string typeName(Type t) {
    switch (t) {
        case Type::Any:
            return "any value";
        case Type::Bool:
            return "a boolean";
        case Type::Int:
            return "an integer";
        case Type::Float:
            return "a number";
        case Type::String:
            return "a string";
        case Type::Duration:
            return "a duration such as 250ms, 10s or 5m";
        case Type::Map:
            return "an object";
        case Type::Sequence:
            return "a list";
    }
    return "a value";
}

void checkRange(double v, const Spec& spec, const std::string& path, const Origin& origin,
                const std::string& shown) {
    if (spec.min && v < *spec.min) {
        std::ostringstream os;
        os << "requires value >= " << *spec.min << " (got " << shown << ")";
        fail(os.str(), path, origin);
    }
    if (spec.max && v > *spec.max) {
        std::ostringstream os;
        os << "requires value <= " << *spec.max << " (got " << shown << ")";
        fail(os.str(), path, origin);
    }
}

void validateScalar(const Node& node, const Spec& spec, const std::string& path) {
    const std::string& text = node.text();
    const Origin& origin = node.origin();
    auto wrong = [&]() {
        fail("invalid value '" + text + "' (expected " + typeName(spec.type) + ")", path, origin);
    };
    switch (spec.type) {
        case Type::Bool: {
            bool b = false;
            if (!parseBool(text, b)) {
                wrong();
            }
            break;
        }
        case Type::Int: {
            int64_t v = 0;
            if (!parseInt(text, v)) {
                wrong();
            }
            checkRange(static_cast<double>(v), spec, path, origin, text);
            break;
        }
        case Type::Float: {
            double v = 0;
            if (!parseFloat(text, v)) {
                wrong();
            }
            checkRange(v, spec, path, origin, text);
            break;
        }
        case Type::Duration: {
            int64_t ns = 0;
            if (!parseDuration(text, ns)) {
                wrong();
            }
            if (spec.min && static_cast<double>(ns) < *spec.min * 1e9) {
                std::ostringstream os;
                os << "requires a duration >= " << *spec.min << "s (got " << text << ")";
                fail(os.str(), path, origin);
            }
            break;
        }
        case Type::String:
            if (!spec.allowed.empty() &&
                std::find(spec.allowed.begin(), spec.allowed.end(), text) == spec.allowed.end()) {
                std::string list;
                for (const auto& a : spec.allowed) {
                    list += (list.empty() ? "" : ", ") + a;
                }
                fail("invalid value '" + text + "' (expected one of: " + list + ")", path, origin);
            }
            break;
        case Type::Any:
        case Type::Map:
        case Type::Sequence:
            break;
    }
}

}  // namespace

void validate(const Node& node, const Spec& spec, const std::string& path) {
    if (spec.type == Type::Any) {
        return;
    }
    if (node.isNull()) {
        // `key:` with nothing means "use the default", as an absent key does (YAML null).
        if (spec.required) {
            fail("missing required value", path, node.origin());
        }
        return;
    }
    if (spec.type == Type::Map) {
        if (!node.isMap()) {
            fail("invalid value (expected an object, got a " + std::string(node.kindName()) + ")",
                 path, node.origin());
        }
        std::vector<std::string> ignored;
        bool ignore_all = false;
        if (!spec.ignore_unknown_list.empty()) {
            if (const Node* list = node.child(spec.ignore_unknown_list);
                list != nullptr && list->isSequence()) {
                for (const Node& item : list->items()) {
                    ignored.push_back(item.text());
                    ignore_all = ignore_all || item.text() == "all";
                }
            }
        }
        for (const auto& [key, child] : node.entries()) {
            const Spec* child_spec = spec.field(key);
            const std::string child_path = joinPath(path, key);
            if (child_spec == nullptr) {
                if (ignore_all || std::find(ignored.begin(), ignored.end(), key) != ignored.end()) {
                    continue;
                }
                std::string msg =
                    "unknown config key '" + child_path + "' " + child.origin().describe();
                // The nearest known key, to make typos obvious.
                std::string best;
                size_t best_d = 3;
                for (const auto& [known, unused] : spec.fields) {
                    const size_t d = editDistance(key, known);
                    if (d < best_d) {
                        best_d = d;
                        best = known;
                    }
                }
                if (!best.empty()) {
                    msg += "; did you mean '" + joinPath(path, best) + "'?";
                }
                throw ConfigError(msg);
            }
            validate(child, *child_spec, child_path);
        }
        for (const auto& [key, child_spec] : spec.fields) {
            if (child_spec.required && node.child(key) == nullptr) {
                fail("missing required field", joinPath(path, key), node.origin());
            }
        }
        return;
    }
    if (spec.type == Type::Sequence) {
        if (!node.isSequence()) {
            // A single value where a list is expected is a one-element list (go-ucfg).
            if (node.isScalar() && spec.element) {
                validate(node, *spec.element, path);
                return;
            }
            fail("invalid value (expected a list, got a " + std::string(node.kindName()) + ")",
                 path, node.origin());
        }
        size_t i = 0;
        for (const Node& item : node.items()) {
            if (spec.element) {
                validate(item, *spec.element, path + "." + std::to_string(i));
            }
            ++i;
        }
        return;
    }
    if (!node.isScalar()) {
        fail("invalid value (expected " + typeName(spec.type) + ", got a " +
                 std::string(node.kindName()) + ")",
             path, node.origin());
    }
    validateScalar(node, spec, path);
}

Config::Config(Node root, std::shared_ptr<const Spec> schema)
    : root_(std::move(root)), schema_(std::move(schema)) {}

std::string Config::textOf(std::string_view path) const {
    if (const Node* n = root_.find(path); n != nullptr && n->isScalar()) {
        return n->text();
    }
    const Spec* spec = schema_->find(path);
    if (spec == nullptr) {
        throw ConfigError("internal: no schema for '" + std::string(path) + "'");
    }
    return spec->default_text.value_or("");
}

bool Config::getBool(std::string_view path) const {
    bool b = false;
    parseBool(textOf(path), b);
    return b;
}

int64_t Config::getInt(std::string_view path) const {
    int64_t v = 0;
    parseInt(textOf(path), v);
    return v;
}

double Config::getFloat(std::string_view path) const {
    double v = 0;
    parseFloat(textOf(path), v);
    return v;
}

std::string Config::getString(std::string_view path) const {
    return textOf(path);
}

int64_t Config::getDurationNs(std::string_view path) const {
    int64_t v = 0;
    parseDuration(textOf(path), v);
    return v;
}

std::vector<std::string> Config::getStringList(std::string_view path) const {
    std::vector<std::string> out;
    const Node* n = root_.find(path);
    if (n == nullptr) {
        const Spec* spec = schema_->find(path);
        if (spec != nullptr && spec->default_text) {
            Node def = parseYaml(*spec->default_text, "default");
            n = nullptr;
            if (def.isSequence()) {
                for (const Node& item : def.items()) {
                    out.push_back(item.text());
                }
            }
        }
        return out;
    }
    if (n->isScalar() && n->fromVariable() && n->text().find(',') != std::string::npos) {
        // go-ucfg: a variable's value "a, b" is the list [a, b] where a list is read.
        std::string_view rest = n->text();
        while (true) {
            const size_t comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            while (!item.empty() && item.front() == ' ') {
                item.remove_prefix(1);
            }
            while (!item.empty() && item.back() == ' ') {
                item.remove_suffix(1);
            }
            if (!item.empty()) {
                out.emplace_back(item);
            }
            if (comma == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(comma + 1);
        }
    } else if (n->isScalar()) {
        out.push_back(n->text());
    } else if (n->isSequence()) {
        for (const Node& item : n->items()) {
            out.push_back(item.text());
        }
    }
    return out;
}

Origin Config::originOf(std::string_view path) const {
    if (const Node* n = root_.find(path)) {
        return n->origin();
    }
    return Origin{"default", 0};
}

}  // namespace sipbeat::config
