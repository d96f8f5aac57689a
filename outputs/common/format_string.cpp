// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/format_string.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

#include "beat/processors/field_source.h"

namespace sipbeat::outputs {

namespace {

/// One element of a Joda pattern: a letter repeated `count` times, or literal text.
struct DateToken {
    char letter = 0;  ///< 0 for literal text
    int count = 0;
    std::string literal;
};

constexpr std::string_view kDateLetters = "GCYyxwweEDMdaKhHkmsSzZ";

/// Parses a Joda-Time pattern as libbeat's dtfmt does: letters repeat into fields,
/// `'text'` is literal (`''` is a quote), anything else is literal as it stands.
core::Status parseDatePattern(std::string_view p, std::vector<DateToken>& out) {
    auto literal = [&out](std::string_view s) {
        if (out.empty() || out.back().letter != 0) {
            out.push_back(DateToken{});
        }
        out.back().literal.append(s);
    };
    for (size_t i = 0; i < p.size();) {
        const char c = p[i];
        if (c == '\'') {
            if (i + 1 < p.size() && p[i + 1] == '\'') {
                literal("'");
                i += 2;
                continue;
            }
            std::string text;
            size_t j = i + 1;
            for (; j < p.size(); ++j) {
                if (p[j] == '\'') {
                    if (j + 1 < p.size() && p[j + 1] == '\'') {
                        text += '\'';
                        ++j;
                        continue;
                    }
                    break;
                }
                text += p[j];
            }
            if (j >= p.size()) {
                return core::Status::error("unterminated quote in timestamp expression");
            }
            literal(text);
            i = j + 1;
            continue;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            if (kDateLetters.find(c) == std::string_view::npos) {
                return core::Status::error("unsupported pattern letter '" + std::string(1, c) +
                                           "' in timestamp expression");
            }
            size_t j = i;
            while (j < p.size() && p[j] == c) {
                ++j;
            }
            out.push_back(DateToken{c, static_cast<int>(j - i), {}});
            i = j;
            continue;
        }
        literal(p.substr(i, 1));
        ++i;
    }
    return core::Status::ok();
}

void appendPadded(std::string& out, int64_t v, int width) {
    if (v < 0) {
        out += '-';
        v = -v;
    }
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    const auto len = static_cast<int>(r.ptr - buf);
    for (int i = len; i < width; ++i) {
        out += '0';
    }
    out.append(buf, r.ptr);
}

struct Civil {
    int64_t year;
    int month;  ///< 1..12
    int day;    ///< 1..31
};

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
Civil civilFromDays(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return Civil{yoe + era * 400 + (m <= 2 ? 1 : 0), static_cast<int>(m), static_cast<int>(d)};
}

int64_t daysFromCivil(int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kWeekdays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/// Writes `ns` (since the epoch, UTC) with a parsed Joda pattern.
void formatDate(int64_t ns, const std::vector<DateToken>& tokens, std::string& out) {
    constexpr int64_t kNsPerSec = 1000000000;
    int64_t secs = ns / kNsPerSec;
    int64_t frac = ns % kNsPerSec;
    if (frac < 0) {
        frac += kNsPerSec;
        --secs;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        --days;
    }
    const Civil c = civilFromDays(days);
    const int hour = static_cast<int>(sod / 3600);
    const int minute = static_cast<int>(sod / 60 % 60);
    const int second = static_cast<int>(sod % 60);
    // ISO day of week, Monday = 1 (1970-01-01 was a Thursday).
    const int dow = static_cast<int>(((days % 7) + 7 + 3) % 7) + 1;
    const int64_t doy = days - daysFromCivil(c.year, 1, 1) + 1;
    // ISO week-based year and week: the week holding the year's first Thursday is week 1.
    const int64_t thursday = days - (dow - 1) + 3;
    const Civil tc = civilFromDays(thursday);
    const int64_t week_year = tc.year;
    const int64_t week = (thursday - daysFromCivil(week_year, 1, 1)) / 7 + 1;

    for (const DateToken& t : tokens) {
        switch (t.letter) {
            case 0:
                out += t.literal;
                break;
            case 'G':
                out += c.year > 0 ? "AD" : "BC";
                break;
            case 'C':
                appendPadded(out, c.year / 100, t.count);
                break;
            case 'Y':
            case 'y':
            case 'x': {
                const int64_t y = t.letter == 'x' ? week_year : c.year;
                if (t.count == 2) {
                    appendPadded(out, ((y % 100) + 100) % 100, 2);  // Joda: two-digit year
                } else {
                    appendPadded(out, y, t.count);
                }
                break;
            }
            case 'w':
                appendPadded(out, week, t.count);
                break;
            case 'e':
                appendPadded(out, dow, t.count);
                break;
            case 'E':
                out += t.count >= 4 ? kWeekdays[static_cast<size_t>(dow - 1)]
                                    : kWeekdays[static_cast<size_t>(dow - 1)].substr(0, 3);
                break;
            case 'D':
                appendPadded(out, doy, t.count);
                break;
            case 'M':
                if (t.count >= 4) {
                    out += kMonths[static_cast<size_t>(c.month - 1)];
                } else if (t.count == 3) {
                    out += kMonths[static_cast<size_t>(c.month - 1)].substr(0, 3);
                } else {
                    appendPadded(out, c.month, t.count);
                }
                break;
            case 'd':
                appendPadded(out, c.day, t.count);
                break;
            case 'a':
                out += hour < 12 ? "AM" : "PM";
                break;
            case 'K':
                appendPadded(out, hour % 12, t.count);
                break;
            case 'h':
                appendPadded(out, hour % 12 == 0 ? 12 : hour % 12, t.count);
                break;
            case 'H':
                appendPadded(out, hour, t.count);
                break;
            case 'k':
                appendPadded(out, hour == 0 ? 24 : hour, t.count);
                break;
            case 'm':
                appendPadded(out, minute, t.count);
                break;
            case 's':
                appendPadded(out, second, t.count);
                break;
            case 'S': {
                // Fraction of second: `count` digits, truncated (SSS = milliseconds).
                char digits[9];
                int64_t f = frac;
                for (int i = 8; i >= 0; --i) {
                    digits[i] = static_cast<char>('0' + f % 10);
                    f /= 10;
                }
                for (int i = 0; i < t.count; ++i) {
                    out += i < 9 ? digits[i] : '0';
                }
                break;
            }
            case 'z':
                out += "UTC";
                break;
            case 'Z':
                out += t.count == 1 ? "+0000" : t.count == 2 ? "+00:00" : "UTC";
                break;
            default:
                break;
        }
    }
}

/// Go's strconv.FormatFloat(v, 'g', -1, 64), which libbeat's format strings use: the
/// shortest digits, in exponent form below 1e-4 and from 1e+06 on (`1.5e+06`).
void appendGoFloat(double v, std::string& out) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
    const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
    const size_t e = sci.find('e');
    int exp = 0;
    std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp);
    if (exp < -4 || exp >= 6) {
        out.append(sci);
        return;
    }
    r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    out.append(buf, r.ptr);
}

/// The text of a field as libbeat's format strings insert it: strings raw, numbers and
/// booleans as text; lists and objects cannot be converted (false).
bool appendFieldText(const event::Field& f, std::string& out) {
    char buf[32];
    switch (f.kind) {
        case event::ValueKind::String:
            out.append(f.s);
            return true;
        case event::ValueKind::Bool:
            out += f.b ? "true" : "false";
            return true;
        case event::ValueKind::Int: {
            const auto r = std::to_chars(buf, buf + sizeof(buf), f.i);
            out.append(buf, r.ptr);
            return true;
        }
        case event::ValueKind::Uint: {
            const auto r = std::to_chars(buf, buf + sizeof(buf), f.u);
            out.append(buf, r.ptr);
            return true;
        }
        case event::ValueKind::Double:
            appendGoFloat(f.d, out);
            return true;
        case event::ValueKind::StringList:
        case event::ValueKind::IntList:
            return false;
    }
    return false;
}

/// `[a.b]`, `[a][b]` → `a.b` (libbeat's parseEventPath).
core::Result<std::string> parseFieldPath(std::string_view expr) {
    while (!expr.empty() &&
           std::string_view(" \n\r\t").find(expr.front()) != std::string_view::npos) {
        expr.remove_prefix(1);
    }
    while (!expr.empty() &&
           std::string_view(" \n\r\t").find(expr.back()) != std::string_view::npos) {
        expr.remove_suffix(1);
    }
    std::string path;
    while (!expr.empty()) {
        if (expr.front() != '[') {
            return core::Status::error("expected field extractor start with '['");
        }
        const size_t close = expr.find(']');
        if (close == std::string_view::npos) {
            return core::Status::error("missing closing ']'");
        }
        const std::string_view part = expr.substr(1, close - 1);
        if (part.empty()) {
            return core::Status::error("empty fields selector '[]'");
        }
        if (!path.empty()) {
            path += '.';
        }
        path.append(part);
        expr.remove_prefix(close + 1);
    }
    return path;
}

void lowerInPlace(std::string& s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
}

}  // namespace

struct FormatString::Part {
    enum class Kind : uint8_t { Literal, Field, Date };
    Kind kind = Kind::Literal;
    std::string text;  ///< literal text, or the field's dotted path
    bool has_default = false;
    std::string def;
    std::vector<DateToken> date;
};

core::Result<FormatString> FormatString::parse(std::string_view text) {
    FormatString fs;
    fs.text_ = std::string(text);
    std::string literal;
    auto flushLiteral = [&fs, &literal] {
        if (!literal.empty()) {
            auto p = std::make_shared<Part>();
            p->text = std::move(literal);
            fs.parts_.push_back(std::move(p));
            literal.clear();
        }
    };
    // libbeat's lexer: `\` escapes the next character anywhere; `%{` opens an expansion,
    // where `:` starts an operator and `}` closes it; a lone `%` or `}` is literal.
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\') {
            if (i + 1 < text.size()) {
                literal += text[++i];
            }
            continue;
        }
        if (c != '%' || i + 1 >= text.size() || text[i + 1] != '{') {
            literal += c;
            continue;
        }
        // An expansion: the expression, then `:param` operators.
        std::vector<std::string> pieces(1);
        std::vector<std::string> ops;
        size_t j = i + 2;
        bool closed = false;
        for (; j < text.size(); ++j) {
            const char d = text[j];
            if (d == '\\') {
                if (j + 1 < text.size()) {
                    pieces.back() += text[++j];
                }
                continue;
            }
            if (d == '}') {
                closed = true;
                break;
            }
            if (d == '%' && j + 1 < text.size() && text[j + 1] == '{') {
                return core::Status::error("format string variables can not be nested in '" +
                                           std::string(text) + "'");
            }
            if (d == ':') {
                std::string op = ":";
                if (j + 1 < text.size() &&
                    std::string_view("!@#&*=+<>?").find(text[j + 1]) != std::string_view::npos) {
                    op += text[++j];
                }
                ops.push_back(op);
                pieces.emplace_back();
                continue;
            }
            pieces.back() += d;
        }
        if (!closed) {
            return core::Status::error("missing closing '}' in format string '" +
                                       std::string(text) + "'");
        }
        const std::string& expr = pieces.front();
        if (expr.empty()) {
            return core::Status::error("empty format expansion in '" + std::string(text) + "'");
        }
        auto part = std::make_shared<Part>();
        if (expr[0] == '+') {
            // A `:` in a date pattern is text (`%{+HH:mm}`). libbeat's lexer would take it
            // for an operator and drop the rest of the pattern; nobody wants that.
            std::string pattern = expr.substr(1);
            for (size_t k = 0; k < ops.size(); ++k) {
                pattern += ops[k];
                pattern += pieces[k + 1];
            }
            part->kind = Part::Kind::Date;
            const core::Status st = parseDatePattern(pattern, part->date);
            if (!st) {
                return core::Status::error(st.message() + " '" + std::string(text) + "'");
            }
        } else if (expr[0] == '[') {
            if (ops.size() > 1) {
                return core::Status::error("too many format modifiers given in '" +
                                           std::string(text) + "'");
            }
            if (ops.size() == 1) {
                if (ops[0] != ":") {
                    return core::Status::error("unsupported format operator '" + ops[0] + "' in '" +
                                               std::string(text) + "'");
                }
                part->has_default = true;
                part->def = pieces[1];
            }
            core::Result<std::string> path = parseFieldPath(expr);
            if (!path) {
                return core::Status::error(path.status().message() + " in '" + std::string(text) +
                                           "'");
            }
            part->kind = Part::Kind::Field;
            part->text = std::move(*path);
        } else {
            return core::Status::error("unsupported format expression \"" + expr + "\" in '" +
                                       std::string(text) + "' (use %{[field]} or %{+date})");
        }
        flushLiteral();
        fs.parts_.push_back(std::move(part));
        i = j;
    }
    flushLiteral();
    return fs;
}

void FormatString::bind(const std::map<std::string, std::string, std::less<>>& static_fields) {
    std::vector<std::shared_ptr<const Part>> out;
    for (const auto& part : parts_) {
        std::shared_ptr<const Part> p = part;
        if (part->kind == Part::Kind::Field) {
            if (const auto it = static_fields.find(part->text); it != static_fields.end()) {
                auto lit = std::make_shared<Part>();
                lit->text = it->second.empty() && part->has_default ? part->def : it->second;
                p = std::move(lit);
            }
        }
        // Adjacent literals become one.
        if (p->kind == Part::Kind::Literal && !out.empty() &&
            out.back()->kind == Part::Kind::Literal) {
            auto merged = std::make_shared<Part>(*out.back());
            merged->text += p->text;
            out.back() = std::move(merged);
            continue;
        }
        if (p->kind != Part::Kind::Literal || !p->text.empty()) {
            out.push_back(std::move(p));
        }
    }
    parts_ = std::move(out);
}

bool FormatString::isConstant() const {
    for (const auto& p : parts_) {
        if (p->kind == Part::Kind::Field) {
            return false;
        }
    }
    return true;
}

std::optional<std::string> FormatString::expand(const encode::EncodedEvent& event,
                                                const processors::FieldSource& fields) const {
    std::string out;
    for (const auto& p : parts_) {
        switch (p->kind) {
            case Part::Kind::Literal:
                out += p->text;
                break;
            case Part::Kind::Date:
                formatDate(event.timestamp, p->date, out);
                break;
            case Part::Kind::Field: {
                const size_t before = out.size();
                const event::Field* f = fields.lookup(p->text);
                if (f == nullptr || !appendFieldText(*f, out)) {
                    if (!p->has_default) {
                        return std::nullopt;
                    }
                    out.resize(before);
                    out += p->def;
                } else if (out.size() == before && p->has_default) {
                    out += p->def;  // libbeat: an empty value takes the default too
                }
                break;
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Selector

struct Selector::Rule {
    FormatString format;
    std::map<std::string, std::string, std::less<>> mappings;
    std::string def;  ///< `default`; empty when not set
    std::shared_ptr<const processors::Condition> when;
};

config::Spec Selector::rulesSchema(const std::string& rule_key) {
    return config::listOf(config::object({
        {rule_key, config::required(config::stringNoDefault())},
        {"mappings", config::any()},
        {"default", config::stringNoDefault()},
        {"when", config::any()},
    }));
}

namespace {

/// Mapping keys may hold dots, which the loader nests (`a.b: x` is `a: {b: x}`).
bool flattenMappings(const config::Node& node, const std::string& prefix, bool lowercase,
                     std::map<std::string, std::string, std::less<>>& out) {
    for (const auto& [k, v] : node.entries()) {
        const std::string key = prefix.empty() ? k : prefix + "." + k;
        if (v.isMap()) {
            if (!flattenMappings(v, key, lowercase, out)) {
                return false;
            }
            continue;
        }
        if (!v.isScalar()) {
            return false;
        }
        std::string from = key;
        std::string to = v.text();
        if (lowercase) {
            lowerInPlace(from);
            lowerInPlace(to);
        }
        out[from] = to;
    }
    return true;
}

}  // namespace

core::Result<Selector> Selector::fromConfig(const config::Config& cfg, const std::string& prefix,
                                            const std::string& key, const std::string& rules_key,
                                            bool lowercase) {
    Selector sel;
    sel.lowercase_ = lowercase;
    const std::string rules_path = prefix + "." + rules_key;
    if (const config::Node* rules = cfg.node(rules_path); rules != nullptr && !rules->isNull()) {
        if (!rules->isSequence()) {
            return core::Status::error(config::keyErrorMessage(
                "required 'array', but found '" + std::string(rules->kindName()) + "'", rules_path,
                rules->origin()));
        }
        for (size_t i = 0; i < rules->items().size(); ++i) {
            const config::Node& item = rules->items()[i];
            const std::string path = rules_path + "." + std::to_string(i);
            const config::Origin& origin =
                item.origin().source.empty() ? rules->origin() : item.origin();
            if (!item.isMap()) {
                return core::Status::error(config::keyErrorMessage(
                    "required 'object', but found '" + std::string(item.kindName()) + "'", path,
                    origin));
            }
            auto rule = std::make_shared<Rule>();
            for (const auto& [k, v] : item.entries()) {
                if (k != key && k != "mappings" && k != "default" && k != "when") {
                    return core::Status::error(
                        config::keyErrorMessage("unknown config key", path + "." + k, v.origin()));
                }
            }
            const config::Node* fmt = item.child(key);
            if (fmt == nullptr || !fmt->isScalar()) {
                return core::Status::error(
                    config::keyErrorMessage("missing required field", path + "." + key, origin));
            }
            core::Result<FormatString> parsed = FormatString::parse(fmt->text());
            if (!parsed) {
                return core::Status::error(config::keyErrorMessage(
                    parsed.status().message(), path + "." + key, fmt->origin()));
            }
            rule->format = std::move(*parsed);
            if (const config::Node* d = item.child("default"); d != nullptr && !d->isNull()) {
                if (!d->isScalar()) {
                    return core::Status::error(config::keyErrorMessage(
                        "required 'string', but found '" + std::string(d->kindName()) + "'",
                        path + ".default", d->origin()));
                }
                rule->def = d->text();
                if (lowercase) {
                    lowerInPlace(rule->def);
                }
            }
            if (const config::Node* m = item.child("mappings"); m != nullptr && !m->isNull()) {
                if (!m->isMap() || !flattenMappings(*m, "", lowercase, rule->mappings)) {
                    return core::Status::error(config::keyErrorMessage(
                        "mappings must be a map of strings", path + ".mappings", m->origin()));
                }
            }
            if (const config::Node* w = item.child("when")) {
                core::Result<processors::ConditionPtr> cond =
                    processors::compileCondition(*w, path + ".when");
                if (!cond) {
                    return cond.status();
                }
                rule->when = std::move(*cond);
            }
            sel.rules_.push_back(std::move(rule));
        }
    }
    const std::string key_path = prefix + "." + key;
    std::string text;
    config::Origin origin{"default", 0};
    if (const config::Node* n = cfg.node(key_path); n != nullptr && n->isScalar()) {
        text = n->text();
        origin = n->origin();
    } else if (const config::Spec* spec = cfg.schema().find(key_path);
               spec != nullptr && spec->default_text) {
        text = *spec->default_text;
    }
    if (!text.empty()) {
        core::Result<FormatString> parsed = FormatString::parse(text);
        if (!parsed) {
            return core::Status::error(
                config::keyErrorMessage(parsed.status().message(), key_path, origin));
        }
        sel.scalar_ = std::move(*parsed);
    }
    return sel;
}

void Selector::bind(const std::map<std::string, std::string, std::less<>>& static_fields) {
    for (auto& r : rules_) {
        auto bound = std::make_shared<Rule>(*r);
        bound->format.bind(static_fields);
        r = std::move(bound);
    }
    if (scalar_) {
        scalar_->bind(static_fields);
    }
}

bool Selector::empty() const {
    return rules_.empty() && !scalar_;
}

std::optional<std::string> Selector::select(const encode::EncodedEvent& event) const {
    // Parsed at the first field lookup only: constant formats without `when` never parse.
    const processors::JsonFieldSource fields(event.json);
    for (const auto& rule : rules_) {
        if (rule->when && !rule->when->check(fields)) {
            continue;
        }
        std::optional<std::string> value = rule->format.expand(event, fields);
        std::string n = value ? std::move(*value) : std::string();
        if (lowercase_) {
            lowerInPlace(n);
        }
        if (!rule->mappings.empty() && !n.empty()) {
            const auto it = rule->mappings.find(n);
            n = it != rule->mappings.end() ? it->second : std::string();
        }
        if (n.empty()) {
            n = rule->def;  // a missing field, no mapping entry or an empty value
        }
        if (!n.empty()) {
            return n;
        }
    }
    if (scalar_) {
        std::optional<std::string> value = scalar_->expand(event, fields);
        if (value && !value->empty()) {
            if (lowercase_) {
                lowerInPlace(*value);
            }
            return value;
        }
    }
    return std::nullopt;
}

}  // namespace sipbeat::outputs
