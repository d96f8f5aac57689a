// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/sip_framing.h"

#include <cstring>

namespace sipbeat::decode::detail {

namespace {

constexpr std::string_view kSipVersion = "SIP/2.0";

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool isAlpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Method characters accepted at a message start. RFC 3261 §25.1 allows any token, but
// every method in use (RFC 3261, 3262, 3265, 3311, 3428, 3515, 3903, 6086 ...) is upper
// case, and accepting lower case would let text inside a lost body pass for a request line
// when resynchronising.
bool isMethodChar(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '_' || c == '.';
}
constexpr size_t kMaxMethod = 32;

bool isSchemeChar(char c) noexcept {
    return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
}

// Compares `data` with `literal` case-insensitively (ABNF literals are, RFC 5234 §2.3) over
// the bytes present: 1 = whole literal matched, 0 = mismatch, -1 = matched so far, too short.
int matchLiteral(std::string_view data, std::string_view literal) noexcept {
    const size_t n = data.size() < literal.size() ? data.size() : literal.size();
    for (size_t i = 0; i < n; ++i) {
        if (lower(data[i]) != lower(literal[i])) {
            return 0;
        }
    }
    return n == literal.size() ? 1 : -1;
}

bool equalsNoCase(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && matchLiteral(a, b) == 1;
}

StartLine statusLine(std::string_view d) noexcept {
    // SIP/2.0 SP 3DIGIT SP (RFC 3261 §7.2); a missing reason phrase is tolerated.
    for (size_t i = 8; i < 12; ++i) {
        if (i >= d.size()) {
            return StartLine::NeedMore;
        }
        const char c = d[i];
        const bool ok = i < 11 ? isDigit(c) : (c == ' ' || c == '\r' || c == '\n');
        if (!ok) {
            return StartLine::No;
        }
    }
    return StartLine::Yes;
}

StartLine requestLine(std::string_view d, size_t max_line) noexcept {
    // Method SP Request-URI SP SIP-Version CRLF (RFC 3261 §7.1).
    const size_t n = d.size() < max_line ? d.size() : max_line;
    const StartLine more = d.size() < max_line ? StartLine::NeedMore : StartLine::No;
    size_t i = 0;
    while (i < n && i <= kMaxMethod && isMethodChar(d[i])) {
        ++i;
    }
    if (i == n) {
        return more;
    }
    if (i == 0 || i > kMaxMethod || !(d[0] >= 'A' && d[0] <= 'Z') || d[i] != ' ') {
        return StartLine::No;
    }
    ++i;
    // The URI: a scheme (sip, sips, tel, urn ...) then ':' then no white space.
    const size_t scheme = i;
    while (i < n && isSchemeChar(d[i])) {
        ++i;
    }
    if (i == n) {
        return more;
    }
    if (i == scheme || !isAlpha(d[scheme]) || d[i] != ':') {
        return StartLine::No;
    }
    while (i < n && d[i] != ' ') {
        const auto c = static_cast<unsigned char>(d[i]);
        if (c < 0x21 || c == 0x7f) {
            return StartLine::No;
        }
        ++i;
    }
    if (i == n) {
        return more;
    }
    ++i;
    const int v = matchLiteral(d.substr(i), kSipVersion);
    if (v == 0) {
        return StartLine::No;
    }
    if (v < 0) {
        return more;
    }
    i += kSipVersion.size();
    if (i >= n) {
        return more;
    }
    return d[i] == '\r' || d[i] == '\n' ? StartLine::Yes : StartLine::No;
}

// Reads a Content-Length value: 1*DIGIT with white space around it.
bool parseLength(std::string_view v, uint64_t& out) noexcept {
    size_t i = 0;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) {
        ++i;
    }
    const size_t start = i;
    uint64_t value = 0;
    while (i < v.size() && isDigit(v[i])) {
        if (i - start >= 10) {
            return false;  // more than 9,999,999,999 bytes: nonsense, not a length
        }
        value = value * 10 + static_cast<uint64_t>(v[i] - '0');
        ++i;
    }
    if (i == start) {
        return false;
    }
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) {
        ++i;
    }
    if (i != v.size()) {
        return false;
    }
    out = value;
    return true;
}

const char* findByte(std::string_view d, size_t from, char c) noexcept {
    if (from >= d.size()) {
        return nullptr;
    }
    return static_cast<const char*>(std::memchr(d.data() + from, c, d.size() - from));
}

}  // namespace

size_t leadingLineBreaks(std::string_view data) noexcept {
    size_t i = 0;
    while (i < data.size() && (data[i] == '\r' || data[i] == '\n')) {
        ++i;
    }
    return i;
}

StartLine classifyStartLine(std::string_view data, size_t max_line) noexcept {
    if (data.empty()) {
        return StartLine::NeedMore;
    }
    const int v = matchLiteral(data, "SIP/2.0 ");
    if (v == 1) {
        return statusLine(data);
    }
    if (v < 0) {
        return StartLine::NeedMore;
    }
    return requestLine(data, max_line);
}

ResyncPoint findResync(std::string_view data, size_t max_line) noexcept {
    size_t pos = 0;
    // Each round moves past one line break, so the loop ends within data.size() rounds.
    for (;;) {
        const char* nl = findByte(data, pos, '\n');
        if (nl == nullptr) {
            // The last line is incomplete: keep it if it may still become a start line.
            const bool keep =
                pos != 0 && classifyStartLine(data.substr(pos), max_line) == StartLine::NeedMore;
            return {keep ? pos : data.size(), false};
        }
        pos = static_cast<size_t>(nl - data.data()) + 1;
        if (pos == data.size()) {
            return {pos, false};
        }
        switch (classifyStartLine(data.substr(pos), max_line)) {
            case StartLine::Yes:
                return {pos, true};
            case StartLine::NeedMore:
                return {pos, false};
            case StartLine::No:
                break;
        }
    }
}

bool scanHeaders(std::string_view data, size_t limit, HeaderScan& out) noexcept {
    if (out.header_length != 0) {
        return true;
    }
    const std::string_view d = data.substr(0, limit);
    size_t pos = out.resume;
    const char* nl = nullptr;
    if (pos == 0) {
        nl = findByte(d, 0, '\n');  // the start line
        if (nl == nullptr) {
            return false;
        }
        pos = static_cast<size_t>(nl - d.data()) + 1;
    }
    // One header line per round; each round consumes at least its line break.
    for (;;) {
        nl = findByte(d, pos, '\n');
        if (nl == nullptr) {
            out.resume = pos;
            return false;
        }
        const size_t end = static_cast<size_t>(nl - d.data());
        std::string_view line = d.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        pos = end + 1;
        if (line.empty()) {
            // The empty line; bare LF line ends are tolerated as most stacks do.
            out.header_length = pos;
            out.resume = pos;
            return true;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            continue;  // folded continuation (RFC 3261 §7.3.1) of a header we do not need
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;  // malformed header line: the SIP parser reports it
        }
        std::string_view name = line.substr(0, colon);
        // HCOLON allows white space before the colon.
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
            name.remove_suffix(1);
        }
        if (!equalsNoCase(name, "content-length") && !equalsNoCase(name, "l")) {
            continue;
        }
        uint64_t value = 0;
        if (!parseLength(line.substr(colon + 1), value) ||
            (out.has_content_length && value != out.content_length)) {
            out.bad_content_length = true;
        }
        out.has_content_length = true;
        out.content_length = value;
    }
}

size_t frameSipStream(std::string_view data, size_t max_message, SipFramerState& state,
                      FrameSink& sink) noexcept {
    const size_t max_line = maxStartLine(max_message);
    size_t pos = 0;
    // Every round consumes bytes or returns.
    while (pos < data.size()) {
        if (state.skip_remaining > 0) {
            const size_t left = data.size() - pos;
            const size_t k =
                state.skip_remaining < left ? static_cast<size_t>(state.skip_remaining) : left;
            pos += k;
            state.skip_remaining -= k;
            sink.dropped(k);
            continue;
        }
        const std::string_view rest = data.substr(pos);
        const size_t breaks = leadingLineBreaks(rest);
        if (breaks > 0) {
            pos += breaks;
            continue;
        }
        const StartLine start = classifyStartLine(rest, max_line);
        if (start == StartLine::NeedMore) {
            return pos;
        }
        if (start == StartLine::No) {
            state.scan = HeaderScan{};
            // Not at a message: the stream start was not seen, bytes were lost, or the
            // previous message's length was wrong. Skip to the next line that starts one.
            const ResyncPoint r = findResync(rest, max_line);
            sink.dropped(r.offset);
            pos += r.offset;
            if (!r.found) {
                return pos;
            }
            sink.anomaly(Anomaly::TcpResync);
            continue;
        }
        HeaderScan& h = state.scan;
        if (!scanHeaders(rest, max_message, h)) {
            if (rest.size() < max_message) {
                return pos;
            }
            state.scan = HeaderScan{};
            // The headers alone exceed the buffer: drop what we hold; the rest of this
            // message fails the start-line test and is skipped by the resync above.
            sink.anomaly(Anomaly::SipMessageTooLarge);
            sink.dropped(rest.size());
            return data.size();
        }
        uint64_t body = 0;
        if (!h.has_content_length) {
            // RFC 3261 §18.3 requires Content-Length on stream transports. Without it we
            // take the message as headers only (what the RFC's requirement implies, and how
            // the peer would read it); a body that does follow is skipped by the resync.
            sink.anomaly(Anomaly::SipFramingNoContentLength);
        } else if (h.bad_content_length) {
            // Same treatment: the headers go out, the resync finds the next message.
            sink.anomaly(Anomaly::SipFramingBadContentLength);
        } else {
            body = h.content_length;
        }
        const uint64_t total = h.header_length + body;
        if (total > max_message) {
            sink.anomaly(Anomaly::SipMessageTooLarge);
            state.skip_remaining = total;
            state.scan = HeaderScan{};
            continue;
        }
        if (rest.size() < total) {
            return pos;
        }
        state.scan = HeaderScan{};
        sink.message(rest.substr(0, static_cast<size_t>(total)));
        pos += static_cast<size_t>(total);
    }
    return pos;
}

}  // namespace sipbeat::decode::detail
