// SPDX-License-Identifier: Apache-2.0
// Fuzz target: Lumberjack v2 bytes from a server or a client. The input is read as the
// ACK stream of a connection with a few windows outstanding (AckReader, fed in pieces),
// and as a client stream of W/J/C frames (decodeWindows). A window encoded from the input
// must decode to the same events. Anything may be refused; nothing may crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/logstash/lumberjack.h"

namespace lj = sipbeat::outputs::logstash;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> in(data, size);
    // The first bytes choose the windows outstanding and how the stream is cut.
    const uint32_t w1 = size > 0 ? 1u + data[0] % 16u : 3u;
    const uint32_t w2 = size > 1 ? 1u + data[1] % 5u : 1u;
    const size_t piece = size > 2 ? 1u + data[2] % 9u : 6u;

    lj::AckReader reader;
    reader.expect(w1);
    reader.expect(w2);
    reader.expect(2048);
    std::vector<lj::AckReader::Ack> acks;
    size_t completed = 0;
    // The stream starts after the three choice bytes.
    for (size_t i = std::min<size_t>(3, size); i < size; i += piece) {
        const auto chunk = in.subspan(i, std::min(piece, size - i));
        const bool ok = reader.feed(chunk, acks).isOk();
        for (const auto& a : acks) {
            if (a.kind == lj::AckReader::Kind::Complete) {
                ++completed;
            }
            if (a.seq > a.count && a.kind != lj::AckReader::Kind::Keepalive) {
                __builtin_trap();  // an ACK beyond its window must have been refused
            }
        }
        if (!ok) {
            if (!reader.failed()) {
                __builtin_trap();
            }
            break;
        }
    }
    if (completed + reader.outstanding() != 3) {
        __builtin_trap();
    }

    std::vector<lj::DecodedWindow> windows;
    (void)lj::decodeWindows(std::string_view(reinterpret_cast<const char*>(data), size), windows,
                            1000, 1u << 20);

    // Round trip: the input cut into events at each 0x00 byte.
    std::vector<std::string> events(1);
    for (uint8_t b : in) {
        if (b == 0 && events.size() < 64) {
            events.emplace_back();
        } else {
            events.back().push_back(static_cast<char>(b));
        }
    }
    for (int level : {0, 1}) {
        lj::WindowEncoder enc(level);
        enc.begin(static_cast<uint32_t>(events.size()));
        for (const std::string& e : events) {
            enc.add(e);
        }
        if (!enc.finish()) {
            __builtin_trap();
        }
        std::vector<lj::DecodedWindow> back;
        if (!lj::decodeWindows(enc.bytes(), back) || back.size() != 1 ||
            back[0].count != events.size() || back[0].events.size() != events.size()) {
            __builtin_trap();
        }
        for (size_t i = 0; i < events.size(); ++i) {
            if (back[0].events[i].first != i + 1 || back[0].events[i].second != events[i]) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
