// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipbeat::sip {

/// Well-known methods (RFC 3261 §27.4 and extensions); anything else is Other and
/// Message::methodName() has the text.
enum class Method : uint8_t {
    Other,
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Publish,
    Message,
    Refer,
};
Method methodFromName(std::string_view name) noexcept;  ///< case-sensitive, RFC 3261 §7.1
std::string_view methodName(Method m) noexcept;

/// Headers the events need, found by full or compact name (RFC 3261 §7.3.3), case-
/// insensitively. Everything else is Other and keeps its name.
enum class HeaderType : uint8_t {
    Other,
    Accept,
    Allow,
    Authorization,
    CallId,
    Contact,
    ContentEncoding,
    ContentLength,
    ContentType,
    CSeq,
    Expires,
    From,
    MaxForwards,
    PAssertedIdentity,
    PAssociatedUri,
    ProxyAuthenticate,
    ProxyAuthorization,
    Reason,
    RecordRoute,
    Route,
    Server,
    Supported,
    To,
    UserAgent,
    Via,
    WwwAuthenticate,
    Count
};
HeaderType headerTypeFromName(std::string_view name) noexcept;
/// The full name of a compact header name (RFC 3261 §7.3.3 and the IANA "Header Fields"
/// registry: "s" -> "Subject", "o" -> "Event", "x" -> "Session-Expires", ...), so headers
/// that stay Other can still be recognised; any other name is returned unchanged.
std::string_view canonicalHeaderName(std::string_view name) noexcept;

/// One header line. `value` is the raw value with leading/trailing whitespace removed; a
/// folded value (RFC 3261 §7.3.1) still contains its CRLF + whitespace, which every value
/// parser below treats as one space.
struct Header {
    HeaderType type = HeaderType::Other;
    std::string_view name;
    std::string_view value;
};

/// A SIP, SIPS or TEL URI (RFC 3261 §19.1, RFC 3966), as views.
struct Uri {
    std::string_view original;  ///< the whole URI text
    std::string_view scheme;    ///< "sip", "sips", "tel" (as written)
    std::string_view user;      ///< may contain %-escapes as written
    std::string_view password;
    std::string_view host;  ///< IPv6 references keep their brackets
    uint16_t port = 0;
    bool has_port = false;
    std::string_view params;   ///< after the first ';' up to '?' (without the ';')
    std::string_view headers;  ///< after '?'
    /// Value of a `;name=value` parameter (case-insensitive name); empty view for a flag
    /// parameter, nullopt-like empty + false when absent.
    bool param(std::string_view name, std::string_view& value) const noexcept;
};
bool parseUri(std::string_view text, Uri& out) noexcept;

/// name-addr or addr-spec with header parameters (From, To, Contact, P-Asserted-Identity).
struct NameAddr {
    std::string_view display;  ///< unquoted display name (quotes removed, escapes kept)
    Uri uri;
    std::string_view params;  ///< header params after the URI (without the first ';')
    std::string_view tag;     ///< the `tag` param
    bool param(std::string_view name, std::string_view& value) const noexcept;
};
bool parseNameAddr(std::string_view text, NameAddr& out) noexcept;

struct Via {
    std::string_view original;   ///< one via-parm as written
    std::string_view protocol;   ///< "SIP/2.0/UDP"
    std::string_view transport;  ///< "UDP"
    std::string_view host;
    uint16_t port = 0;
    std::string_view branch;
    std::string_view received;
    std::string_view rport;  ///< empty value when present without value
    bool has_rport = false;
};

struct CSeq {
    uint32_t number = 0;
    std::string_view method;
};

struct Contact {
    bool star = false;  ///< `Contact: *`
    NameAddr addr;
    int64_t expires = -1;  ///< -1 when no expires param
    double q = -1;         ///< -1 when no q param
};

/// Digest credentials (Authorization / Proxy-Authorization, RFC 3261 §22.4, RFC 2617).
struct Credentials {
    std::string_view scheme;  ///< "Digest"
    std::string_view username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
};
/// Challenge (WWW-Authenticate / Proxy-Authenticate).
struct Challenge {
    std::string_view scheme;
    std::string_view realm, nonce, opaque, algorithm, qop, domain, stale;
};

/// One SDP media description (RFC 4566 §5.14) with what the events report.
struct SdpMedia {
    std::string_view media;  ///< audio, video, ...
    uint16_t port = 0;
    uint16_t port_count = 1;
    std::string_view protocol;            ///< RTP/AVP, ...
    std::string_view formats;             ///< "0 8 101" as written
    std::string_view connection_address;  ///< media-level c=, else the session one
    std::string_view direction;           ///< sendrecv/sendonly/recvonly/inactive, empty if absent
    static constexpr size_t kMaxCodecs = 8;
    std::array<std::string_view, kMaxCodecs> codecs{};  ///< rtpmap encoding names, in order
    size_t codec_count = 0;
};
struct Sdp {
    std::string_view version;
    std::string_view origin_username, origin_session_id, origin_version, origin_address;
    std::string_view session_name;
    std::string_view connection_address;  ///< session-level c=
    std::string_view connection_info;     ///< the whole session-level c= value
    static constexpr size_t kMaxMedia = 8;
    std::array<SdpMedia, kMaxMedia> media{};
    size_t media_count = 0;
    std::string_view body;  ///< the SDP text (a multipart part's body when multipart)
};
/// Parses an SDP body. Unknown lines are skipped; false when it is not SDP at all.
bool parseSdp(std::string_view body, Sdp& out) noexcept;

/// Why a message did not parse (parse-error events carry the name).
enum class ParseError : uint8_t {
    None,
    Empty,
    BadFirstLine,
    BadRequestUri,
    BadVersion,
    BadStatusCode,
    BadHeaderLine,
    TooManyHeaders,
    NoHeaderEnd,  ///< no empty line ending the headers
    BadContentLength,
    TruncatedBody,  ///< Content-Length larger than the data (stream transports)
    MissingCallId,
    MissingCSeq,
    BadCSeq,
    MissingFrom,
    MissingTo,
    Count
};
std::string_view parseErrorName(ParseError e) noexcept;  ///< e.g. "missing Call-ID"

enum class ParseStatus : uint8_t { Ok, Malformed };

/// Options of one parse.
struct ParseOptions {
    /// Datagram semantics (RFC 3261 §18.3): a missing Content-Length means the rest of the
    /// datagram; a body shorter than Content-Length is kept truncated, not an error.
    bool datagram = true;
    /// Require Call-ID, CSeq, From, To and Via (RFC 3261 §8.1.1) — false only in tests.
    bool require_mandatory = true;
};

/// A parsed SIP message: views into the caller's buffer (which must outlive it), headers
/// indexed once. No allocation: headers are kept in a fixed array.
class Message {
public:
    static constexpr size_t kMaxHeaders = 128;

    bool isRequest() const noexcept { return is_request_; }
    Method method() const noexcept { return method_; }  ///< requests
    std::string_view methodName() const noexcept { return method_name_; }
    std::string_view requestUri() const noexcept { return request_uri_; }
    int statusCode() const noexcept { return status_code_; }  ///< responses
    std::string_view reason() const noexcept { return reason_; }
    std::string_view version() const noexcept { return version_; }  ///< "2.0"

    std::span<const Header> headers() const noexcept { return {headers_.data(), header_count_}; }
    /// First header of that type, or nullptr.
    const Header* first(HeaderType type) const noexcept;

    std::string_view callId() const noexcept { return call_id_; }
    const CSeq& cseq() const noexcept { return cseq_; }
    int64_t contentLength() const noexcept { return content_length_; }  ///< -1 if absent
    std::string_view body() const noexcept { return body_; }
    std::string_view raw() const noexcept { return raw_; }  ///< first line .. end of body
    /// Bytes after the message in the same datagram (counted by the caller).
    size_t trailingBytes() const noexcept { return trailing_; }

    bool from(NameAddr& out) const noexcept;
    bool to(NameAddr& out) const noexcept;
    /// All Contact values over all Contact headers, in order; returns how many (≤ max).
    size_t contacts(std::span<Contact> out) const noexcept;
    /// All Via values over all Via headers, in order; returns how many (≤ max).
    size_t vias(std::span<Via> out) const noexcept;
    int64_t maxForwards() const noexcept;  ///< -1 if absent or bad
    int64_t expires() const noexcept;      ///< Expires header, -1 if absent or bad
    /// Authorization, else Proxy-Authorization.
    bool credentials(Credentials& out) const noexcept;
    /// WWW-Authenticate, else Proxy-Authenticate.
    bool challenge(Challenge& out) const noexcept;
    /// SDP of the body: application/sdp, or the application/sdp part of a multipart body.
    bool sdp(Sdp& out) const noexcept;

    /// For parse errors: how many bytes parsed fine before the error.
    size_t errorOffset() const noexcept { return error_offset_; }

    void clear() noexcept;

private:
    friend ParseStatus parse(std::string_view, Message&, ParseError*, const ParseOptions&) noexcept;

    bool is_request_ = false;
    Method method_ = Method::Other;
    std::string_view method_name_, request_uri_, reason_, version_;
    int status_code_ = 0;
    std::array<Header, kMaxHeaders> headers_{};
    size_t header_count_ = 0;
    std::string_view call_id_;
    CSeq cseq_;
    int64_t content_length_ = -1;
    std::string_view body_, raw_;
    size_t trailing_ = 0;
    size_t error_offset_ = 0;
};

/// Parses one message from `bytes`. On Malformed, `error` says why and `out` holds what was
/// parsed (its Call-ID when the header was reached). Never throws, never reads past
/// `bytes`, never allocates.
ParseStatus parse(std::string_view bytes, Message& out, ParseError* error = nullptr,
                  const ParseOptions& options = {}) noexcept;

}  // namespace sipbeat::sip
