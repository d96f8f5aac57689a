// SPDX-License-Identifier: Apache-2.0
// Byte builders for decoder tests: each returns the bytes of one header plus its payload, so
// a test reads as the stack it builds: ethernet(ipv4(udp(...))).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "beat/capture/packet.h"
#include "beat/decode/decoder.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::decode::test {

using Bytes = std::vector<uint8_t>;
using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;

inline constexpr V4 kA4{10, 0, 0, 1};
inline constexpr V4 kB4{10, 0, 0, 2};
inline constexpr V6 kA6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline constexpr V6 kB6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/// Appends big-endian integers and raw bytes.
class Builder {
public:
    Builder& u8(unsigned v) {
        b_.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    Builder& u16(unsigned v) { return u8(v >> 8).u8(v & 0xff); }
    Builder& u32(uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
    Builder& bytes(const Bytes& v) {
        b_.insert(b_.end(), v.begin(), v.end());
        return *this;
    }
    template <size_t N>
    Builder& bytes(const std::array<uint8_t, N>& v) {
        b_.insert(b_.end(), v.begin(), v.end());
        return *this;
    }
    Builder& str(std::string_view s) {
        b_.insert(b_.end(), s.begin(), s.end());
        return *this;
    }
    Builder& zeros(size_t n) {
        b_.insert(b_.end(), n, 0);
        return *this;
    }
    Bytes take() { return std::move(b_); }

private:
    Bytes b_;
};

inline Bytes toBytes(std::string_view s) {
    return Bytes(s.begin(), s.end());
}
inline std::string toString(const Bytes& b) {
    return std::string(b.begin(), b.end());
}
inline Bytes hex(std::string_view h) {
    Bytes out;
    int hi = -1;
    for (char c : h) {
        int v = -1;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        }
        if (v < 0) {
            continue;  // spaces and separators
        }
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}
inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

/// Ethernet II with optional VLAN tags (outermost first) of type `tag_type`.
inline Bytes ethernet(uint16_t type, const Bytes& payload, std::vector<uint16_t> vlans = {},
                      uint16_t tag_type = 0x8100) {
    Builder b;
    b.bytes(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 2})
        .bytes(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1});
    for (size_t i = 0; i < vlans.size(); ++i) {
        b.u16(i == 0 ? tag_type : 0x8100).u16(vlans[i]);
    }
    return b.u16(type).bytes(payload).take();
}

struct Ipv4Options {
    uint16_t id = 1;
    uint16_t frag = 0;  ///< flags (0x2000 = MF) | offset in 8-byte units
    int total = -1;     ///< total length override
    uint8_t version_ihl = 0x45;
    Bytes options;  ///< appended after the 20-byte header (set version_ihl to match)
};

inline Bytes ipv4(uint8_t proto, const Bytes& payload, const Ipv4Options& o = {}, V4 src = kA4,
                  V4 dst = kB4) {
    const size_t hl = 20 + o.options.size();
    const unsigned total =
        o.total >= 0 ? static_cast<unsigned>(o.total) : static_cast<unsigned>(hl + payload.size());
    return Builder()
        .u8(o.version_ihl)
        .u8(0)
        .u16(total)
        .u16(o.id)
        .u16(o.frag)
        .u8(64)
        .u8(proto)
        .u16(0)
        .bytes(src)
        .bytes(dst)
        .bytes(o.options)
        .bytes(payload)
        .take();
}

/// IPv6 with `next` as the first next-header value; `payload` holds any extension headers.
inline Bytes ipv6(uint8_t next, const Bytes& payload, V6 src = kA6, V6 dst = kB6, int plen = -1) {
    return Builder()
        .u32(0x60000000)
        .u16(plen >= 0 ? static_cast<unsigned>(plen) : static_cast<unsigned>(payload.size()))
        .u8(next)
        .u8(64)
        .bytes(src)
        .bytes(dst)
        .bytes(payload)
        .take();
}

/// An 8-byte IPv6 extension header (hop-by-hop, destination options ...) with padding.
inline Bytes ipv6Ext(uint8_t next, const Bytes& rest) {
    Builder b;
    b.u8(next).u8(0).zeros(6);
    Bytes out = b.take();
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

inline Bytes ipv6Frag(uint8_t next, uint32_t offset, bool more, uint32_t id, const Bytes& data) {
    return Builder()
        .u8(next)
        .u8(0)
        .u16((offset / 8) << 3 | (more ? 1U : 0U))
        .u32(id)
        .bytes(data)
        .take();
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload, int len = -1) {
    return Builder()
        .u16(sport)
        .u16(dport)
        .u16(len >= 0 ? static_cast<unsigned>(len) : static_cast<unsigned>(8 + payload.size()))
        .u16(0)
        .bytes(payload)
        .take();
}
inline Bytes udp(uint16_t sport, uint16_t dport, std::string_view payload) {
    return udp(sport, dport, toBytes(payload));
}

inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kAck = 0x10;

inline Bytes tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                 std::string_view payload, uint8_t data_offset_words = 5) {
    Builder b;
    b.u16(sport).u16(dport).u32(seq).u32(0).u8(static_cast<unsigned>(data_offset_words) << 4);
    b.u8(flags).u16(65535).u16(0).u16(0);
    if (data_offset_words > 5) {
        b.zeros((data_offset_words - 5) * 4U);
    }
    return b.str(payload).take();
}

/// One SCTP packet with the given chunks (see sctpData).
inline Bytes sctp(uint16_t sport, uint16_t dport, const Bytes& chunks) {
    return Builder().u16(sport).u16(dport).u32(0x1234).u32(0).bytes(chunks).take();
}
/// A DATA chunk (RFC 9260 §3.3.1), padded to 4 bytes; flags 0x03 = B|E (unfragmented).
inline Bytes sctpData(std::string_view data, uint8_t flags = 0x03, uint32_t tsn = 1) {
    Bytes out = Builder()
                    .u8(0)
                    .u8(flags)
                    .u16(static_cast<unsigned>(16 + data.size()))
                    .u32(tsn)
                    .u16(0)
                    .u16(0)
                    .u32(0)
                    .str(data)
                    .take();
    while (out.size() % 4 != 0) {
        out.push_back(0);
    }
    return out;
}

inline Bytes gre(uint16_t proto, const Bytes& payload, uint16_t flags = 0) {
    Builder b;
    b.u16(flags).u16(proto);
    if ((flags & 0x8000) != 0) {
        b.u32(0);
    }
    if ((flags & 0x2000) != 0) {
        b.u32(0xabcd);
    }
    if ((flags & 0x1000) != 0) {
        b.u32(7);
    }
    return b.bytes(payload).take();
}

inline Bytes vxlan(uint32_t vni, const Bytes& inner, uint8_t flags = 0x08) {
    return Builder().u8(flags).zeros(3).u32(vni << 8).bytes(inner).take();
}

/// One HEPv3 chunk (vendor 0).
inline Bytes hepChunk(uint16_t type, const Bytes& value, uint16_t vendor = 0) {
    return Builder()
        .u16(vendor)
        .u16(type)
        .u16(static_cast<unsigned>(6 + value.size()))
        .bytes(value)
        .take();
}
inline Bytes hep3(const Bytes& chunks) {
    return Builder().str("HEP3").u16(static_cast<unsigned>(6 + chunks.size())).bytes(chunks).take();
}
/// A complete HEPv3 SIP packet as Kamailio sends it (hep.md §1.3).
inline Bytes hep3Sip(std::string_view sip, std::string_view password = {},
                     uint32_t capture_id = 2001, uint8_t ip_proto = 17) {
    Bytes chunks = cat({
        hepChunk(1, {2}),
        hepChunk(2, {ip_proto}),
        hepChunk(3, {192, 168, 1, 1}),
        hepChunk(4, {192, 168, 1, 2}),
        hepChunk(7, {0x13, 0xc4}),
        hepChunk(8, {0x13, 0xc5}),
        hepChunk(9, {0x5f, 0x5e, 0x10, 0x00}),
        hepChunk(10, {0x00, 0x00, 0x00, 0x07}),
        hepChunk(11, {1}),
        hepChunk(12, Builder().u32(capture_id).take()),
    });
    if (!password.empty()) {
        chunks = cat({chunks, hepChunk(14, toBytes(password))});
    }
    return hep3(cat({chunks, hepChunk(15, toBytes(sip))}));
}

/// One SipPayload, with its bytes copied.
struct Got {
    core::TimestampNs timestamp = 0;
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    Transport transport = Transport::Udp;
    bool via_hep = false;
    uint32_t hep_capture_id = 0;
    uint16_t vlan = 0;
    std::string bytes;
};

class CollectingSink final : public SipSink {
public:
    void onPayload(const SipPayload& p) override {
        got.push_back({p.timestamp, p.src, p.dst, p.src_port, p.dst_port, p.transport, p.via_hep,
                       p.hep_capture_id, p.vlan, std::string(p.bytes)});
    }
    std::vector<Got> got;
};

inline capture::RawPacket raw(const Bytes& frame, core::TimestampNs ts = 1'000'000'000,
                              capture::LinkType lt = capture::LinkType::Ethernet,
                              uint32_t wire_length = 0) {
    capture::RawPacket p;
    p.timestamp = ts;
    p.linktype = static_cast<uint16_t>(lt);
    p.wire_length = wire_length != 0 ? wire_length : static_cast<uint32_t>(frame.size());
    p.data = frame;
    return p;
}

/// Ethernet/IPv4 frame helpers for the common case.
inline Bytes ethIpv4Udp(uint16_t sport, uint16_t dport, std::string_view payload) {
    return ethernet(0x0800, ipv4(17, udp(sport, dport, payload)));
}
inline Bytes ethIpv4Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                        std::string_view payload, V4 src = kA4, V4 dst = kB4) {
    return ethernet(0x0800, ipv4(6, tcp(sport, dport, seq, flags, payload), {}, src, dst));
}

/// A SIP request with a body of `body` and a correct Content-Length.
inline std::string sipRequest(std::string_view method = "INVITE", std::string_view body = "",
                              std::string_view call_id = "abc@host") {
    std::string s(method);
    s += " sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n";
    s += "Call-ID: ";
    s += call_id;
    s += "\r\nCSeq: 1 ";
    s += method;
    s += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    s += body;
    return s;
}
inline std::string sipResponse(int code = 200, std::string_view body = "") {
    std::string s = "SIP/2.0 " + std::to_string(code) + " OK\r\nCall-ID: abc@host\r\n";
    s += "CSeq: 1 INVITE\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    s += body;
    return s;
}

/// A decoder with its sink and registry, for one test.
struct Harness {
    explicit Harness(DecodeConfig config = {}) : decoder(std::move(config), sink, registry) {}
    void feed(const Bytes& frame, core::TimestampNs ts = 1'000'000'000,
              capture::LinkType lt = capture::LinkType::Ethernet, uint32_t wire_length = 0) {
        decoder.decode(raw(frame, ts, lt, wire_length));
    }
    uint64_t count(Anomaly a) const { return decoder.anomalyCount(a); }
    uint64_t counter(std::string_view name) { return registry.counter(name).get(); }

    monitoring::Registry registry;
    CollectingSink sink;
    Decoder decoder;
};

}  // namespace sipbeat::decode::test
