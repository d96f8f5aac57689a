// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/condition.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <regex>
#include <string_view>
#include <utility>
#include <vector>

#include "beat/config/schema.h"

namespace sipbeat::processors {

namespace {

using config::ConfigError;
using config::Node;
using config::Origin;

// Compilation reports errors by throwing ConfigError (control plane); compileCondition
// turns the first one into a Status.
[[noreturn]] void fail(const std::string& what, const std::string& path, const Origin& origin) {
    throw ConfigError(what + " accessing '" + path + "' " + origin.describe());
}

/// A null node (`when: ~`) has no origin of its own: name its parent's.
const Origin& originOf(const Node& node, const Origin& fallback) {
    return node.origin().source.empty() ? fallback : node.origin();
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

/// One `field: value` of a condition, after flattening: the loader nests dotted keys
/// (`sip.method: X` is `sip: {method: X}`), and Beats flattens them back (mapstr
/// Flatten), so both spellings name the field `sip.method`.
struct Leaf {
    std::string field;
    const Node* value;
    std::string path;  ///< Config path of the value, for errors.
};

void flatten(const Node& node, const std::string& field, const std::string& path,
             std::vector<Leaf>& out) {
    if (node.isMap() && !node.entries().empty()) {
        for (const auto& [k, v] : node.entries()) {
            flatten(v, field.empty() ? k : field + "." + k, join(path, k), out);
        }
        return;
    }
    out.push_back(Leaf{field, &node, path});
}

std::vector<Leaf> fieldsOf(const Node& node, const std::string& path, const Origin& fallback,
                           std::string_view name) {
    if (!node.isMap() || node.entries().empty()) {
        fail(std::string(name) + " condition needs a map of fields to values, got " +
                 std::string(node.kindName()),
             path, originOf(node, fallback));
    }
    std::vector<Leaf> out;
    flatten(node, "", path, out);
    return out;
}

bool plainInt(const Node& n, int64_t& out) {
    const std::string& t = n.text();
    // The same typing as the configured `fields` (pipeline/publisher.cpp): a plain
    // decimal number is an int; `"200"` and `0600` stay strings.
    return !n.quoted() && config::parseInt(t, out) && !t.empty() &&
           (t.size() == 1 || t[0] != '0') && t.find_first_of("xX") == std::string::npos;
}

bool plainBool(const Node& n, bool& out) {
    const std::string& t = n.text();
    return !n.quoted() && (t == "true" || t == "false") && config::parseBool(t, out);
}

// ---------------------------------------------------------------------------------------
// equals

class Equals final : public Condition {
public:
    enum class Kind : uint8_t { Int, String, Bool };
    struct Entry {
        std::string field;
        Kind kind = Kind::String;
        uint64_t u = 0;  ///< Beats compares ints as uint64 (ExtractInt).
        std::string s;
        bool b = false;
    };
    explicit Equals(std::vector<Entry> entries) : entries_(std::move(entries)) {}

    bool check(const FieldSource& fields) const override {
        for (const Entry& e : entries_) {
            const event::Field* f = fields.lookup(e.field);
            if (f == nullptr || !matches(e, *f)) {
                return false;
            }
        }
        return true;
    }

private:
    static bool matches(const Entry& e, const event::Field& f) {
        switch (e.kind) {
            case Kind::Int:
                if (f.kind == event::ValueKind::Int) {
                    return static_cast<uint64_t>(f.i) == e.u;
                }
                return f.kind == event::ValueKind::Uint && f.u == e.u;
            case Kind::String:
                return f.kind == event::ValueKind::String && f.s == e.s;
            case Kind::Bool:
                return f.kind == event::ValueKind::Bool && f.b == e.b;
        }
        return false;
    }

    std::vector<Entry> entries_;
};

ConditionPtr compileEquals(const Node& node, const std::string& path, const Origin& fallback) {
    std::vector<Equals::Entry> entries;
    for (const Leaf& leaf : fieldsOf(node, path, fallback, "equals")) {
        const Node& v = *leaf.value;
        if (!v.isScalar()) {
            fail("equals condition attempted to set '" + leaf.field +
                     "' and encountered unexpected type '" + std::string(v.kindName()) +
                     "', only strings, ints, and booleans are allowed",
                 leaf.path, originOf(v, fallback));
        }
        Equals::Entry e;
        e.field = leaf.field;
        int64_t i = 0;
        double d = 0;
        if (plainInt(v, i)) {
            e.kind = Equals::Kind::Int;
            e.u = static_cast<uint64_t>(i);
        } else if (plainBool(v, e.b)) {
            e.kind = Equals::Kind::Bool;
        } else if (!v.quoted() && v.text().find_first_of(".eE") != std::string::npos &&
                   config::parseFloat(v.text(), d)) {
            // YAML makes this a float, which Beats' equals refuses (ints only).
            fail("equals condition attempted to set '" + leaf.field + "' -> '" + v.text() +
                     "' and encountered unexpected type 'float64', only strings, ints, and "
                     "booleans are allowed",
                 leaf.path, originOf(v, fallback));
        } else {
            e.kind = Equals::Kind::String;
            e.s = v.text();
        }
        entries.push_back(std::move(e));
    }
    return std::make_unique<Equals>(std::move(entries));
}

/// A string field matches when its value does; an array when any of its strings does
/// (libbeat's contains, regexp and network conditions).
template <typename Match>
bool anyStringMatches(const event::Field& f, const Match& match) {
    if (f.kind == event::ValueKind::String) {
        return match(std::string_view(f.s));
    }
    if (f.kind == event::ValueKind::StringList) {
        for (std::string_view s : f.list) {
            if (match(s)) {
                return true;
            }
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------
// contains and regexp

/// Go's regexp (RE2) syntax differs from std::regex's ECMAScript grammar. This turns the
/// common RE2 forms into ECMAScript and refuses, at start, what has no equivalent:
///  - leading flag groups `(?i)`, `(?m)`, `(?s)` (and combinations) become regex flags
///    (`s` rewrites `.` to `[\s\S]`); flags in the middle, `(?i:…)` and `(?U)` are refused;
///  - `(?P<name>…)` and `(?<name>…)` become plain groups (the name is not used);
///  - `\A` and `\z` become `^` and `$` (without `(?m)`), `\Q…\E` is quoted;
///  - a `]` first in a bracket expression is a literal (RE2) and is escaped;
///  - `\p{…}`/`\pL` Unicode classes, `\C` and look-around `(?=`, `(?!` (which RE2 does
///    not have either) are refused.
/// Remaining differences: ECMAScript's `.` also stops at `\r`, `\s` also matches Unicode
/// spaces; RE2's leftmost-first submatch rules do not matter for a yes/no match.
/// Backreferences are refused as RE2 refuses them (the polynomial executor below cannot
/// run them either).
std::string translateRe2(std::string_view re, std::regex::flag_type& flags, std::string& error) {
    size_t i = 0;
    bool dotall = false;
    bool multiline = false;
    if (re.starts_with("(?")) {
        size_t j = 2;
        while (j < re.size() && re[j] >= 'a' && re[j] <= 'z') {
            ++j;
        }
        if (j < re.size() && re[j] == ')' && j > 2) {
            for (size_t k = 2; k < j; ++k) {
                switch (re[k]) {
                    case 'i':
                        flags |= std::regex::icase;
                        break;
                    case 's':
                        dotall = true;
                        break;
                    case 'm':
                        multiline = true;
                        flags |= std::regex::multiline;
                        break;
                    default:
                        error = "unsupported regexp flag '" + std::string(1, re[k]) + "'";
                        return {};
                }
            }
            i = j + 1;
        }
    }
    std::string out;
    out.reserve(re.size() + 8);
    bool in_class = false;
    for (; i < re.size(); ++i) {
        const char c = re[i];
        const char next = i + 1 < re.size() ? re[i + 1] : '\0';
        if (c == '\\') {
            if (i + 1 >= re.size()) {
                error = "trailing backslash at end of expression";
                return {};
            }
            if (next == 'p' || next == 'P' || next == 'C') {
                error = "unsupported escape \\" + std::string(1, next) +
                        " (Unicode classes are not available)";
                return {};
            }
            if (!in_class && (next == 'A' || next == 'z')) {
                if (multiline) {
                    error = "\\A and \\z cannot be combined with (?m)";
                    return {};
                }
                out += next == 'A' ? '^' : '$';
                ++i;
                continue;
            }
            if (!in_class && next == 'Q') {
                size_t end = re.find("\\E", i + 2);
                const std::string_view lit = re.substr(
                    i + 2, end == std::string_view::npos ? std::string_view::npos : end - (i + 2));
                for (const char l : lit) {
                    if (std::strchr("\\^$.|?*+()[]{}/", l) != nullptr) {
                        out += '\\';
                    }
                    out += l;
                }
                i = end == std::string_view::npos ? re.size() : end + 1;
                continue;
            }
            out += c;
            out += next;
            ++i;
            continue;
        }
        if (in_class) {
            if (c == '[' && next == ':') {
                // POSIX class `[:alpha:]`: copy through its own `]`.
                const size_t end = re.find(":]", i + 2);
                if (end != std::string_view::npos) {
                    out.append(re.substr(i, end + 2 - i));
                    i = end + 1;
                    continue;
                }
            }
            if (c == ']') {
                in_class = false;
            }
            out += c;
            continue;
        }
        if (c == '[') {
            in_class = true;
            out += c;
            if (next == '^') {
                out += '^';
                ++i;
            }
            if (i + 1 < re.size() && re[i + 1] == ']') {
                out += "\\]";
                ++i;
            }
            continue;
        }
        if (c == '(' && next == '?') {
            const std::string_view rest = re.substr(i + 2);
            if (rest.starts_with(":")) {
                out += "(?:";
                i += 2;
                continue;
            }
            if (rest.starts_with("P<") || rest.starts_with("<")) {
                const size_t close = re.find('>', i);
                if (close == std::string_view::npos) {
                    error = "invalid named capture";
                    return {};
                }
                out += '(';
                i = close;
                continue;
            }
            error = "unsupported group syntax '" + std::string(re.substr(i, 3)) + "'";
            return {};
        }
        if (c == '.' && dotall) {
            out += "[\\s\\S]";
            continue;
        }
        out += c;
    }
    return out;
}

class StringMatch final : public Condition {
public:
    struct Entry {
        std::string field;
        std::string needle;            ///< contains
        std::optional<std::regex> re;  ///< regexp
    };
    explicit StringMatch(std::vector<Entry> entries) : entries_(std::move(entries)) {}

    bool check(const FieldSource& fields) const override {
        for (const Entry& e : entries_) {
            const event::Field* f = fields.lookup(e.field);
            if (f == nullptr ||
                !anyStringMatches(*f, [&](std::string_view s) { return matches(e, s); })) {
                return false;
            }
        }
        return true;
    }

private:
    static bool matches(const Entry& e, std::string_view s) {
        if (!e.re) {
            return s.find(e.needle) != std::string_view::npos;
        }
        try {
            // The expression is `[\s\S]*?(?:re)` matched from the start only: one pass
            // over the input finds a match anywhere (regex_search would restart at every
            // offset).
            return std::regex_search(s.begin(), s.end(), *e.re,
                                     std::regex_constants::match_continuous);
        } catch (const std::regex_error&) {
            return false;  // resource limits of the executor: no match, never a crash
        }
    }

    std::vector<Entry> entries_;
};

ConditionPtr compileMatch(const Node& node, const std::string& path, const Origin& fallback,
                          bool regexp) {
    const char* name = regexp ? "regexp" : "contains";
    std::vector<StringMatch::Entry> entries;
    for (const Leaf& leaf : fieldsOf(node, path, fallback, name)) {
        const Node& v = *leaf.value;
        if (!v.isScalar()) {
            fail(std::string(name) + " condition on '" + leaf.field + "' needs a string, got " +
                     std::string(v.kindName()),
                 leaf.path, originOf(v, fallback));
        }
        StringMatch::Entry e;
        e.field = leaf.field;
        if (!regexp) {
            e.needle = v.text();
        } else {
            std::regex::flag_type flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
            // libstdc++'s breadth-first executor: time linear in the input and no
            // recursion per character, as RE2 guarantees (the default backtracking
            // executor is exponential on `(a+)+b` and overflows the stack on long input).
            flags |= std::regex_constants::__polynomial;
#endif
            std::string error;
            const std::string translated = translateRe2(v.text(), flags, error);
            if (!error.empty()) {
                fail("invalid regexp '" + v.text() + "': " + error, leaf.path,
                     originOf(v, fallback));
            }
            try {
                e.re.emplace("[\\s\\S]*?(?:" + translated + ")", flags);
            } catch (const std::regex_error& ex) {
                fail("invalid regexp '" + v.text() + "': " + ex.what(), leaf.path,
                     originOf(v, fallback));
            }
        }
        entries.push_back(std::move(e));
    }
    return std::make_unique<StringMatch>(std::move(entries));
}

// ---------------------------------------------------------------------------------------
// range

class Range final : public Condition {
public:
    struct Entry {
        std::string field;
        std::optional<double> gte, gt, lte, lt;
    };
    explicit Range(std::vector<Entry> entries) : entries_(std::move(entries)) {}

    bool check(const FieldSource& fields) const override {
        for (const Entry& e : entries_) {
            const event::Field* f = fields.lookup(e.field);
            if (f == nullptr) {
                return false;
            }
            double v = 0;
            switch (f->kind) {
                case event::ValueKind::Int:
                    v = static_cast<double>(f->i);
                    break;
                case event::ValueKind::Uint:
                    v = static_cast<double>(f->u);
                    break;
                case event::ValueKind::Double:
                    v = f->d;
                    break;
                default:
                    return false;  // Beats: "unexpected type in range condition"
            }
            if ((e.gte && v < *e.gte) || (e.gt && v <= *e.gt) || (e.lte && v > *e.lte) ||
                (e.lt && v >= *e.lt)) {
                return false;
            }
        }
        return true;
    }

private:
    std::vector<Entry> entries_;
};

ConditionPtr compileRange(const Node& node, const std::string& path, const Origin& fallback) {
    std::vector<Range::Entry> entries;
    for (const Leaf& leaf : fieldsOf(node, path, fallback, "range")) {
        const Node& v = *leaf.value;
        const Origin& origin = originOf(v, fallback);
        // `field: {gte: 1}` and `field.gte: 1` both flatten to `field.gte`.
        const size_t dot = leaf.field.rfind('.');
        const std::string op = dot == std::string::npos ? leaf.field : leaf.field.substr(dot + 1);
        if (op != "gte" && op != "gt" && op != "lte" && op != "lt") {
            fail("unexpected range operator '" + op + "' (gte, gt, lte or lt)", leaf.path, origin);
        }
        if (dot == std::string::npos || dot == 0) {
            fail("range operator '" + op + "' needs a field name", leaf.path, origin);
        }
        double d = 0;
        if (!v.isScalar() || !config::parseFloat(v.text(), d)) {
            fail("range condition needs a number, got '" +
                     (v.isScalar() ? v.text() : std::string(v.kindName())) + "'",
                 leaf.path, origin);
        }
        const std::string field = leaf.field.substr(0, dot);
        Range::Entry* entry = nullptr;
        for (Range::Entry& e : entries) {
            if (e.field == field) {
                entry = &e;
            }
        }
        if (entry == nullptr) {
            entries.push_back(Range::Entry{field, {}, {}, {}, {}});
            entry = &entries.back();
        }
        (op == "gte"   ? entry->gte
         : op == "gt"  ? entry->gt
         : op == "lte" ? entry->lte
                       : entry->lt) = d;
    }
    return std::make_unique<Range>(std::move(entries));
}

// ---------------------------------------------------------------------------------------
// network

struct Ip {
    bool v4 = false;
    std::array<uint8_t, 16> b{};  ///< IPv4 in b[0..3]
};

/// Parses an IPv4 or IPv6 address as Go's net.ParseIP does; an IPv4-mapped IPv6
/// address is IPv4 (Go stores both alike). No allocation.
std::optional<Ip> parseIp(std::string_view s) {
    char buf[INET6_ADDRSTRLEN + 1];
    if (s.empty() || s.size() >= sizeof(buf)) {
        return std::nullopt;
    }
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    Ip ip;
    if (s.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, ip.b.data()) != 1) {
            return std::nullopt;
        }
        ip.v4 = true;
        return ip;
    }
    if (inet_pton(AF_INET6, buf, ip.b.data()) != 1) {
        return std::nullopt;
    }
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.b.data(), kMapped, sizeof(kMapped)) == 0) {
        std::memmove(ip.b.data(), ip.b.data() + 12, 4);
        std::memset(ip.b.data() + 4, 0, 12);
        ip.v4 = true;
    }
    return ip;
}

enum class Named : uint8_t {
    None,
    Loopback,
    Unicast,
    LinkLocalUnicast,
    InterfaceLocalMulticast,
    LinkLocalMulticast,
    Multicast,
    Unspecified,
    Private,
    Public,
};

Named namedNetwork(std::string_view name) {
    static constexpr std::pair<std::string_view, Named> kNames[] = {
        {"loopback", Named::Loopback},
        {"unicast", Named::Unicast},
        {"global_unicast", Named::Unicast},
        {"link_local_unicast", Named::LinkLocalUnicast},
        {"interface_local_multicast", Named::InterfaceLocalMulticast},
        {"link_local_multicast", Named::LinkLocalMulticast},
        {"multicast", Named::Multicast},
        {"unspecified", Named::Unspecified},
        {"private", Named::Private},
        {"public", Named::Public},
    };
    for (const auto& [n, v] : kNames) {
        if (n == name) {
            return v;
        }
    }
    return Named::None;
}

bool isLoopback(const Ip& ip) {
    if (ip.v4) {
        return ip.b[0] == 127;
    }
    static constexpr std::array<uint8_t, 16> kOne = {0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
    return ip.b == kOne;
}

bool isUnspecified(const Ip& ip) {
    for (size_t i = 0; i < (ip.v4 ? 4u : 16u); ++i) {
        if (ip.b[i] != 0) {
            return false;
        }
    }
    return true;
}

bool isBroadcast(const Ip& ip) {
    return ip.v4 && ip.b[0] == 255 && ip.b[1] == 255 && ip.b[2] == 255 && ip.b[3] == 255;
}

bool isMulticast(const Ip& ip) {
    return ip.v4 ? (ip.b[0] & 0xf0) == 0xe0 : ip.b[0] == 0xff;
}

bool isLinkLocalUnicast(const Ip& ip) {
    return ip.v4 ? ip.b[0] == 169 && ip.b[1] == 254 : ip.b[0] == 0xfe && (ip.b[1] & 0xc0) == 0x80;
}

bool isLinkLocalMulticast(const Ip& ip) {
    return ip.v4 ? ip.b[0] == 224 && ip.b[1] == 0 && ip.b[2] == 0
                 : ip.b[0] == 0xff && (ip.b[1] & 0x0f) == 0x02;
}

bool isInterfaceLocalMulticast(const Ip& ip) {
    return !ip.v4 && ip.b[0] == 0xff && (ip.b[1] & 0x0f) == 0x01;
}

/// RFC 1918 and RFC 4193's fd00::/8, as libbeat's network condition has them.
bool isPrivate(const Ip& ip) {
    if (ip.v4) {
        return ip.b[0] == 10 || (ip.b[0] == 172 && (ip.b[1] & 0xf0) == 16) ||
               (ip.b[0] == 192 && ip.b[1] == 168);
    }
    return ip.b[0] == 0xfd;
}

bool isNamed(Named n, const Ip& ip) {
    switch (n) {
        case Named::Loopback:
            return isLoopback(ip);
        case Named::Unicast:  // Go's IsGlobalUnicast
            return !isBroadcast(ip) && !isUnspecified(ip) && !isLoopback(ip) && !isMulticast(ip) &&
                   !isLinkLocalUnicast(ip);
        case Named::LinkLocalUnicast:
            return isLinkLocalUnicast(ip);
        case Named::InterfaceLocalMulticast:
            return isInterfaceLocalMulticast(ip);
        case Named::LinkLocalMulticast:
            return isLinkLocalMulticast(ip);
        case Named::Multicast:
            return isMulticast(ip);
        case Named::Unspecified:
            return isUnspecified(ip);
        case Named::Private:
            return isPrivate(ip);
        case Named::Public:
            return !(isPrivate(ip) || isLoopback(ip) || isUnspecified(ip) || isBroadcast(ip) ||
                     isLinkLocalUnicast(ip) || isLinkLocalMulticast(ip) ||
                     isInterfaceLocalMulticast(ip));
        case Named::None:
            break;
    }
    return false;
}

struct Network {
    Named named = Named::None;
    Ip net;
    unsigned prefix = 0;

    bool contains(const Ip& ip) const {
        if (named != Named::None) {
            return isNamed(named, ip);
        }
        if (ip.v4 != net.v4) {
            return false;
        }
        const unsigned full = prefix / 8;
        if (std::memcmp(ip.b.data(), net.b.data(), full) != 0) {
            return false;
        }
        const unsigned bits = prefix % 8;
        if (bits == 0) {
            return true;
        }
        const auto mask = static_cast<uint8_t>(0xff << (8 - bits));
        return (ip.b[full] & mask) == (net.b[full] & mask);
    }
};

std::optional<Network> parseNetwork(std::string_view text) {
    Network n;
    n.named = namedNetwork(text);
    if (n.named != Named::None) {
        return n;
    }
    // A CIDR, as Go's net.ParseCIDR: an address and a prefix length, both required.
    const size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view addr = text.substr(0, slash);
    const std::string_view len = text.substr(slash + 1);
    const std::optional<Ip> ip = parseIp(addr);
    if (!ip || len.empty() || len.size() > 3) {
        return std::nullopt;
    }
    unsigned prefix = 0;
    for (const char c : len) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    const bool textual_v6 = addr.find(':') != std::string_view::npos;
    if (prefix > (textual_v6 ? 128u : 32u)) {
        return std::nullopt;
    }
    n.net = *ip;
    n.prefix = prefix;
    if (textual_v6 && ip->v4) {
        // `::ffff:10.0.0.0/104` is 10.0.0.0/8 to Go; shorter prefixes match no IPv4.
        if (prefix < 96) {
            n.net.v4 = false;
            n.net.b = {};
            n.net.b[10] = n.net.b[11] = 0xff;
            std::memcpy(n.net.b.data() + 12, ip->b.data(), 4);
        } else {
            n.prefix = prefix - 96;
        }
    }
    return n;
}

class NetworkCond final : public Condition {
public:
    struct Entry {
        std::string field;
        std::vector<Network> networks;  ///< any of them
    };
    explicit NetworkCond(std::vector<Entry> entries) : entries_(std::move(entries)) {}

    bool check(const FieldSource& fields) const override {
        for (const Entry& e : entries_) {
            const event::Field* f = fields.lookup(e.field);
            if (f == nullptr ||
                !anyStringMatches(*f, [&](std::string_view s) { return matches(e, s); })) {
                return false;
            }
        }
        return true;
    }

private:
    static bool matches(const Entry& e, std::string_view text) {
        // Not an address: no match. (libbeat's `public` would match a nil IP: not copied.)
        const std::optional<Ip> ip = parseIp(text);
        if (!ip) {
            return false;
        }
        for (const Network& n : e.networks) {
            if (n.contains(*ip)) {
                return true;
            }
        }
        return false;
    }

    std::vector<Entry> entries_;
};

Network networkOrFail(const Node& v, const std::string& field, const std::string& path,
                      const Origin& fallback) {
    if (!v.isScalar()) {
        fail("network condition attempted to set '" + field +
                 "' and encountered unexpected type '" + std::string(v.kindName()) +
                 "', only strings or []strings are allowed",
             path, originOf(v, fallback));
    }
    const std::optional<Network> n = parseNetwork(v.text());
    if (!n) {
        fail("network condition: '" + v.text() +
                 "' is neither a named network nor a CIDR (values must be an IP address and "
                 "prefix length, like '192.0.2.0/24' or '2001:db8::/32', or one of loopback, "
                 "unicast, multicast, interface_local_multicast, link_local_unicast, "
                 "link_local_multicast, private, public, unspecified)",
             path, originOf(v, fallback));
    }
    return *n;
}

ConditionPtr compileNetwork(const Node& node, const std::string& path, const Origin& fallback) {
    std::vector<NetworkCond::Entry> entries;
    for (const Leaf& leaf : fieldsOf(node, path, fallback, "network")) {
        const Node& v = *leaf.value;
        NetworkCond::Entry e;
        e.field = leaf.field;
        if (v.isSequence()) {
            for (size_t i = 0; i < v.items().size(); ++i) {
                e.networks.push_back(networkOrFail(v.items()[i], leaf.field,
                                                   leaf.path + "." + std::to_string(i),
                                                   originOf(v, fallback)));
            }
            if (e.networks.empty()) {
                fail("network condition needs at least one network", leaf.path,
                     originOf(v, fallback));
            }
        } else {
            e.networks.push_back(networkOrFail(v, leaf.field, leaf.path, fallback));
        }
        entries.push_back(std::move(e));
    }
    return std::make_unique<NetworkCond>(std::move(entries));
}

// ---------------------------------------------------------------------------------------
// has_fields, or, and, not

class HasFields final : public Condition {
public:
    explicit HasFields(std::vector<std::string> fields) : fields_(std::move(fields)) {}
    bool check(const FieldSource& fields) const override {
        for (const std::string& f : fields_) {
            if (!fields.has(f)) {
                return false;
            }
        }
        return true;
    }

private:
    std::vector<std::string> fields_;
};

class AnyOf final : public Condition {
public:
    explicit AnyOf(std::vector<ConditionPtr> list) : list_(std::move(list)) {}
    bool check(const FieldSource& fields) const override {
        for (const ConditionPtr& c : list_) {
            if (c->check(fields)) {
                return true;
            }
        }
        return false;
    }

private:
    std::vector<ConditionPtr> list_;
};

class AllOf final : public Condition {
public:
    explicit AllOf(std::vector<ConditionPtr> list) : list_(std::move(list)) {}
    bool check(const FieldSource& fields) const override {
        for (const ConditionPtr& c : list_) {
            if (!c->check(fields)) {
                return false;
            }
        }
        return true;
    }

private:
    std::vector<ConditionPtr> list_;
};

class Not final : public Condition {
public:
    explicit Not(ConditionPtr inner) : inner_(std::move(inner)) {}
    bool check(const FieldSource& fields) const override { return !inner_->check(fields); }

private:
    ConditionPtr inner_;
};

ConditionPtr compile(const Node& node, const std::string& path, const Origin& fallback);

ConditionPtr compileHasFields(const Node& v, const std::string& path, const Origin& fallback) {
    std::vector<std::string> fields;
    if (v.isScalar()) {
        fields.push_back(v.text());
    } else if (v.isSequence()) {
        for (size_t i = 0; i < v.items().size(); ++i) {
            const Node& item = v.items()[i];
            if (!item.isScalar() || item.text().empty()) {
                fail("has_fields needs a list of field names", join(path, std::to_string(i)),
                     originOf(item, originOf(v, fallback)));
            }
            fields.push_back(item.text());
        }
    }
    if (fields.empty()) {
        fail("has_fields needs a list of field names", path, originOf(v, fallback));
    }
    return std::make_unique<HasFields>(std::move(fields));
}

std::vector<ConditionPtr> compileList(const Node& v, const std::string& path,
                                      const Origin& fallback, std::string_view name) {
    if (!v.isSequence() || v.items().empty()) {
        fail(std::string(name) + " needs a non-empty list of conditions", path,
             originOf(v, fallback));
    }
    std::vector<ConditionPtr> list;
    for (size_t i = 0; i < v.items().size(); ++i) {
        list.push_back(compile(v.items()[i], join(path, std::to_string(i)), originOf(v, fallback)));
    }
    return list;
}

ConditionPtr compile(const Node& node, const std::string& path, const Origin& fallback) {
    if (!node.isMap() || node.entries().empty()) {
        fail("missing or invalid condition", path, originOf(node, fallback));
    }
    const Origin& origin = originOf(node, fallback);
    // Several conditions in one map are ANDed (libbeat would silently use only the first
    // in its own order; an AND is what such a map reads as).
    std::vector<ConditionPtr> all;
    for (const auto& [key, v] : node.entries()) {
        const std::string sub = join(path, key);
        if (key == "equals") {
            all.push_back(compileEquals(v, sub, origin));
        } else if (key == "contains") {
            all.push_back(compileMatch(v, sub, origin, false));
        } else if (key == "regexp") {
            all.push_back(compileMatch(v, sub, origin, true));
        } else if (key == "range") {
            all.push_back(compileRange(v, sub, origin));
        } else if (key == "network") {
            all.push_back(compileNetwork(v, sub, origin));
        } else if (key == "has_fields") {
            all.push_back(compileHasFields(v, sub, origin));
        } else if (key == "or") {
            all.push_back(std::make_unique<AnyOf>(compileList(v, sub, origin, "or")));
        } else if (key == "and") {
            all.push_back(std::make_unique<AllOf>(compileList(v, sub, origin, "and")));
        } else if (key == "not") {
            all.push_back(std::make_unique<Not>(compile(v, sub, origin)));
        } else {
            fail("unknown condition '" + key +
                     "' (equals, contains, regexp, range, network, has_fields, or, and, not)",
                 sub, originOf(v, origin));
        }
    }
    if (all.size() == 1) {
        return std::move(all.front());
    }
    return std::make_unique<AllOf>(std::move(all));
}

}  // namespace

core::Result<ConditionPtr> compileCondition(const config::Node& node, const std::string& path) {
    try {
        return compile(node, path, node.origin());
    } catch (const ConfigError& e) {
        return core::Status::error(e.what());
    }
}

}  // namespace sipbeat::processors
