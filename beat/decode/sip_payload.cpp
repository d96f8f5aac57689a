// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/sip_payload.h"

#include <arpa/inet.h>

#include <cstring>

namespace sipbeat::decode {

IpAddress IpAddress::v4(const uint8_t* p) {
    IpAddress a;
    a.family = 4;
    std::memcpy(a.bytes.data(), p, 4);
    return a;
}

IpAddress IpAddress::v6(const uint8_t* p) {
    IpAddress a;
    a.family = 6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
}

void IpAddress::appendText(std::string& out) const {
    char buf[INET6_ADDRSTRLEN];
    if (family == 4) {
        // Hand-rolled: this runs for every event and inet_ntop is comparatively slow.
        for (int i = 0; i < 4; ++i) {
            if (i > 0) {
                out.push_back('.');
            }
            const unsigned v = bytes[static_cast<size_t>(i)];
            if (v >= 100) {
                out.push_back(static_cast<char>('0' + v / 100));
            }
            if (v >= 10) {
                out.push_back(static_cast<char>('0' + v / 10 % 10));
            }
            out.push_back(static_cast<char>('0' + v % 10));
        }
    } else if (family == 6 && ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf) != nullptr) {
        out.append(buf);  // RFC 5952 form
    }
}

std::string IpAddress::text() const {
    std::string s;
    appendText(s);
    return s;
}

std::string_view transportName(Transport t) {
    switch (t) {
        case Transport::Udp:
            return "udp";
        case Transport::Tcp:
            return "tcp";
        case Transport::Sctp:
            return "sctp";
        case Transport::Tls:
            return "tls";
        case Transport::Ws:
            return "ws";
        case Transport::Wss:
            return "wss";
    }
    return "udp";
}

uint8_t ianaNumber(Transport t) {
    switch (t) {
        case Transport::Udp:
            return 17;
        case Transport::Sctp:
            return 132;
        default:
            return 6;
    }
}

}  // namespace sipbeat::decode
