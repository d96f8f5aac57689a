// SPDX-License-Identifier: Apache-2.0
// Message framing: start line, header lines, the few header values every consumer needs
// eagerly (Call-ID, CSeq, Content-Length), body boundaries. Everything else is parsed lazily
// by the accessors. Hot path: one memchr per line, no allocation, no copies.
#include <cstring>

#include "beat/sip/lex.h"
#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

using lex::isSpTab;
using lex::isToken;

struct FirstLine {
    bool is_request = false;
    std::string_view method, uri, version, reason;
    int status = 0;
};

// "SIP/2.0" (RFC 3261 §7.1: SIP-Version is case-insensitive); only 2.0 is understood, as a
// UAS would answer anything else with 505.
ParseError checkVersion(std::string_view token, std::string_view& version) noexcept {
    if (!lex::istartsWith(token, "SIP/")) {
        return ParseError::BadVersion;
    }
    version = token.substr(4);
    return version == "2.0" ? ParseError::None : ParseError::BadVersion;
}

// Request-URI: an absoluteURI, so it starts with a scheme and a ':' (RFC 3261 §25.1,
// RFC 3986 §3.1), and contains no LWS or control characters.
bool validRequestUri(std::string_view uri) noexcept {
    if (uri.empty() || !lex::isAlpha(uri[0])) {
        return false;  // e.g. "<sip:user@example.com>" (RFC 4475 §3.1.2.7)
    }
    size_t i = 1;
    while (i < uri.size() && lex::is(uri[i], lex::kScheme)) {
        ++i;
    }
    if (i >= uri.size() || uri[i] != ':') {
        return false;
    }
    // e.g. "sip:user@example.com; lr" (RFC 4475 §3.1.2.8). Written without an early exit so
    // the compiler can vectorise it: this runs for every request.
    bool bad = false;
    for (char c : uri) {
        const auto u = static_cast<unsigned char>(c);
        bad |= (u <= 0x20) | (u == 0x7f);
    }
    return !bad;
}

// Start line (RFC 3261 §7.1, §7.2), without its line ending. `err_at` is the offset in the
// line where the error was found.
ParseError parseFirstLine(std::string_view line, FirstLine& fl, size_t& err_at) noexcept {
    err_at = 0;
    // RFC 4475 §3.1.2.10 allows ignoring SP at the end of the Request-Line.
    while (!line.empty() && isSpTab(line.back())) {
        line.remove_suffix(1);
    }
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) {
        return ParseError::BadFirstLine;
    }
    const std::string_view first = line.substr(0, sp);
    if (lex::istartsWith(first, "SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        fl.is_request = false;
        if (checkVersion(first, fl.version) != ParseError::None) {
            return ParseError::BadVersion;
        }
        size_t i = sp;
        while (i < line.size() && line[i] == ' ') {
            ++i;
        }
        err_at = i;
        size_t d = i;
        while (d < line.size() && lex::isDigit(line[d])) {
            ++d;
        }
        // Status-Code is exactly 3 digits (RFC 3261 §25.1), and a class 1xx-6xx (§21).
        if (d - i != 3 || (d < line.size() && line[d] != ' ')) {
            return ParseError::BadStatusCode;  // e.g. 4294967301 (RFC 4475 §3.1.2.19)
        }
        fl.status = (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 + (line[i + 2] - '0');
        if (fl.status < 100 || fl.status > 699) {
            return ParseError::BadStatusCode;
        }
        // The Reason-Phrase may be empty (RFC 4475 §3.1.1.13) and may hold any UTF-8
        // (§3.1.1.12); it is kept as written.
        fl.reason = d < line.size() ? line.substr(d + 1) : std::string_view();
        return ParseError::None;
    }
    // Request-Line = Method SP Request-URI SP SIP-Version
    fl.is_request = true;
    for (char c : first) {
        if (!isToken(c)) {
            return ParseError::BadFirstLine;
        }
    }
    fl.method = first;
    const size_t last_sp = line.rfind(' ');
    if (last_sp <= sp) {
        err_at = sp;
        return ParseError::BadFirstLine;  // fewer than three elements
    }
    err_at = last_sp + 1;
    if (checkVersion(line.substr(last_sp + 1), fl.version) != ParseError::None) {
        return ParseError::BadVersion;
    }
    // RFC 4475 §3.1.2.9 allows ignoring extra SP between the elements.
    size_t b = sp;
    size_t e = last_sp;
    while (b < e && line[b] == ' ') {
        ++b;
    }
    while (e > b && line[e - 1] == ' ') {
        --e;
    }
    err_at = b;
    fl.uri = line.substr(b, e - b);
    if (!validRequestUri(fl.uri)) {
        return ParseError::BadRequestUri;
    }
    return ParseError::None;
}

// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number is below 2**31 (§8.1.1.5).
bool parseCSeqValue(std::string_view v, CSeq& out) noexcept {
    size_t i = 0;
    while (i < v.size() && lex::isDigit(v[i])) {
        ++i;
    }
    uint64_t number = 0;
    if (!lex::parseUint(v.substr(0, i), 0x7fffffffu, number)) {
        return false;  // e.g. 36893488147419103232 (RFC 4475 §3.1.2.4)
    }
    const size_t m = lex::skipLws(v, i);
    if (m == i) {
        return false;
    }
    const size_t me = lex::skipToken(v, m);
    if (me == m || lex::skipLws(v, me) != v.size()) {
        return false;
    }
    out.number = static_cast<uint32_t>(number);
    out.method = v.substr(m, me - m);
    return true;
}

constexpr uint64_t kMaxContentLength = 0x7fffffffu;

}  // namespace

void Message::clear() noexcept {
    // The header array is not wiped: header_count_ bounds what is valid (and zeroing 5 KiB per
    // message would cost more than parsing it).
    is_request_ = false;
    method_ = Method::Other;
    method_name_ = {};
    request_uri_ = {};
    reason_ = {};
    version_ = {};
    status_code_ = 0;
    header_count_ = 0;
    call_id_ = {};
    cseq_ = {};
    content_length_ = -1;
    body_ = {};
    raw_ = {};
    trailing_ = 0;
    error_offset_ = 0;
}

const Header* Message::first(HeaderType type) const noexcept {
    for (size_t i = 0; i < header_count_; ++i) {
        if (headers_[i].type == type) {
            return &headers_[i];
        }
    }
    return nullptr;
}

ParseStatus parse(std::string_view bytes, Message& out, ParseError* error,
                  const ParseOptions& options) noexcept {
    out.clear();
    const auto fail = [&](ParseError e, size_t offset) noexcept {
        out.error_offset_ = offset;
        if (error != nullptr) {
            *error = e;
        }
        return ParseStatus::Malformed;
    };
    const char* const base = bytes.data();
    const size_t n = bytes.size();
    size_t pos = 0;
    // RFC 3261 §7.5: CRLFs before the start-line are ignored (stream keep-alives).
    while (pos < n && (bytes[pos] == '\r' || bytes[pos] == '\n')) {
        ++pos;
    }
    if (pos == n) {
        return fail(ParseError::Empty, 0);
    }
    const size_t start = pos;

    // Start line.
    const auto* nl = static_cast<const char*>(std::memchr(base + pos, '\n', n - pos));
    const size_t first_end = nl != nullptr ? static_cast<size_t>(nl - base) : n;
    std::string_view line = bytes.substr(pos, first_end - pos);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    FirstLine fl;
    size_t err_at = 0;
    const ParseError first_err = parseFirstLine(line, fl, err_at);
    out.is_request_ = fl.is_request;
    out.method_name_ = fl.method;
    out.method_ = fl.is_request ? methodFromName(fl.method) : Method::Other;
    out.request_uri_ = fl.uri;
    out.version_ = fl.version;
    out.status_code_ = fl.status;
    out.reason_ = fl.reason;
    if (first_err != ParseError::None) {
        return fail(first_err, start + err_at);
    }
    if (nl == nullptr) {
        return fail(ParseError::NoHeaderEnd, first_end);
    }
    pos = first_end + 1;

    // Header lines (RFC 3261 §7.3). Value problems are remembered and reported once the
    // headers are scanned, so a parse-error still carries the Call-ID when there is one.
    ParseError value_err = ParseError::None;
    size_t value_err_at = 0;
    const auto valueError = [&](ParseError e, size_t at) noexcept {
        if (value_err == ParseError::None) {
            value_err = e;
            value_err_at = at;
        }
    };
    bool have_cseq = false;
    bool have_from = false;
    bool have_to = false;
    for (;;) {
        if (pos >= n) {
            // A datagram that ends right after a complete header line lacks only the empty
            // line: the datagram boundary ends the message (RFC 3261 §18.3), as tshark and
            // sipcmbeat's no-more-data parsing take it. A stream must wait for the line.
            if (options.datagram && pos > first_end + 1) {
                break;
            }
            return fail(ParseError::NoHeaderEnd, pos);
        }
        // The empty line ends the headers (RFC 3261 §7). Bare LF line ends are accepted as
        // most stacks do.
        if (bytes[pos] == '\n') {
            ++pos;
            break;
        }
        if (bytes[pos] == '\r') {
            if (pos + 1 >= n) {
                return fail(ParseError::NoHeaderEnd, pos);
            }
            if (bytes[pos + 1] == '\n') {
                pos += 2;
                break;
            }
            return fail(ParseError::BadHeaderLine, pos);
        }
        const size_t line_begin = pos;
        size_t e = pos;
        for (;;) {
            nl = static_cast<const char*>(std::memchr(base + e, '\n', n - e));
            if (nl == nullptr) {
                return fail(ParseError::NoHeaderEnd, line_begin);
            }
            e = static_cast<size_t>(nl - base);
            // RFC 3261 §7.3.1: a line starting with SP/HTAB continues the previous one.
            if (e + 1 < n && isSpTab(bytes[e + 1])) {
                ++e;
                continue;
            }
            break;
        }
        size_t hend = e;
        if (hend > line_begin && bytes[hend - 1] == '\r') {
            --hend;
        }
        // bytes[hend] is the line's CR or LF, which is neither a token character nor SP/HTAB:
        // it stops the next two loops without a bounds check.
        size_t i = line_begin;
        while (isToken(base[i])) {
            ++i;
        }
        const std::string_view name = bytes.substr(line_begin, i - line_begin);
        // HCOLON = *( SP / HTAB ) ":" SWS (RFC 3261 §25.1)
        while (isSpTab(base[i])) {
            ++i;
        }
        if (name.empty() || i >= hend || bytes[i] != ':') {
            return fail(ParseError::BadHeaderLine, line_begin);
        }
        if (out.header_count_ >= Message::kMaxHeaders) {
            return fail(ParseError::TooManyHeaders, line_begin);
        }
        Header& h = out.headers_[out.header_count_++];
        h.name = name;
        h.type = headerTypeFromName(name);
        h.value = lex::trim(bytes.substr(i + 1, hend - (i + 1)));
        switch (h.type) {
            case HeaderType::CallId:
                // RFC 3261 §7.3.1: Call-ID is single-valued; with several (RFC 4475
                // §3.3.8) the first one is the one reported.
                if (out.call_id_.empty()) {
                    out.call_id_ = h.value;
                }
                break;
            case HeaderType::CSeq: {
                CSeq c;
                if (!parseCSeqValue(h.value, c)) {
                    valueError(ParseError::BadCSeq, line_begin);
                } else if (!have_cseq) {
                    out.cseq_ = c;
                    // RFC 3261 §8.1.1.5: the CSeq method matches the request method
                    // (RFC 4475 §3.1.2.17, §3.1.2.18).
                    if (fl.is_request && c.method != fl.method) {
                        valueError(ParseError::BadCSeq, line_begin);
                    }
                } else if (c.number != out.cseq_.number || c.method != out.cseq_.method) {
                    // Two different CSeqs (RFC 4475 §3.3.8): no way to tell which one holds.
                    valueError(ParseError::BadCSeq, line_begin);
                }
                have_cseq = true;
                break;
            }
            case HeaderType::ContentLength: {
                uint64_t len = 0;
                if (!lex::parseUint(h.value, kMaxContentLength, len)) {
                    valueError(ParseError::BadContentLength, line_begin);  // RFC 4475 §3.1.2.3
                } else if (out.content_length_ >= 0 &&
                           out.content_length_ != static_cast<int64_t>(len)) {
                    // Differing values make the framing ambiguous (RFC 4475 §3.3.9).
                    valueError(ParseError::BadContentLength, line_begin);
                } else {
                    out.content_length_ = static_cast<int64_t>(len);
                }
                break;
            }
            case HeaderType::From:
                have_from = true;
                break;
            case HeaderType::To:
                have_to = true;
                break;
            default:
                break;
        }
        pos = e + 1;
    }
    const size_t body_begin = pos;
    if (value_err != ParseError::None) {
        return fail(value_err, value_err_at);
    }
    if (options.require_mandatory) {
        // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory. Only
        // the four that identify a dialog are required here, as sipcmbeat does
        // (sipcmbeat.md §10.5): RFC 2543 requests (RFC 4475 §3.4.1) lack Max-Forwards, and
        // real UAs send replies without Via (SIPp's 487 in the lab captures) that
        // tshark, Kamailio and the original engine all accept.
        if (out.call_id_.empty()) {
            return fail(ParseError::MissingCallId, body_begin);
        }
        if (!have_cseq) {
            return fail(ParseError::MissingCSeq, body_begin);
        }
        if (!have_from) {
            return fail(ParseError::MissingFrom, body_begin);
        }
        if (!have_to) {
            return fail(ParseError::MissingTo, body_begin);
        }
    }

    // Body (RFC 3261 §18.3).
    const size_t avail = n - body_begin;
    size_t body_len = avail;
    if (out.content_length_ >= 0) {
        const auto cl = static_cast<size_t>(out.content_length_);
        if (cl <= avail) {
            body_len = cl;
        } else if (!options.datagram) {
            // A stream message is incomplete until Content-Length bytes arrived.
            out.raw_ = bytes.substr(start, n - start);
            out.body_ = bytes.substr(body_begin);
            return fail(ParseError::TruncatedBody, body_begin);
        }
        // Datagram: RFC 3261 §18.3 calls a short body an error, but a monitor also sees first
        // IP fragments and snaplen-cut packets; the headers are intact, so the message is kept
        // with what body there is (RFC 4475 §3.1.2.2 is then parsed tolerantly).
    } else if (!options.datagram) {
        // RFC 3261 §18.3: Content-Length MUST be used with stream transports; without it the
        // message cannot be framed (sipcmbeat: "missing Content-Length").
        return fail(ParseError::BadContentLength, body_begin);
    }
    out.body_ = bytes.substr(body_begin, body_len);
    out.raw_ = bytes.substr(start, body_begin + body_len - start);
    // RFC 3261 §18.3: bytes after the body in a datagram are discarded (RFC 4475 §3.1.1.8);
    // on a stream they are the next message.
    out.trailing_ = avail - body_len;
    if (error != nullptr) {
        *error = ParseError::None;
    }
    return ParseStatus::Ok;
}

}  // namespace sipbeat::sip
