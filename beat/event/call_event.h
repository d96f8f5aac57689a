// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "beat/decode/sip_payload.h"
#include "beat/event/document.h"
#include "beat/track/call_tracker.h"
#include "beat/track/event_rate.h"

namespace sipbeat::event {

/// What the call-event builder needs besides the event itself.
struct CallEventContext {
    /// `sipbeat.compat.sipcmbeat_durations`: event.duration in integer seconds as sipcmbeat,
    /// instead of ECS nanoseconds.
    bool sipcmbeat_durations = false;
    /// When capture started: event.min_length / min_lifetime count from it (§3.2).
    core::TimestampNs start_time = 0;
    /// Events published before this one (dbg.event_cnt), and the ring size sipcmbeat
    /// reports positions in (event_buffer_size).
    uint64_t event_count = 0;
    uint64_t ring_size = 10240;
    const track::RateInfo* rate = nullptr;
};

/// Which computed fields an event got: sipcmbeat's `events.dbg` counters (§9).
enum CallEventDbg : uint32_t {
    kDbgCendDuration = 1,
    kDbgCendDuration2 = 2,
    kDbgCendDuration3 = 4,
    kDbgCendNoDuration = 8,
    kDbgPddOk = 16,
    kDbgPddFailed = 32,
    kDbgRingtOk = 64,
    kDbgRingtFailed = 128,
    kDbgLifetimeOk = 256,
    kDbgLifetimeFailed = 512,
    kDbgFrDelayOk = 1024,
    kDbgFrDelayFailed = 2048,
};
/// sipcmbeat's names of those counters, in bit order.
inline constexpr std::array<std::string_view, 12> kCallEventDbgNames = {
    "cend_duration", "cend_duration2",  "cend_duration3", "cend_noduration",
    "pdd_ok",        "pdd_failed",      "ringt_ok",       "ringt_failed",
    "lifetime_ok",   "lifetime_failed", "fr_delay_ok",    "fr_delay_failed"};

/// A sipcmbeat call/registration event (sipcmbeat.md §3.2) with the ECS additions of SPEC §4.
/// Returns the CallEventDbg bits of what it could compute.
uint32_t buildCallEvent(const track::CallEvent& ev, const CallEventContext& ctx, Document& doc);

/// The sipcmbeat fields msg-probe and parse-error events carry besides their own
/// (rate.*, dbg.* defaults, encrypt_flags; sipcmbeat.md §3.2, §13 quirk 7).
void addPacketEventFields(Document& doc, std::string_view type, const decode::IpAddress& client,
                          const CallEventContext& ctx);

}  // namespace sipbeat::event
