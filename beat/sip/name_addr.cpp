// SPDX-License-Identifier: Apache-2.0
// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1: From, To, Contact,
// Route-like headers, P-Asserted-Identity).
#include "beat/sip/lex.h"
#include "beat/sip/message.h"
#include "beat/sip/uri_internal.h"

namespace sipbeat::sip {

namespace {

bool acceptUri(std::string_view text, Uri& uri) noexcept {
    // Unknown schemes are valid here (RFC 4475 §3.3.4): keep original and scheme.
    return parseUriDetailed(text, uri) != UriResult::Bad;
}

}  // namespace

bool parseNameAddr(std::string_view text, NameAddr& out) noexcept {
    // Field by field: cheaper than assigning a whole NameAddr{} (see resetUri).
    out.display = {};
    out.params = {};
    out.tag = {};
    resetUri(out.uri);
    text = lex::trim(text);
    if (text.empty()) {
        return false;
    }
    size_t i = 0;
    size_t lt = std::string_view::npos;
    if (text[0] == '"') {
        // display-name = quoted-string; quotes removed, escapes kept.
        const size_t q = lex::skipQuoted(text, 0);
        if (q == std::string_view::npos) {
            // Unterminated (RFC 4475 §3.1.2.6): inferring where the quote should end is
            // guesswork, so the value is refused rather than misreported.
            return false;
        }
        out.display = text.substr(1, q - 2);
        i = lex::skipLws(text, q);
        if (i >= text.size() || text[i] != '<') {
            return false;
        }
        lt = i;
    } else {
        // Either *(token LWS) "<" (name-addr) or an addr-spec. The scan stops at the first
        // character that cannot be in a display name but starts or ends a URI. Commas are let
        // through so an unquoted "Bell, Alexander" display name (RFC 4475 §3.1.2.15) is read
        // the way its sender meant.
        while (i < text.size() && text[i] != '<' && text[i] != ':' && text[i] != ';' &&
               text[i] != '"') {
            ++i;
        }
        if (i < text.size() && text[i] == '<') {
            out.display = lex::trim(text.substr(0, i));
            lt = i;
        } else if (i > 0 && i < text.size() && text[i] == '"') {
            // A quote inside an unquoted display name (`\"arik\" <sip:…>`, seen in the
            // wild): not RFC 3261, but the <URI> that follows is unambiguous, so the text
            // before it is taken as the display name as written.
            if (const size_t l = text.find('<', i); l != std::string_view::npos) {
                out.display = lex::trim(text.substr(0, l));
                lt = l;
            }
        }
    }
    std::string_view after;
    if (lt != std::string_view::npos) {
        const size_t gt = text.find('>', lt);
        if (gt == std::string_view::npos) {
            return false;
        }
        // LWS inside the brackets is not allowed (RFC 4475 §3.1.2.14) but unambiguous, so it
        // is ignored.
        if (!acceptUri(text.substr(lt + 1, gt - lt - 1), out.uri)) {
            return false;
        }
        after = text.substr(gt + 1);
    } else {
        // addr-spec: header parameters start at the first ';' (RFC 3261 §20.10: a URI with
        // ';', ',' or '?' must be in brackets, RFC 4475 §3.3.12). A '?' is kept in the URI
        // (RFC 4475 §3.1.2.13 allows inferring the brackets).
        const size_t semi = text.find(';');
        if (!acceptUri(text.substr(0, semi), out.uri)) {
            return false;
        }
        after = semi == std::string_view::npos ? std::string_view() : text.substr(semi);
    }
    after = lex::trim(after);
    if (!after.empty()) {
        if (after[0] != ';') {
            return false;
        }
        out.params = lex::trim(after.substr(1));
        std::string_view tag;
        if (lex::findParam(out.params, ';', "tag", tag)) {
            out.tag = tag;
        }
    }
    return true;
}

bool NameAddr::param(std::string_view name, std::string_view& value) const noexcept {
    return lex::findParam(params, ';', name, value);
}

}  // namespace sipbeat::sip
