// SPDX-License-Identifier: Apache-2.0
#include "beat/core/json_escape.h"

#include <array>
#include <cstdint>

namespace sipbeat::core {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at `p`, or 0 when it is not valid.
// Follows RFC 3629 §4 (no overlongs, no surrogates, nothing above U+10FFFF).
size_t validUtf8Length(const uint8_t* p, size_t avail) {
    const uint8_t c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        } else if (c == 0xED) {
            hi = 0x9F;
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) {
            lo = 0x90;
        } else if (c == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return 0;
    }
    if (avail < len) {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; ++i) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

// How many bytes of an invalid sequence belong to one maximal subpart, so that a
// truncated multi-byte sequence becomes a single U+FFFD.
size_t invalidSubpartLength(const uint8_t* p, size_t avail) {
    const uint8_t c = p[0];
    size_t want = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        want = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        want = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        want = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 1;
    }
    size_t n = 1;
    if (n < avail && n < want && p[n] >= lo && p[n] <= hi) {
        ++n;
        while (n < avail && n < want && p[n] >= 0x80 && p[n] <= 0xBF) {
            ++n;
        }
    }
    return n;
}

}  // namespace

// Bytes that leave the plain-copy fast path: control characters, '"', '\\', and every
// non-ASCII byte (validated as UTF-8). HTML characters are checked separately.
constexpr std::array<bool, 256> kSpecial = [] {
    std::array<bool, 256> t{};
    for (size_t c = 0; c < 256; ++c) {
        t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    }
    return t;
}();

void appendJsonEscaped(std::string& out, std::string_view in, bool escape_html) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const size_t n = in.size();
    size_t i = 0;
    size_t run_start = 0;
    if (!escape_html) {
        // The common case: long runs of plain ASCII copied in one append.
        while (i < n && !kSpecial[p[i]]) {
            ++i;
        }
        if (i == n) {
            out.append(in);
            return;
        }
    }
    auto flush = [&](size_t end) {
        if (end > run_start) {
            out.append(in.data() + run_start, end - run_start);
        }
    };
    while (i < n) {
        const uint8_t c = p[i];
        if (!kSpecial[c] && !(escape_html && (c == '<' || c == '>' || c == '&'))) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            const size_t len = validUtf8Length(p + i, n - i);
            if (len != 0) {
                i += len;
                continue;
            }
            flush(i);
            out.append(kReplacement);
            i += invalidSubpartLength(p + i, n - i);
            run_start = i;
            continue;
        }
        flush(i);
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            default:
                out.append("\\u00");
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0x0f]);
                break;
        }
        ++i;
        run_start = i;
    }
    flush(n);
}

}  // namespace sipbeat::core
