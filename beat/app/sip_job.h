// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "beat/capture/hep_listener.h"
#include "beat/capture/pcap_source.h"
#include "beat/config/schema.h"
#include "beat/decode/decoder.h"
#include "beat/event/call_event.h"
#include "beat/event/document.h"
#include "beat/event/message_event.h"
#include "beat/monitoring/registry.h"
#include "beat/pipeline/hep_mirror.h"
#include "beat/pipeline/publisher.h"
#include "beat/sip/message.h"
#include "beat/track/call_tracker.h"
#include "beat/track/event_rate.h"

namespace sipbeat::app {

/// The main job: frames from capture go through the decoder; each SIP payload is parsed
/// and becomes a message event (or a msg-probe / parse-error event). Runs on the capture
/// thread; publishing is serialised with the counters thread by `publish_mutex`.
class SipJob final : public capture::PacketHandler,
                     public capture::HepHandler,
                     public decode::SipSink,
                     public track::CallEventSink {
public:
    SipJob(const config::Config& cfg, pipeline::Publisher& publisher, std::mutex& publish_mutex,
           monitoring::Registry& metrics);

    void onPacket(const capture::RawPacket& packet) override;
    void onIdle(core::TimestampNs wall_now) override;
    /// A packet from the HEP collector.
    void onHep(std::span<const uint8_t> packet, core::TimestampNs arrival) override;
    void onPayload(const decode::SipPayload& payload) override;
    void onCallEvent(const track::CallEvent& event) override;
    /// End of input: flush streams at the last packet time. After pcap input every pending
    /// timer fires in due order (SPEC §1); a live capture that stops leaves its calls and
    /// registrations unreported rather than invent their end.
    void finish(bool fire_timers);

    const track::CallTracker& tracker() const { return *tracker_; }
    /// While pcap files are read their packet time is the clock: the HEP collector's idle
    /// ticks (wall time) must not move it.
    void setIdleMovesClock(bool on) {
        std::lock_guard lock(mutex_);
        idle_moves_clock_ = on;
    }

    core::TimestampNs lastPacketTime() const { return last_ts_; }

    /// The decoder settings from `sipbeat.*`.
    static decode::DecodeConfig decodeConfig(const config::Config& cfg);
    /// The tracker settings from `sipbeat.*`; ConfigError naming key and file when bad.
    static track::TrackerConfig trackerConfig(const config::Config& cfg);
    static track::EventRateConfig eventRateConfig(const config::Config& cfg);

    /// The processors of message events and of call/registration events.
    void setProcessors(processors::ProcessorList messages, processors::ProcessorList calls) {
        message_processors_ = std::move(messages);
        call_processors_ = std::move(calls);
    }

private:
    void publish(std::string_view key, const processors::ProcessorList& own);
    void handlePayload(const decode::SipPayload& payload);
    /// Type blacklist, then the event-rate table (sipcmbeat.md §8.1); false = drop.
    bool admit(track::EventType type, const decode::IpAddress& client, core::TimestampNs when);

    pipeline::Publisher& publisher_;
    processors::ProcessorList message_processors_;
    processors::ProcessorList call_processors_;
    std::mutex& publish_mutex_;
    decode::Decoder decoder_;
    event::MessageEventOptions options_;
    bool messages_enabled_;
    bool calls_enabled_;
    uint32_t blacklist_ = 0;  ///< bit per track::EventType
    int64_t end_force_timeout_ns_ = 0;
    bool idle_moves_clock_ = true;
    std::unique_ptr<track::CallTracker> tracker_;
    std::unique_ptr<track::EventRateTable> rates_;
    track::RateInfo rate_info_;
    event::CallEventContext call_ctx_;
    const decode::SipPayload* current_ = nullptr;
    event::Document doc_;
    sip::Message msg_;
    core::TimestampNs last_ts_ = 0;
    std::unique_ptr<pipeline::HepMirror> mirror_;
    // Capture and the HEP collector may run on two threads.
    std::mutex mutex_;

    monitoring::Counter* parse_ok_;
    monitoring::Counter* parse_errs_;
    monitoring::Counter* probes_;
    monitoring::Counter* requests_;
    monitoring::Counter* replies_;
    monitoring::Counter* published_;
    monitoring::Counter* evr_total_;
    monitoring::Counter* evr_blst_type_;
    std::array<monitoring::Counter*, track::kEventTypeCount> by_type_{};
    std::array<monitoring::Counter*, event::kCallEventDbgNames.size()> dbg_counters_{};
};

}  // namespace sipbeat::app
