// SPDX-License-Identifier: Apache-2.0
// Name tables: methods, header names (full and compact forms), parse-error names.
#include <array>

#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

struct MethodEntry {
    std::string_view name;
    Method method;
};

constexpr std::array<MethodEntry, 14> kMethods{{
    {"INVITE", Method::Invite},
    {"ACK", Method::Ack},
    {"BYE", Method::Bye},
    {"CANCEL", Method::Cancel},
    {"REGISTER", Method::Register},
    {"OPTIONS", Method::Options},
    {"INFO", Method::Info},
    {"UPDATE", Method::Update},
    {"PRACK", Method::Prack},
    {"SUBSCRIBE", Method::Subscribe},
    {"NOTIFY", Method::Notify},
    {"PUBLISH", Method::Publish},
    {"MESSAGE", Method::Message},
    {"REFER", Method::Refer},
}};

// Compares a candidate name with a lower-case literal. Header names are tokens (checked by
// the parser), so folding with 0x20 cannot make a non-letter equal a letter.
bool nameIs(std::string_view name, std::string_view lower) noexcept {
    for (size_t i = 0; i < lower.size(); ++i) {
        if (static_cast<char>(name[i] | 0x20) != lower[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

Method methodFromName(std::string_view name) noexcept {
    // RFC 3261 §7.1: the method is case-sensitive; "invite" is an unknown extension method.
    for (const auto& e : kMethods) {
        if (e.name == name) {
            return e.method;
        }
    }
    return Method::Other;
}

std::string_view methodName(Method m) noexcept {
    for (const auto& e : kMethods) {
        if (e.method == m) {
            return e.name;
        }
    }
    return {};
}

HeaderType headerTypeFromName(std::string_view name) noexcept {
    // Hot path (every header line of every message): dispatch on length and first letter,
    // then one compare. Names are case-insensitive (RFC 3261 §7.3.1). The compact forms are
    // those of RFC 3261 §7.3.3 / §20 for the headers indexed here (c e f i k l m t v); the
    // other registered compact forms (a b d j n o r s u x y, IANA "Header Fields" registry)
    // name headers that are not indexed, so they stay Other.
    using H = HeaderType;
    if (name.empty()) {
        return H::Other;
    }
    const char c = static_cast<char>(name[0] | 0x20);
    switch (name.size()) {
        case 1:
            switch (c) {
                case 'c':
                    return H::ContentType;
                case 'e':
                    return H::ContentEncoding;
                case 'f':
                    return H::From;
                case 'i':
                    return H::CallId;
                case 'k':
                    return H::Supported;
                case 'l':
                    return H::ContentLength;
                case 'm':
                    return H::Contact;
                case 't':
                    return H::To;
                case 'v':
                    return H::Via;
                default:
                    return H::Other;
            }
        case 2:
            return nameIs(name, "to") ? H::To : H::Other;
        case 3:
            return nameIs(name, "via") ? H::Via : H::Other;
        case 4:
            if (c == 'c') {
                return nameIs(name, "cseq") ? H::CSeq : H::Other;
            }
            return nameIs(name, "from") ? H::From : H::Other;
        case 5:
            if (c == 'a') {
                return nameIs(name, "allow") ? H::Allow : H::Other;
            }
            return nameIs(name, "route") ? H::Route : H::Other;
        case 6:
            if (c == 'a') {
                return nameIs(name, "accept") ? H::Accept : H::Other;
            }
            if (c == 'r') {
                return nameIs(name, "reason") ? H::Reason : H::Other;
            }
            return nameIs(name, "server") ? H::Server : H::Other;
        case 7:
            if (c == 'e') {
                return nameIs(name, "expires") ? H::Expires : H::Other;
            }
            if (nameIs(name, "call-id")) {
                return H::CallId;
            }
            return nameIs(name, "contact") ? H::Contact : H::Other;
        case 9:
            return nameIs(name, "supported") ? H::Supported : H::Other;
        case 10:
            return nameIs(name, "user-agent") ? H::UserAgent : H::Other;
        case 12:
            if (c == 'c') {
                return nameIs(name, "content-type") ? H::ContentType : H::Other;
            }
            if (c == 'm') {
                return nameIs(name, "max-forwards") ? H::MaxForwards : H::Other;
            }
            return nameIs(name, "record-route") ? H::RecordRoute : H::Other;
        case 13:
            return nameIs(name, "authorization") ? H::Authorization : H::Other;
        case 14:
            return nameIs(name, "content-length") ? H::ContentLength : H::Other;
        case 16:
            if (c == 'c') {
                return nameIs(name, "content-encoding") ? H::ContentEncoding : H::Other;
            }
            if (c == 'p') {
                return nameIs(name, "p-associated-uri") ? H::PAssociatedUri : H::Other;
            }
            return nameIs(name, "www-authenticate") ? H::WwwAuthenticate : H::Other;
        case 18:
            return nameIs(name, "proxy-authenticate") ? H::ProxyAuthenticate : H::Other;
        case 19:
            if (nameIs(name, "p-asserted-identity")) {
                return H::PAssertedIdentity;
            }
            return nameIs(name, "proxy-authorization") ? H::ProxyAuthorization : H::Other;
        default:
            return H::Other;
    }
}

std::string_view canonicalHeaderName(std::string_view name) noexcept {
    if (name.size() != 1) {
        return name;
    }
    // IANA "Header Fields" registry, compact forms.
    switch (name[0] | 0x20) {
        case 'a':
            return "Accept-Contact";  // RFC 3841
        case 'b':
            return "Referred-By";  // RFC 3892
        case 'c':
            return "Content-Type";
        case 'd':
            return "Request-Disposition";  // RFC 3841
        case 'e':
            return "Content-Encoding";
        case 'f':
            return "From";
        case 'i':
            return "Call-ID";
        case 'j':
            return "Reject-Contact";  // RFC 3841
        case 'k':
            return "Supported";
        case 'l':
            return "Content-Length";
        case 'm':
            return "Contact";
        case 'n':
            return "Identity-Info";  // RFC 4474
        case 'o':
            return "Event";  // RFC 6665
        case 'r':
            return "Refer-To";  // RFC 3515
        case 's':
            return "Subject";
        case 't':
            return "To";
        case 'u':
            return "Allow-Events";  // RFC 6665
        case 'v':
            return "Via";
        case 'x':
            return "Session-Expires";  // RFC 4028
        case 'y':
            return "Identity";  // RFC 8224
        default:
            return name;
    }
}

std::string_view parseErrorName(ParseError e) noexcept {
    switch (e) {
        case ParseError::None:
            return "none";
        case ParseError::Empty:
            return "empty message";
        case ParseError::BadFirstLine:
            return "bad first line";
        case ParseError::BadRequestUri:
            return "bad Request-URI";
        case ParseError::BadVersion:
            return "bad SIP version";
        case ParseError::BadStatusCode:
            return "bad status code";
        case ParseError::BadHeaderLine:
            return "bad header line";
        case ParseError::TooManyHeaders:
            return "too many headers";
        case ParseError::NoHeaderEnd:
            return "no end of headers";
        case ParseError::BadContentLength:
            return "bad Content-Length";
        case ParseError::TruncatedBody:
            return "truncated body";
        case ParseError::MissingCallId:
            return "missing Call-ID";
        case ParseError::MissingCSeq:
            return "missing CSeq";
        case ParseError::BadCSeq:
            return "bad CSeq";
        case ParseError::MissingFrom:
            return "missing From";
        case ParseError::MissingTo:
            return "missing To";
        case ParseError::Count:
            break;
    }
    return "unknown";
}

}  // namespace sipbeat::sip
