// SPDX-License-Identifier: Apache-2.0
// SIP/SIPS URIs (RFC 3261 §19.1, §25.1) and TEL URIs (RFC 3966), as views.
#include "beat/sip/lex.h"
#include "beat/sip/message.h"
#include "beat/sip/uri_internal.h"

namespace sipbeat::sip {

namespace {

// IPv6reference = "[" IPv6address "]" (RFC 3261 §25.1); checked for its character set only.
bool validIpv6Reference(std::string_view host) noexcept {
    if (host.size() < 3 || host.front() != '[' || host.back() != ']') {
        return false;
    }
    for (char c : host.substr(1, host.size() - 2)) {
        const bool hex = lex::isDigit(c) || (lex::lower(c) >= 'a' && lex::lower(c) <= 'f');
        if (!hex && c != ':' && c != '.') {
            return false;
        }
    }
    return true;
}

UriResult parseSipUri(std::string_view rest, Uri& out) noexcept {
    // userinfo ends at the first '@': '@' is neither allowed unescaped in the host, the
    // params nor the headers, while ';', '?' and ':' are legal in the user part
    // (RFC 4475 §3.1.1.2, §3.1.1.9).
    const size_t at = rest.find('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        const size_t colon = userinfo.find(':');
        if (colon != std::string_view::npos) {
            out.user = userinfo.substr(0, colon);
            out.password = userinfo.substr(colon + 1);
        } else {
            out.user = userinfo;
        }
        if (out.user.empty()) {
            return UriResult::Bad;
        }
        rest = rest.substr(at + 1);
    }
    size_t i = 0;
    if (!rest.empty() && rest[0] == '[') {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            return UriResult::Bad;
        }
        i = close + 1;
        out.host = rest.substr(0, i);
        if (!validIpv6Reference(out.host)) {
            return UriResult::Bad;
        }
    } else {
        // hostname / IPv4address (RFC 3261 §25.1), ended by the port, params or headers.
        while (i < rest.size() && lex::is(rest[i], lex::kHost)) {
            ++i;
        }
        out.host = rest.substr(0, i);
        if (out.host.empty()) {
            return UriResult::Bad;
        }
    }
    if (i < rest.size() && rest[i] != ':' && rest[i] != ';' && rest[i] != '?') {
        return UriResult::Bad;
    }
    if (i < rest.size() && rest[i] == ':') {
        size_t p = i + 1;
        while (p < rest.size() && rest[p] != ';' && rest[p] != '?') {
            ++p;
        }
        uint64_t port = 0;
        if (!lex::parseUint(rest.substr(i + 1, p - i - 1), 65535, port)) {
            return UriResult::Bad;
        }
        out.port = static_cast<uint16_t>(port);
        out.has_port = true;
        i = p;
    }
    if (i < rest.size() && rest[i] == ';') {
        size_t q = rest.find('?', i);
        if (q == std::string_view::npos) {
            q = rest.size();
        }
        out.params = rest.substr(i + 1, q - i - 1);
        i = q;
    }
    if (i < rest.size()) {
        if (rest[i] != '?') {
            return UriResult::Bad;
        }
        out.headers = rest.substr(i + 1);
    }
    return UriResult::Ok;
}

UriResult parseTelUri(std::string_view rest, Uri& out) noexcept {
    // telephone-subscriber *par (RFC 3966 §3): the number, then ;params. No host.
    const size_t semi = rest.find(';');
    out.user = rest.substr(0, semi);
    if (out.user.empty()) {
        return UriResult::Bad;
    }
    if (semi != std::string_view::npos) {
        out.params = rest.substr(semi + 1);
    }
    return UriResult::Ok;
}

}  // namespace

UriResult parseUriDetailed(std::string_view text, Uri& out) noexcept {
    resetUri(out);
    text = lex::trim(text);
    out.original = text;
    if (text.empty() || !lex::isAlpha(text[0])) {
        return UriResult::Bad;
    }
    size_t i = 1;
    while (i < text.size() && lex::is(text[i], lex::kScheme)) {
        ++i;
    }
    if (i >= text.size() || text[i] != ':') {
        return UriResult::Bad;
    }
    out.scheme = text.substr(0, i);
    const std::string_view rest = text.substr(i + 1);
    // A URI never contains LWS or controls (escaped forms such as %00 are fine, RFC 4475
    // §3.1.1.4).
    bool bad = false;
    for (char c : rest) {
        // No early exit, so the compiler can vectorise the loop.
        const auto u = static_cast<unsigned char>(c);
        bad |= (u <= 0x20) | (u == 0x7f);
    }
    if (bad) {
        return UriResult::Bad;
    }
    // RFC 3261 §19.1.4: the scheme is case-insensitive.
    if (lex::iequals(out.scheme, "sip") || lex::iequals(out.scheme, "sips")) {
        return parseSipUri(rest, out);
    }
    if (lex::iequals(out.scheme, "tel")) {
        return parseTelUri(rest, out);
    }
    // Other schemes (RFC 4475 §3.3.2-§3.3.4) are legal but opaque to us.
    return UriResult::OtherScheme;
}

bool parseUri(std::string_view text, Uri& out) noexcept {
    return parseUriDetailed(text, out) == UriResult::Ok;
}

bool Uri::param(std::string_view name, std::string_view& value) const noexcept {
    return lex::findParam(params, ';', name, value);
}

}  // namespace sipbeat::sip
