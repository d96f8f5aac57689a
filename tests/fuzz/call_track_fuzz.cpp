// SPDX-License-Identifier: Apache-2.0
// Fuzz target: a sequence of SIP messages → the call tracker → call event documents.
// Input records: [delta time: 1 byte, high bit = seconds else 10 ms units] [flags: 1 byte,
// bit 0 = from the other side] [length: 2 bytes big-endian] [message bytes]. Every parsed
// message is tracked; at the end all timers fire. Besides the sanitizers' checks, events
// must come in time order with a known type and a status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "beat/event/call_event.h"
#include "beat/monitoring/registry.h"
#include "beat/sip/message.h"
#include "beat/track/call_tracker.h"

namespace sipbeat {
namespace {

class Sink final : public track::CallEventSink {
public:
    void onCallEvent(const track::CallEvent& ev) override {
        if (ev.time < last_ || ev.entry == nullptr || track::eventTypeName(ev.type) == "invalid" ||
            ev.type == track::EventType::Empty) {
            std::abort();
        }
        last_ = ev.time;
        event::CallEventContext ctx;
        event::buildCallEvent(ev, ctx, doc_);
        if (doc_.get("type") == nullptr || doc_.get("sip.call_id") == nullptr) {
            std::abort();
        }
    }

private:
    core::TimestampNs last_ = 0;
    event::Document doc_;
};

}  // namespace
}  // namespace sipbeat

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sipbeat;  // NOLINT(google-build-using-namespace)
    monitoring::Registry metrics;
    Sink sink;
    track::TrackerConfig cfg = track::TrackerConfig::defaults();
    cfg.max_entries = 64;  // limits are part of what is exercised
    cfg.regs_max_entries = 16;
    track::CallTracker tracker(cfg, sink, metrics);
    const uint8_t a[4] = {10, 0, 0, 1};
    const uint8_t b[4] = {10, 0, 0, 2};
    core::TimestampNs t = 1'700'000'000LL * core::kNsPerSecond;
    sip::Message msg;
    size_t i = 0;
    while (i + 4 <= size) {
        const uint8_t dt = data[i];
        const bool other_side = (data[i + 1] & 1) != 0;
        const size_t len = (static_cast<size_t>(data[i + 2]) << 8) | data[i + 3];
        i += 4;
        if (len > size - i) {
            break;
        }
        t += (dt & 0x80) != 0 ? static_cast<int64_t>(dt & 0x7f) * core::kNsPerSecond
                              : static_cast<int64_t>(dt) * 10'000'000;
        decode::SipPayload p;
        p.timestamp = t;
        p.src = decode::IpAddress::v4(other_side ? b : a);
        p.dst = decode::IpAddress::v4(other_side ? a : b);
        p.src_port = other_side ? 5070 : 5060;
        p.dst_port = other_side ? 5060 : 5070;
        p.bytes = std::string_view(reinterpret_cast<const char*>(data + i), len);
        i += len;
        if (sip::parse(p.bytes, msg) == sip::ParseStatus::Ok) {
            (void)tracker.track(p, msg);
        }
    }
    tracker.finish();
    if (tracker.entries() != 0) {
        std::abort();  // every entry must have ended
    }
    return 0;
}
