// SPDX-License-Identifier: Apache-2.0
// Private lexical helpers of the SIP parser (RFC 3261 §25.1 core rules). Not part of the
// public API: only beat/sip/*.cpp include this. Everything works on views, never allocates,
// and every loop advances by at least one byte, so it is bounded by the input length.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipbeat::sip::lex {

enum : uint8_t {
    kToken = 1,  ///< RFC 3261 §25.1 token
    kLws = 2,    ///< SP, HTAB, CR, LF: inside a header value CR/LF only occur in folds
    kDigit = 4,
    kAlpha = 8,
    kHost = 16,    ///< hostname / IPv4 characters (plus '_' seen in the wild)
    kScheme = 32,  ///< RFC 3986 scheme characters after the first ALPHA
    kList = 64     ///< characters that matter when splitting a comma list: , " < >
};

constexpr std::array<uint8_t, 256> makeTable() {
    std::array<uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) {
        t[static_cast<size_t>(c)] = kToken | kAlpha | kHost | kScheme;
        t[static_cast<size_t>(c - 'a' + 'A')] = kToken | kAlpha | kHost | kScheme;
    }
    for (int c = '0'; c <= '9'; ++c) {
        t[static_cast<size_t>(c)] = kToken | kDigit | kHost | kScheme;
    }
    for (char c : std::string_view("-.!%*_+`'~")) {
        t[static_cast<unsigned char>(c)] |= kToken;
    }
    t['-'] |= kHost | kScheme;
    t['.'] |= kHost | kScheme;
    t['_'] |= kHost;
    t['+'] |= kScheme;
    for (char c : std::string_view(",\"<>")) {
        t[static_cast<unsigned char>(c)] |= kList;
    }
    t[' '] = kLws;
    t['\t'] = kLws;
    t['\r'] = kLws;
    t['\n'] = kLws;
    return t;
}
inline constexpr std::array<uint8_t, 256> kTable = makeTable();

inline bool is(char c, uint8_t cls) noexcept {
    return (kTable[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool isToken(char c) noexcept {
    return is(c, kToken);
}
inline bool isLws(char c) noexcept {
    return is(c, kLws);
}
inline bool isDigit(char c) noexcept {
    return is(c, kDigit);
}
inline bool isAlpha(char c) noexcept {
    return is(c, kAlpha);
}
inline bool isSpTab(char c) noexcept {
    return c == ' ' || c == '\t';
}

inline char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

inline bool istartsWith(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// Removes linear white space (including the CRLF of folded lines) at both ends.
inline std::string_view trim(std::string_view s) noexcept {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && isLws(s[b])) {
        ++b;
    }
    while (e > b && isLws(s[e - 1])) {
        --e;
    }
    return s.substr(b, e - b);
}

inline size_t skipLws(std::string_view s, size_t i) noexcept {
    while (i < s.size() && isLws(s[i])) {
        ++i;
    }
    return i;
}

inline size_t skipToken(std::string_view s, size_t i) noexcept {
    while (i < s.size() && isToken(s[i])) {
        ++i;
    }
    return i;
}

/// Index just past the closing quote of the quoted-string opening at s[i] (RFC 3261 §25.1,
/// quoted-pair escapes any byte), or npos when it is not terminated.
inline size_t skipQuoted(std::string_view s, size_t i) noexcept {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

inline bool allDigits(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!isDigit(c)) {
            return false;
        }
    }
    return true;
}

/// 1*DIGIT. False when empty, not all digits, or above `max` (no overflow: stops early).
inline bool parseUint(std::string_view s, uint64_t max, uint64_t& out) noexcept {
    if (!allDigits(s)) {
        return false;
    }
    uint64_t v = 0;
    for (char c : s) {
        v = v * 10 + static_cast<uint64_t>(c - '0');
        if (v > max) {
            return false;
        }
    }
    out = v;
    return true;
}

/// delta-seconds (RFC 3261 §25.1). RFC 3261 §20.19 bounds expiry values to 2**32-1; larger
/// values are clamped to it rather than rejected, as the registrar would treat them.
inline int64_t parseDeltaSeconds(std::string_view s) noexcept {
    constexpr uint64_t kMax = 0xFFFFFFFFu;
    if (!allDigits(s)) {
        return -1;
    }
    uint64_t v = 0;
    if (!parseUint(s, kMax, v)) {
        v = kMax;
    }
    return static_cast<int64_t>(v);
}

/// Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1),
/// ignoring commas inside quoted strings and <URIs>. Empty elements are skipped.
class CommaList {
public:
    explicit CommaList(std::string_view s) noexcept : rest_(s) {}

    bool next(std::string_view& item) noexcept {
        while (!rest_.empty()) {
            size_t i = 0;
            bool in_angle = false;
            for (;;) {
                while (i < rest_.size() && !is(rest_[i], kList)) {
                    ++i;
                }
                if (i >= rest_.size()) {
                    break;
                }
                const char c = rest_[i];
                if (c == '"') {
                    const size_t q = skipQuoted(rest_, i);
                    i = q == std::string_view::npos ? rest_.size() : q;
                    continue;
                }
                if (c == ',' && !in_angle) {
                    break;
                }
                in_angle = c == '<' || (in_angle && c != '>');
                ++i;
            }
            item = trim(rest_.substr(0, i));
            rest_ = i < rest_.size() ? rest_.substr(i + 1) : std::string_view();
            if (!item.empty()) {
                return true;
            }
        }
        return false;
    }

private:
    std::string_view rest_;
};

/// Iterates `name[=value]` parameters separated by `sep` (';' for SIP params, ',' for auth
/// params), with optional LWS around the separator and '=' (RFC 3261 §25.1 SEMI, EQUAL,
/// COMMA). Quoted values are returned without their quotes (escapes kept). Empty elements
/// (";;") are skipped.
class ParamList {
public:
    ParamList(std::string_view s, char sep) noexcept : rest_(s), sep_(sep) {}

    bool next(std::string_view& name, std::string_view& value, bool& has_value) noexcept {
        for (;;) {
            size_t i = 0;
            while (i < rest_.size() && (isLws(rest_[i]) || rest_[i] == sep_)) {
                ++i;
            }
            if (i >= rest_.size()) {
                rest_ = {};
                return false;
            }
            const size_t name_begin = i;
            while (i < rest_.size() && rest_[i] != '=' && rest_[i] != sep_ && !isLws(rest_[i])) {
                ++i;
            }
            name = rest_.substr(name_begin, i - name_begin);
            value = {};
            has_value = false;
            size_t j = skipLws(rest_, i);
            if (j < rest_.size() && rest_[j] == '=') {
                has_value = true;
                j = skipLws(rest_, j + 1);
                if (j < rest_.size() && rest_[j] == '"') {
                    const size_t q = skipQuoted(rest_, j);
                    const size_t close = q == std::string_view::npos ? rest_.size() : q - 1;
                    value = rest_.substr(j + 1, close - (j + 1));
                    j = q == std::string_view::npos ? rest_.size() : q;
                } else {
                    const size_t v = j;
                    while (j < rest_.size() && rest_[j] != sep_ && !isLws(rest_[j])) {
                        ++j;
                    }
                    value = rest_.substr(v, j - v);
                }
                i = j;
            }
            // Anything up to the next separator is junk we do not interpret.
            while (i < rest_.size() && rest_[i] != sep_) {
                if (rest_[i] == '"') {
                    const size_t q = skipQuoted(rest_, i);
                    i = q == std::string_view::npos ? rest_.size() : q;
                } else {
                    ++i;
                }
            }
            rest_ = i < rest_.size() ? rest_.substr(i + 1) : std::string_view();
            if (!name.empty()) {
                return true;
            }
        }
    }

private:
    std::string_view rest_;
    char sep_;
};

/// Value of parameter `name` (case-insensitive) in a `sep`-separated parameter list.
inline bool findParam(std::string_view params, char sep, std::string_view name,
                      std::string_view& value) noexcept {
    ParamList list(params, sep);
    std::string_view n;
    std::string_view v;
    bool has_value = false;
    while (list.next(n, v, has_value)) {
        if (iequals(n, name)) {
            value = v;
            return true;
        }
    }
    return false;
}

}  // namespace sipbeat::sip::lex
