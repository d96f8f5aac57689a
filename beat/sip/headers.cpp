// SPDX-License-Identifier: Apache-2.0
// Lazily parsed header values: From, To, Contact, Max-Forwards, Expires.
#include "beat/sip/lex.h"
#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

// q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )  (RFC 3261 §20.10, §25.1)
double parseQ(std::string_view v) noexcept {
    if (v.empty() || (v[0] != '0' && v[0] != '1')) {
        return -1;
    }
    double q = v[0] == '1' ? 1.0 : 0.0;
    if (v.size() == 1) {
        return q;
    }
    if (v[1] != '.' || v.size() > 5) {
        return -1;
    }
    double scale = 0.1;
    for (char c : v.substr(2)) {
        if (!lex::isDigit(c)) {
            return -1;
        }
        q += scale * (c - '0');
        scale /= 10;
    }
    return q > 1.0 ? -1 : q;
}

}  // namespace

bool Message::from(NameAddr& out) const noexcept {
    const Header* h = first(HeaderType::From);
    return h != nullptr && parseNameAddr(h->value, out);
}

bool Message::to(NameAddr& out) const noexcept {
    const Header* h = first(HeaderType::To);
    return h != nullptr && parseNameAddr(h->value, out);
}

size_t Message::contacts(std::span<Contact> out) const noexcept {
    size_t count = 0;
    for (size_t i = 0; i < header_count_ && count < out.size(); ++i) {
        if (headers_[i].type != HeaderType::Contact) {
            continue;
        }
        // Contact is a comma-separated list (RFC 3261 §20.10), possibly repeated (§7.3.1).
        lex::CommaList list(headers_[i].value);
        std::string_view item;
        while (count < out.size() && list.next(item)) {
            // Field by field: assigning a fresh Contact{} costs more than parsing the value.
            Contact& c = out[count];
            c.star = false;
            c.expires = -1;
            c.q = -1;
            if (item == "*") {
                parseNameAddr({}, c.addr);  // empties it
                c.star = true;              // REGISTER removing all bindings (RFC 3261 §10.2.2)
                ++count;
                continue;
            }
            if (!parseNameAddr(item, c.addr)) {
                continue;  // unusable value: skipped, the others still count
            }
            std::string_view v;
            if (c.addr.param("expires", v)) {
                c.expires = lex::parseDeltaSeconds(v);
            }
            if (c.addr.param("q", v)) {
                c.q = parseQ(v);
            }
            ++count;
        }
    }
    return count;
}

int64_t Message::maxForwards() const noexcept {
    const Header* h = first(HeaderType::MaxForwards);
    uint64_t v = 0;
    // Max-Forwards is an integer 0-255 (RFC 3261 §20.22); 300 (RFC 4475 §3.1.2.4) is bad.
    if (h == nullptr || !lex::parseUint(h->value, 255, v)) {
        return -1;
    }
    return static_cast<int64_t>(v);
}

int64_t Message::expires() const noexcept {
    const Header* h = first(HeaderType::Expires);
    return h == nullptr ? -1 : lex::parseDeltaSeconds(h->value);
}

}  // namespace sipbeat::sip
