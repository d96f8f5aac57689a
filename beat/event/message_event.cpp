// SPDX-License-Identifier: Apache-2.0
#include "beat/event/message_event.h"

#include <array>
#include <cstring>
#include <memory>

#include <openssl/evp.h>

#include "beat/event/builder_util.h"
#include "field_names.h"

namespace sipbeat::event {

namespace {

using namespace fields;  // NOLINT(google-build-using-namespace): field names read better
using detail::addIp;
using detail::addRelatedUnique;
using detail::scratch;

void addRelatedIp(Document& doc, const decode::IpAddress& ip) {
    std::string& s = scratch();
    ip.appendText(s);
    doc.appendToList(kRelatedIp, s);
}

void setNetwork(const decode::SipPayload& p, Document& doc) {
    addIp(doc, kSourceIp, p.src);
    doc.addInt(kSourcePort, p.src_port);
    addIp(doc, kDestinationIp, p.dst);
    doc.addInt(kDestinationPort, p.dst_port);
    // Packetbeat copies source/destination to client/server for every SIP message.
    addIp(doc, kClientIp, p.src);
    doc.addInt(kClientPort, p.src_port);
    addIp(doc, kServerIp, p.dst);
    doc.addInt(kServerPort, p.dst_port);
    doc.addString(kNetworkTransport, decode::transportName(p.transport));
    doc.addString(kNetworkType, p.src.family == 6 ? "ipv6" : "ipv4");
    const uint8_t iana = decode::ianaNumber(p.transport);
    // Packetbeat writes the number as a string, and always "17"; ours follows the transport.
    doc.addString(kNetworkIanaNumber, iana == 17 ? "17" : iana == 6 ? "6" : "132");
    std::string& s = scratch();
    appendCommunityId(s, p.src, p.src_port, p.dst, p.dst_port, iana);
    doc.addString(kNetworkCommunityId, s);
    addRelatedIp(doc, p.src);
    if (!(p.dst == p.src)) {
        addRelatedIp(doc, p.dst);
    }
    doc.addString(kSipbeatVia, p.via_hep ? "hep" : "wire");
    if (p.via_hep) {
        doc.addUint(kSipbeatHepCaptureId, p.hep_capture_id);
    }
}

void setUri(Document& doc, std::string_view prefix, const sip::Uri& uri) {
    thread_local std::string key;
    auto k = [&](std::string_view leaf) -> std::string_view {
        key.assign(prefix);
        key.append(leaf);
        return key;
    };
    doc.addString(k(".original"), uri.original, true);
    if (!uri.scheme.empty()) {
        doc.addString(k(".scheme"), uri.scheme, true);
    }
    // Packetbeat leaves the user out when it is "-" (anonymous) or blank.
    if (!uri.user.empty() && uri.user != "-" && uri.user != " ") {
        doc.addString(k(".username"), uri.user, true);
        addRelatedUnique(doc, kRelatedUser, uri.user);
    }
    if (!uri.host.empty()) {
        doc.addString(k(".host"), uri.host, true);
        addRelatedUnique(doc, kRelatedHosts, uri.host);
    }
    if (uri.has_port) {
        doc.setInt(k(".port"), uri.port);  // copies the key
    }
}

void setNameAddr(Document& doc, std::string_view prefix, const sip::NameAddr& na) {
    thread_local std::string key;
    if (!na.display.empty()) {
        key.assign(prefix).append(".display_info");
        doc.addString(key, na.display, true);
    }
    if (!na.tag.empty()) {
        key.assign(prefix).append(".tag");
        doc.addString(key, na.tag, true);
    }
    key.assign(prefix).append(".uri");
    setUri(doc, key, na.uri);
}

void setSdp(const sip::Sdp& sdp, Document& doc) {
    const auto addIfSet = [&](std::string_view key, std::string_view value) {
        if (!value.empty()) {
            doc.addString(key, value);
        }
    };
    addIfSet(kSipSdpVersion, sdp.version);
    addIfSet(kSipSdpOwnerUsername, sdp.origin_username);
    addRelatedUnique(doc, kRelatedUser, sdp.origin_username);
    addIfSet(kSipSdpOwnerSessionId, sdp.origin_session_id);
    addIfSet(kSipSdpOwnerVersion, sdp.origin_version);
    addIfSet(kSipSdpOwnerIp, sdp.origin_address);
    addRelatedUnique(doc, kRelatedIp, sdp.origin_address);
    addIfSet(kSipSdpSessionName, sdp.session_name);
    addIfSet(kSipSdpConnectionInfo, sdp.connection_info);
    addIfSet(kSipSdpConnectionAddress, sdp.connection_address);
    addRelatedUnique(doc, kRelatedHosts, sdp.connection_address);
    // One value per m= line in each list: Elasticsearch flattens arrays of objects into
    // per-field arrays anyway, so parallel arrays index the same.
    for (size_t i = 0; i < sdp.media_count; ++i) {
        const sip::SdpMedia& m = sdp.media[i];
        doc.appendToList(kSipSdpMediaType, m.media);
        doc.appendToIntList(kSipSdpMediaPort, m.port);
        doc.appendToList(kSipSdpMediaProtocol, m.protocol);
        doc.appendToList(kSipSdpMediaFormats, m.formats);
        if (!m.connection_address.empty()) {
            doc.appendToList(kSipSdpMediaConnectionAddress, m.connection_address);
        }
        if (!m.direction.empty()) {
            doc.appendToList(kSipSdpMediaDirection, m.direction);
        }
        for (size_t c = 0; c < m.codec_count; ++c) {
            doc.appendToList(kSipSdpMediaCodecs, m.codecs[c]);
        }
    }
    doc.addString(kSipSdpBodyOriginal, sdp.body);
}

void appendTimestampNs(std::string& out, core::TimestampNs t) {
    core::appendRfc3339(out, t, core::Precision::Nanosecond);
}

}  // namespace

bool isProbe(std::string_view bytes) noexcept {
    if (bytes.size() <= 12) {
        return true;
    }
    const char c = bytes[0];
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
}

void appendCommunityId(std::string& out, const decode::IpAddress& src, uint16_t src_port,
                       const decode::IpAddress& dst, uint16_t dst_port, uint8_t proto) {
    // Community ID v1: sha1(seed | lower endpoint ip | other ip | proto | 0 | ports), the
    // endpoint order fixed by (ip, port) so both directions give the same ID.
    const size_t len = src.family == 6 ? 16 : 4;
    const int cmp = std::memcmp(src.bytes.data(), dst.bytes.data(), len);
    const bool swap = cmp > 0 || (cmp == 0 && src_port > dst_port);
    const decode::IpAddress& a = swap ? dst : src;
    const decode::IpAddress& b = swap ? src : dst;
    const uint16_t pa = swap ? dst_port : src_port;
    const uint16_t pb = swap ? src_port : dst_port;
    std::array<uint8_t, 2 + 16 + 16 + 2 + 2 + 2> buf{};
    size_t n = 0;
    buf[n++] = 0;  // seed, big-endian 16 bits
    buf[n++] = 0;
    std::memcpy(buf.data() + n, a.bytes.data(), len);
    n += len;
    std::memcpy(buf.data() + n, b.bytes.data(), len);
    n += len;
    buf[n++] = proto;
    buf[n++] = 0;
    buf[n++] = static_cast<uint8_t>(pa >> 8);
    buf[n++] = static_cast<uint8_t>(pa & 0xff);
    buf[n++] = static_cast<uint8_t>(pb >> 8);
    buf[n++] = static_cast<uint8_t>(pb & 0xff);
    // OpenSSL 3 looks the algorithm up on every EVP_Digest(EVP_sha1()); fetch it once and
    // reuse one context per thread (this runs for every message event).
    static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                             &EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestInit_ex2(ctx.get(), sha1, nullptr);
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    EVP_DigestFinal_ex(ctx.get(), digest, &dlen);
    unsigned char b64[64];
    const int blen = EVP_EncodeBlock(b64, digest, static_cast<int>(dlen));
    out.append("1:");
    out.append(reinterpret_cast<const char*>(b64), static_cast<size_t>(blen));
}

void buildMessageEvent(const decode::SipPayload& p, const sip::Message& msg,
                       const MessageEventOptions& options, Document& doc) {
    doc.clear();
    doc.timestamp = p.timestamp;
    doc.addString(kType, "sip");
    const bool request = msg.isRequest();
    const int code = msg.statusCode();
    doc.addString(kStatus, !request && code >= 400 ? "Error" : "OK");
    setNetwork(p, doc);
    doc.addString(kNetworkProtocol, "sip");
    doc.addString(kNetworkApplication, "sip");

    // event.*
    doc.addString(kEventKind, "event");
    sip::Credentials cred;
    const bool has_auth = options.parse_authorization && msg.credentials(cred);
    doc.appendToList(kEventCategory, "network");
    if (msg.first(sip::HeaderType::Authorization) != nullptr ||
        msg.first(sip::HeaderType::ProxyAuthorization) != nullptr) {
        doc.appendToList(kEventCategory, "authentication");
    }
    doc.appendToList(kEventType, "info");
    doc.appendToList(kEventType, "protocol");
    doc.addString(kEventDataset, "sip");
    doc.addString(kEventModule, "sip");
    {
        std::string& s = scratch();
        s.append("sip-");
        const std::string_view method = request ? msg.methodName() : msg.cseq().method;
        for (char c : method) {
            s.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        }
        doc.addString(kEventAction, s);
    }
    doc.addUint(kEventSequence, msg.cseq().number);
    {
        std::string& s = scratch();
        core::appendRfc3339(s, p.timestamp, core::Precision::Nanosecond);
        doc.addString(kEventStart, s);
        doc.addString(kEventEnd, s);
    }
    doc.addInt(kEventDuration, 0);
    if (!request) {
        if (code >= 200 && code < 300) {
            doc.addString(kEventOutcome, "success");
        } else if (code >= 300) {
            doc.addString(kEventOutcome, "failure");
        }
        if (!msg.reason().empty()) {
            doc.addString(kEventReason, msg.reason());
        }
    }
    if (options.keep_original) {
        doc.addString(kEventOriginal, msg.raw());
    }

    // sip.*
    {
        std::string& s = scratch();
        appendTimestampNs(s, p.timestamp);
        doc.addString(kSipTimestamp, s);
    }
    doc.addString(kSipType, request ? "request" : "response");
    if (request) {
        doc.addString(kSipMethod, msg.methodName());
        sip::Uri ruri;
        if (sip::parseUri(msg.requestUri(), ruri)) {
            setUri(doc, "sip.uri", ruri);
        } else {
            doc.addString(kSipUriOriginal, msg.requestUri());
        }
        doc.addString(kUrlOriginal, msg.requestUri());
    } else {
        doc.addInt(kSipCode, code);
        doc.addString(kSipStatus, msg.reason());
    }
    doc.addString(kSipVersion, msg.version());
    doc.addString(kSipCallId, msg.callId());
    doc.addUint(kSipCseqCode, msg.cseq().number);
    doc.addString(kSipCseqMethod, msg.cseq().method);
    if (const int64_t mf = msg.maxForwards(); mf >= 0) {
        doc.addInt(kSipMaxForwards, mf);
    }
    if (msg.contentLength() >= 0) {
        doc.addInt(kSipContentLength, msg.contentLength());
    }
    for (const sip::Header& h : msg.headers()) {
        switch (h.type) {
            case sip::HeaderType::ContentType:
                doc.setStringLower(kSipContentType, h.value);
                break;
            case sip::HeaderType::UserAgent:
                if (doc.get(kSipUserAgentOriginal) == nullptr) {  // the first one
                    doc.addString(kSipUserAgentOriginal, h.value);
                    doc.addString(kUserAgentOriginal, h.value);
                }
                break;
            case sip::HeaderType::Accept:
                if (doc.get(kSipAccept) == nullptr) {
                    doc.setStringLower(kSipAccept, h.value);
                }
                break;
            case sip::HeaderType::Allow:
            case sip::HeaderType::Supported: {
                const std::string_view key =
                    h.type == sip::HeaderType::Allow ? kSipAllow : kSipSupported;
                std::string_view rest = h.value;
                while (!rest.empty()) {
                    const size_t comma = rest.find(',');
                    std::string_view item = rest.substr(0, comma);
                    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                        item.remove_prefix(1);
                    }
                    while (!item.empty() && (item.back() == ' ' || item.back() == '\t' ||
                                             item.back() == '\r' || item.back() == '\n')) {
                        item.remove_suffix(1);
                    }
                    if (!item.empty()) {
                        doc.appendToListLower(key, item);
                    }
                    rest = comma == std::string_view::npos ? std::string_view{}
                                                           : rest.substr(comma + 1);
                }
                break;
            }
            case sip::HeaderType::PAssociatedUri:
                if (doc.get(kSipPrivateUriOriginal) == nullptr) {
                    // Packetbeat parses it with the angle brackets; a name-addr is meant.
                    sip::NameAddr na;
                    if (sip::parseNameAddr(h.value, na)) {
                        setUri(doc, "sip.private.uri", na.uri);
                    }
                }
                break;
            default:
                break;
        }
    }
    std::array<sip::Via, 16> vias;
    const size_t nvia = msg.vias(vias);
    for (size_t i = 0; i < nvia; ++i) {
        doc.appendToList(kSipViaOriginal, vias[i].original);
    }
    sip::NameAddr na;
    if (msg.from(na)) {
        setNameAddr(doc, "sip.from", na);
    }
    if (msg.to(na)) {
        setNameAddr(doc, "sip.to", na);
    }
    std::array<sip::Contact, 1> contact;
    if (msg.contacts(contact) > 0) {
        const sip::Contact& c = contact[0];
        if (c.star) {
            doc.addString(kSipContactUriOriginal, "*");
        } else {
            setNameAddr(doc, "sip.contact", c.addr);
            std::string_view v;
            if (c.addr.uri.param("transport", v) && !v.empty()) {
                doc.setStringLower(kSipContactTransport, v);
            }
            if (c.addr.uri.param("line", v) && !v.empty()) {
                doc.addString(kSipContactLine, v);
            }
        }
        if (c.expires >= 0) {
            doc.addInt(kSipContactExpires, c.expires);
        }
        if (c.q >= 0) {
            doc.setDouble(kSipContactQ, c.q);
        }
    }
    if (has_auth) {
        doc.addString(kSipAuthScheme, cred.scheme);
        if (!cred.realm.empty()) {
            doc.addString(kSipAuthRealm, cred.realm);
        }
        sip::Uri auri;
        if (!cred.uri.empty() && sip::parseUri(cred.uri, auri)) {
            doc.addString(kSipAuthUriOriginal, auri.original);
            if (!auri.scheme.empty()) {
                doc.addString(kSipAuthUriScheme, auri.scheme);
            }
            if (!auri.host.empty()) {
                doc.addString(kSipAuthUriHost, auri.host);
            }
            if (auri.has_port) {
                doc.addInt(kSipAuthUriPort, auri.port);
            }
        }
        if (!cred.username.empty()) {
            doc.addString(kUserName, cred.username);
            addRelatedUnique(doc, kRelatedUser, cred.username);
        }
    }
    sip::Sdp sdp;
    if (options.parse_body && msg.sdp(sdp)) {
        setSdp(sdp, doc);
    }
}

void buildProbeEvent(const decode::SipPayload& p, Document& doc) {
    doc.clear();
    doc.timestamp = p.timestamp;
    doc.addString(kType, "msg-probe");
    doc.addString(kSipCallId, "");
    setNetwork(p, doc);
    doc.addString(kClientTransport, decode::transportName(p.transport));
    doc.addString(kNetworkProtocol, "sip");
    doc.addString(kEventKind, "event");
    doc.appendToList(kEventCategory, "network");
    doc.appendToList(kEventType, "info");
    doc.addString(kEventAction, "msg-probe");
    doc.addString(kEventModule, "sip");
    doc.addString(kEventDataset, "sip.calls");
}

void buildParseErrorEvent(const decode::SipPayload& p, const sip::Message& partial,
                          sip::ParseError error, Document& doc) {
    doc.clear();
    doc.timestamp = p.timestamp;
    doc.addString(kType, "parse-error");
    doc.addString(kSipCallId, partial.callId());
    setNetwork(p, doc);
    doc.addString(kClientTransport, decode::transportName(p.transport));
    doc.addString(kNetworkProtocol, "sip");
    doc.addString(kEventKind, "event");
    doc.appendToList(kEventCategory, "network");
    doc.appendToList(kEventType, "error");
    doc.addString(kEventAction, "parse-error");
    doc.addString(kEventModule, "sip");
    doc.addString(kEventDataset, "sip.calls");
    doc.addString(kEventOutcome, "failure");
    doc.addString(kEventReason, sip::parseErrorName(error));
    // sipcmbeat: the first min(60, parsed-OK offset) bytes, or the reason when nothing
    // parsed (e.g. "missing Content-Length").
    const size_t n = std::min<size_t>(60, std::min(partial.errorOffset(), p.bytes.size()));
    if (n > 0) {
        doc.addString(kErrInfo, p.bytes.substr(0, n));
    } else {
        doc.addString(kErrInfo, sip::parseErrorName(error));
    }
}

}  // namespace sipbeat::event
