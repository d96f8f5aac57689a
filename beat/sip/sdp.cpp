// SPDX-License-Identifier: Apache-2.0
// SDP bodies (RFC 4566) and multipart bodies carrying them (RFC 2046 §5.1, RFC 5621).
#include "beat/sip/lex.h"
#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

// Splits off the next line (LF or CRLF terminated) from `rest`.
std::string_view nextLine(std::string_view& rest) noexcept {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

// Space-separated fields of an SDP value (RFC 4566 §5: single SP, tolerated repeated).
class Fields {
public:
    explicit Fields(std::string_view s) noexcept : rest_(s) {}
    std::string_view next() noexcept {
        size_t b = 0;
        while (b < rest_.size() && lex::isSpTab(rest_[b])) {
            ++b;
        }
        size_t e = b;
        while (e < rest_.size() && !lex::isSpTab(rest_[e])) {
            ++e;
        }
        const std::string_view f = rest_.substr(b, e - b);
        rest_ = rest_.substr(e);
        return f;
    }
    std::string_view rest() const noexcept { return lex::trim(rest_); }

private:
    std::string_view rest_;
};

bool parsePort(std::string_view s, uint16_t& out) noexcept {
    uint64_t v = 0;
    if (!lex::parseUint(s, 65535, v)) {
        return false;
    }
    out = static_cast<uint16_t>(v);
    return true;
}

// c=<nettype> <addrtype> <connection-address>; a multicast address may carry /ttl/count
// (RFC 4566 §5.7), which is not part of the address.
std::string_view connectionAddress(std::string_view value) noexcept {
    Fields f(value);
    f.next();
    f.next();
    const std::string_view addr = f.next();
    return addr.substr(0, addr.find('/'));
}

bool isDirection(std::string_view a) noexcept {
    // RFC 4566 §6: the four direction attributes.
    return a == "sendrecv" || a == "sendonly" || a == "recvonly" || a == "inactive";
}

// Media type of a Content-Type value ("application/sdp; charset=..." -> "application/sdp").
std::string_view mediaType(std::string_view content_type) noexcept {
    return lex::trim(content_type.substr(0, content_type.find(';')));
}

bool contentTypeParams(std::string_view content_type, std::string_view& params) noexcept {
    const size_t semi = content_type.find(';');
    if (semi == std::string_view::npos) {
        return false;
    }
    params = content_type.substr(semi + 1);
    return true;
}

constexpr int kMaxMultipartDepth = 3;

// After "--" boundary comes "--" (close delimiter) or optional transport padding and the line
// end (RFC 2046 §5.1.1); "--b4" is not a delimiter of boundary "b".
bool endsDelimiter(std::string_view body, size_t i) noexcept {
    if (body.substr(i, 2) == "--") {
        return true;
    }
    while (i < body.size() && lex::isSpTab(body[i])) {
        ++i;
    }
    return i == body.size() || body[i] == '\r' || body[i] == '\n';
}

bool sdpFromBody(std::string_view content_type, std::string_view body, Sdp& out,
                 int depth) noexcept;

// RFC 2046 §5.1.1: parts are separated by CRLF "--" boundary; the first delimiter may start
// the body; "--" boundary "--" closes. The CRLF before a delimiter belongs to it.
bool sdpFromMultipart(std::string_view content_type, std::string_view body, Sdp& out,
                      int depth) noexcept {
    std::string_view params;
    std::string_view boundary;
    if (!contentTypeParams(content_type, params) ||
        !lex::findParam(params, ';', "boundary", boundary) || boundary.empty() ||
        boundary.size() > 70) {
        return false;
    }
    // Finds the next delimiter line at or after `from`; returns the index of its "--".
    const auto findDelimiter = [&](size_t from) noexcept -> size_t {
        while (from < body.size()) {
            const size_t at = body.find(boundary, from);
            if (at == std::string_view::npos) {
                return std::string_view::npos;
            }
            if (at >= 2 && body[at - 2] == '-' && body[at - 1] == '-' &&
                (at == 2 || body[at - 3] == '\n') && endsDelimiter(body, at + boundary.size())) {
                return at - 2;
            }
            from = at + 1;
        }
        return std::string_view::npos;
    };
    size_t delim = findDelimiter(0);
    while (delim != std::string_view::npos) {
        const size_t after = delim + 2 + boundary.size();
        if (body.substr(after, 2) == "--") {
            return false;  // close delimiter: no SDP part found
        }
        // Skip transport padding and the line end after the boundary.
        const size_t nl = body.find('\n', after);
        if (nl == std::string_view::npos) {
            return false;
        }
        const size_t part_begin = nl + 1;
        const size_t next = findDelimiter(part_begin);
        size_t part_end = next == std::string_view::npos ? body.size() : next;
        // The line break before the next delimiter is part of the delimiter.
        if (part_end > part_begin && body[part_end - 1] == '\n') {
            --part_end;
            if (part_end > part_begin && body[part_end - 1] == '\r') {
                --part_end;
            }
        }
        std::string_view part = body.substr(part_begin, part_end - part_begin);
        // Part headers up to the empty line; no headers means text/plain (RFC 2046 §5.1).
        std::string_view part_type;
        for (;;) {
            if (part.empty()) {
                break;
            }
            const std::string_view line = nextLine(part);
            if (line.empty()) {
                break;
            }
            const size_t colon = line.find(':');
            if (colon != std::string_view::npos &&
                lex::iequals(lex::trim(line.substr(0, colon)), "content-type")) {
                part_type = lex::trim(line.substr(colon + 1));
            }
        }
        if (sdpFromBody(part_type, part, out, depth + 1)) {
            return true;
        }
        delim = next;
    }
    return false;
}

bool sdpFromBody(std::string_view content_type, std::string_view body, Sdp& out,
                 int depth) noexcept {
    const std::string_view type = mediaType(content_type);
    if (lex::iequals(type, "application/sdp")) {
        return parseSdp(body, out);
    }
    if (depth < kMaxMultipartDepth && lex::istartsWith(type, "multipart/")) {
        return sdpFromMultipart(content_type, body, out, depth);
    }
    return false;
}

}  // namespace

bool parseSdp(std::string_view body, Sdp& out) noexcept {
    // Only the scalars are reset: media_count bounds the valid part of the media array, and
    // wiping the whole ~2 KiB struct per message would cost more than parsing the SDP.
    out.version = {};
    out.origin_username = {};
    out.origin_session_id = {};
    out.origin_version = {};
    out.origin_address = {};
    out.session_name = {};
    out.connection_address = {};
    out.connection_info = {};
    out.media_count = 0;
    out.body = body;
    std::string_view rest = body;
    std::string_view line;
    // RFC 4566 §5: the description starts with "v=".
    do {
        if (rest.empty()) {
            return false;
        }
        line = nextLine(rest);
    } while (lex::trim(line).empty());
    if (line.size() < 2 || line[0] != 'v' || line[1] != '=') {
        return false;
    }
    out.version = line.substr(2);
    std::string_view session_direction;
    SdpMedia* media = nullptr;  // current m= section; nullptr at session level or when full
    bool in_media = false;
    while (!rest.empty()) {
        line = nextLine(rest);
        // <type>=<value>, no whitespace around '=' (RFC 4566 §5); anything else is skipped.
        if (line.size() < 2 || line[1] != '=') {
            continue;
        }
        const std::string_view value = line.substr(2);
        switch (line[0]) {
            case 'o': {
                if (in_media) {
                    break;
                }
                // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
                Fields f(value);
                out.origin_username = f.next();
                out.origin_session_id = f.next();
                out.origin_version = f.next();
                f.next();
                f.next();
                out.origin_address = f.next();
                break;
            }
            case 's':
                if (!in_media) {
                    out.session_name = value;
                }
                break;
            case 'c':
                if (!in_media) {
                    out.connection_info = value;
                    out.connection_address = connectionAddress(value);
                } else if (media != nullptr) {
                    media->connection_address = connectionAddress(value);
                }
                break;
            case 'm': {
                in_media = true;
                media = nullptr;
                if (out.media_count >= Sdp::kMaxMedia) {
                    break;  // further m= sections are not reported
                }
                // m=<media> <port>[/<number of ports>] <proto> <fmt> ...
                Fields f(value);
                SdpMedia m;
                m.media = f.next();
                const std::string_view port = f.next();
                const size_t slash = port.find('/');
                if (m.media.empty() || !parsePort(port.substr(0, slash), m.port)) {
                    break;
                }
                if (slash != std::string_view::npos) {
                    uint64_t count = 0;
                    if (lex::parseUint(port.substr(slash + 1), 65535, count)) {
                        m.port_count = static_cast<uint16_t>(count);
                    }
                }
                m.protocol = f.next();
                m.formats = f.rest();
                media = &out.media[out.media_count++];
                *media = m;
                break;
            }
            case 'a': {
                if (lex::istartsWith(value, "rtpmap:")) {
                    // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<params>]
                    if (media == nullptr || media->codec_count >= SdpMedia::kMaxCodecs) {
                        break;
                    }
                    Fields f(value.substr(7));
                    f.next();
                    const std::string_view enc = f.next();
                    const std::string_view name = enc.substr(0, enc.find('/'));
                    if (!name.empty()) {
                        media->codecs[media->codec_count++] = name;
                    }
                } else if (const std::string_view attr = lex::trim(value); isDirection(attr)) {
                    if (!in_media) {
                        session_direction = attr;
                    } else if (media != nullptr) {
                        media->direction = attr;
                    }
                }
                break;
            }
            default:
                break;
        }
    }
    // Session-level c= and direction apply to media sections without their own
    // (RFC 4566 §5.7, §6).
    for (size_t i = 0; i < out.media_count; ++i) {
        SdpMedia& m = out.media[i];
        if (m.connection_address.empty()) {
            m.connection_address = out.connection_address;
        }
        if (m.direction.empty()) {
            m.direction = session_direction;
        }
    }
    return true;
}

bool Message::sdp(Sdp& out) const noexcept {
    const Header* ct = first(HeaderType::ContentType);
    if (ct == nullptr || body_.empty()) {
        return false;
    }
    return sdpFromBody(ct->value, body_, out, 0);
}

}  // namespace sipbeat::sip
