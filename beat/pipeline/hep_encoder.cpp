// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/hep_encoder.h"

namespace sipbeat::pipeline {

namespace {

void put16(std::string& out, uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, uint32_t v) {
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v & 0xffff));
}

// Chunk header: vendor 0 (generic), type, length including the 6 header bytes.
void chunk(std::string& out, uint16_t type, size_t payload_len) {
    put16(out, 0);
    put16(out, type);
    put16(out, static_cast<uint16_t>(payload_len + 6));
}

void chunkU8(std::string& out, uint16_t type, uint8_t v) {
    chunk(out, type, 1);
    out.push_back(static_cast<char>(v));
}

void chunkU16(std::string& out, uint16_t type, uint16_t v) {
    chunk(out, type, 2);
    put16(out, v);
}

void chunkU32(std::string& out, uint16_t type, uint32_t v) {
    chunk(out, type, 4);
    put32(out, v);
}

void chunkBytes(std::string& out, uint16_t type, std::string_view v) {
    chunk(out, type, v.size());
    out.append(v);
}

}  // namespace

bool encodeHep3(const decode::SipPayload& msg, std::string_view call_id,
                const HepIdentity& identity, std::string& out) {
    out.clear();
    out.append("HEP3");
    put16(out, 0);  // total length, patched below
    const bool v6 = msg.src.family == 6;
    chunkU8(out, 0x0001, v6 ? 10 : 2);  // AF_INET6 / AF_INET, as Kamailio sends them
    chunkU8(out, 0x0002, decode::ianaNumber(msg.transport));
    const size_t alen = v6 ? 16 : 4;
    const auto addr = [&](uint16_t type, const decode::IpAddress& ip) {
        chunkBytes(out, type,
                   std::string_view(reinterpret_cast<const char*>(ip.bytes.data()), alen));
    };
    addr(v6 ? 0x0005 : 0x0003, msg.src);
    addr(v6 ? 0x0006 : 0x0004, msg.dst);
    chunkU16(out, 0x0007, msg.src_port);
    chunkU16(out, 0x0008, msg.dst_port);
    const int64_t secs = msg.timestamp / core::kNsPerSecond;
    chunkU32(out, 0x0009, static_cast<uint32_t>(secs));
    chunkU32(out, 0x000a, static_cast<uint32_t>((msg.timestamp % core::kNsPerSecond) / 1000));
    chunkU8(out, 0x000b, 1);  // SIP
    chunkU32(out, 0x000c, identity.capture_id);
    if (!identity.password.empty()) {
        chunkBytes(out, 0x000e, identity.password);
    }
    if (!call_id.empty()) {
        chunkBytes(out, 0x0011, call_id);
    }
    if (!identity.node_name.empty()) {
        chunkBytes(out, 0x0013, identity.node_name);
    }
    chunkBytes(out, 0x000f, msg.bytes);
    if (out.size() > 0xffff) {
        return false;
    }
    out[4] = static_cast<char>(out.size() >> 8);
    out[5] = static_cast<char>(out.size() & 0xff);
    return true;
}

}  // namespace sipbeat::pipeline
