// SPDX-License-Identifier: Apache-2.0
// HEP v1/v2/v3 decoding (reference/hep.md §1). Everything is a view into the input.
#include "beat/decode/hep.h"

#include <cstring>

#include "beat/decode/bytes.h"

namespace sipbeat::decode {

namespace {

using detail::be16;
using detail::be32;
using detail::le16;
using detail::le32;

constexpr uint8_t kHep3Magic[4] = {'H', 'E', 'P', '3'};
constexpr uint8_t kAfInet = 2;
constexpr uint8_t kAfInet6 = 10;

bool isHep3(std::span<const uint8_t> d) noexcept {
    return d.size() >= 4 && std::memcmp(d.data(), kHep3Magic, 4) == 0;
}

core::TimestampNs timeOf(uint32_t sec, uint32_t usec) noexcept {
    // uint32 seconds * 1e9 plus uint32 microseconds * 1e3 stays below 2^63.
    return static_cast<int64_t>(sec) * core::kNsPerSecond + static_cast<int64_t>(usec) * 1000;
}

// HEPv1/v2: fixed header (hep.md §1.2). v2 follows Kamailio: a 12-byte time block in host
// (little-endian) order and hp_l ignored, as Kamailio's own receiver does.
bool decodeLegacy(std::span<const uint8_t> d, HepPacket& out, Anomaly& error) noexcept {
    if (d.size() < 4) {
        error = Anomaly::TruncatedHep;
        return false;
    }
    const uint8_t version = d[0];
    const uint8_t family = d[2];
    size_t alen = 0;
    if (family == kAfInet) {
        alen = 4;
    } else if (family == kAfInet6) {
        alen = 16;
    } else {
        // Not an address family a sender writes: the header is not HEPv1/v2.
        error = Anomaly::BadHepVersion;
        return false;
    }
    const size_t header = 8 + 2 * alen + (version == 2 ? 12 : 0);
    if (d.size() < header) {
        error = Anomaly::TruncatedHep;
        return false;
    }
    out.version = version;
    out.ip_protocol = d[3];
    out.proto_type = 1;  // v1/v2 carry SIP only
    out.src_port = be16(d.data() + 4);
    out.dst_port = be16(d.data() + 6);
    if (alen == 4) {
        out.src = IpAddress::v4(d.data() + 8);
        out.dst = IpAddress::v4(d.data() + 12);
    } else {
        out.src = IpAddress::v6(d.data() + 8);
        out.dst = IpAddress::v6(d.data() + 24);
    }
    if (version == 2) {
        const uint8_t* t = d.data() + 8 + 2 * alen;
        out.timestamp = timeOf(le32(t), le32(t + 4));
        out.capture_id = le16(t + 8);
    }
    if (d.size() == header) {
        error = Anomaly::HepMissingPayload;
        return false;
    }
    out.payload = detail::asText(d.subspan(header));
    return true;
}

bool decodeV3(std::span<const uint8_t> d, HepPacket& out, Anomaly& error) noexcept {
    if (d.size() < 6) {
        error = Anomaly::TruncatedHep;
        return false;
    }
    const size_t total = be16(d.data() + 4);
    if (total < 6) {
        error = Anomaly::BadHepLength;
        return false;
    }
    if (total > d.size()) {
        error = Anomaly::TruncatedHep;
        return false;
    }
    // Bytes after `total` in a datagram are ignored (heplify-server would refuse them; being
    // lenient loses nothing since the packet itself is complete).
    d = d.first(total);
    out.version = 3;
    uint8_t family = 0;
    IpAddress src4;
    IpAddress dst4;
    IpAddress src6;
    IpAddress dst6;
    bool have_payload = false;
    bool have_compressed = false;
    bool have_time = false;
    uint32_t seconds = 0;
    uint32_t micros = 0;
    size_t off = 6;
    // Each chunk is at least 6 bytes long, so the loop runs at most total / 6 times.
    while (off < total) {
        if (total - off < 6) {
            error = Anomaly::TruncatedHep;
            return false;
        }
        const uint8_t* c = d.data() + off;
        const uint16_t vendor = be16(c);
        const uint16_t type = be16(c + 2);
        const size_t len = be16(c + 4);
        if (len < 6) {
            error = Anomaly::BadHepChunk;
            return false;
        }
        if (len > total - off) {
            error = Anomaly::TruncatedHep;
            return false;
        }
        off += len;
        const uint8_t* v = c + 6;
        const size_t vlen = len - 6;
        if (vendor != 0) {
            continue;  // private chunks are skipped by length (hep.md §1.6)
        }
        // Fixed-size chunks of the wrong size are refused, as OpenSIPS and heplify-server do.
        size_t want = 0;
        switch (type) {
            case 0x0001:
            case 0x0002:
            case 0x000b:
                want = 1;
                break;
            case 0x0003:
            case 0x0004:
            case 0x0009:
            case 0x000a:
            case 0x000c:
                want = 4;
                break;
            case 0x0005:
            case 0x0006:
                want = 16;
                break;
            case 0x0007:
            case 0x0008:
            case 0x000d:
            case 0x0012:
                want = 2;
                break;
            default:
                break;
        }
        if (want != 0 && vlen != want) {
            error = Anomaly::BadHepChunk;
            return false;
        }
        const std::string_view text(reinterpret_cast<const char*>(v), vlen);
        switch (type) {
            case 0x0001:
                family = v[0];
                break;
            case 0x0002:
                out.ip_protocol = v[0];
                break;
            case 0x0003:
                src4 = IpAddress::v4(v);
                break;
            case 0x0004:
                dst4 = IpAddress::v4(v);
                break;
            case 0x0005:
                src6 = IpAddress::v6(v);
                break;
            case 0x0006:
                dst6 = IpAddress::v6(v);
                break;
            case 0x0007:
                out.src_port = be16(v);
                break;
            case 0x0008:
                out.dst_port = be16(v);
                break;
            case 0x0009:
                seconds = be32(v);
                have_time = true;
                break;
            case 0x000a:
                micros = be32(v);
                break;
            case 0x000b:
                out.proto_type = v[0];
                break;
            case 0x000c:
                out.capture_id = be32(v);
                break;
            case 0x000e:
                out.password = text;
                break;
            case 0x000f:
                out.payload = text;
                have_payload = true;
                break;
            case 0x0010:
                have_compressed = true;
                break;
            case 0x0011:
                out.correlation_id = text;
                break;
            case 0x0012:
                out.vlan = be16(v);
                break;
            case 0x0013:
                out.node_name = text;
                break;
            default:
                break;
        }
    }
    if (have_time) {
        out.timestamp = timeOf(seconds, micros);
    }
    const bool want6 = family == kAfInet6;
    out.src = (want6 && src6.family != 0) || src4.family == 0 ? src6 : src4;
    out.dst = (want6 && dst6.family != 0) || dst4.family == 0 ? dst6 : dst4;
    if (!have_payload) {
        // 0x0010 (gzip/deflate, OpenSIPS only) is not inflated: that would be an unbounded
        // allocation on the hot path for a format almost nobody sends (hep.md §0.4).
        error = have_compressed ? Anomaly::HepCompressedPayload : Anomaly::HepMissingPayload;
        return false;
    }
    return true;
}

}  // namespace

bool looksLikeHep(std::span<const uint8_t> data) noexcept {
    if (isHep3(data)) {
        return true;
    }
    // v1/v2: version byte, then hp_l (unreliable), then the address family (hep.md §1.1).
    return data.size() >= 4 && (data[0] == 1 || data[0] == 2) &&
           (data[2] == kAfInet || data[2] == kAfInet6);
}

bool decodeHep(std::span<const uint8_t> data, HepPacket& out, Anomaly& error) noexcept {
    out = HepPacket{};
    if (isHep3(data)) {
        return decodeV3(data, out, error);
    }
    if (!data.empty() && (data[0] == 1 || data[0] == 2)) {
        return decodeLegacy(data, out, error);
    }
    error = data.size() < 4 ? Anomaly::TruncatedHep : Anomaly::BadHepVersion;
    return false;
}

int64_t hepFrameLength(std::span<const uint8_t> buffer) noexcept {
    if (buffer.empty()) {
        return 0;
    }
    const size_t n = buffer.size() < 4 ? buffer.size() : 4;
    if (std::memcmp(buffer.data(), kHep3Magic, n) != 0) {
        return -1;
    }
    if (buffer.size() < 6) {
        return 0;
    }
    const uint16_t len = be16(buffer.data() + 4);
    if (len < 6) {
        return -1;
    }
    return len > buffer.size() ? 0 : static_cast<int64_t>(len);
}

SipPayload toSipPayload(const HepPacket& hep, core::TimestampNs fallback_ts) noexcept {
    SipPayload p;
    p.timestamp = hep.timestamp != 0 ? hep.timestamp : fallback_ts;
    p.src = hep.src;
    p.dst = hep.dst;
    p.src_port = hep.src_port;
    p.dst_port = hep.dst_port;
    switch (hep.ip_protocol) {
        case 6:
            p.transport = Transport::Tcp;
            break;
        case 132:
            p.transport = Transport::Sctp;
            break;
        case 22:
            // Kamailio's stand-in for TLS, WS and WSS alike (hep.md §1.2); TLS is the
            // common case and the one whose events matter most (encrypted on the wire).
            p.transport = Transport::Tls;
            break;
        default:
            p.transport = Transport::Udp;
            break;
    }
    p.via_hep = true;
    p.hep_capture_id = hep.capture_id;
    p.vlan = hep.vlan;
    p.bytes = hep.payload;
    return p;
}

}  // namespace sipbeat::decode
