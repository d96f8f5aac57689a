// SPDX-License-Identifier: Apache-2.0
#include "beat/app/sip_job.h"

#include <algorithm>

namespace sipbeat::app {

namespace {

std::vector<uint16_t> ports(const config::Config& cfg, std::string_view key) {
    std::vector<uint16_t> out;
    for (const std::string& s : cfg.getStringList(key)) {
        int64_t v = 0;
        if (config::parseInt(s, v)) {
            out.push_back(static_cast<uint16_t>(v));
        }
    }
    return out;
}

[[noreturn]] void badValue(const config::Config& cfg, std::string_view key,
                           const std::string& why) {
    throw config::ConfigError(why + " accessing 'sipbeat." + std::string(key) + "' " +
                              cfg.originOf("sipbeat." + std::string(key)).describe());
}

}  // namespace

track::TrackerConfig SipJob::trackerConfig(const config::Config& cfg) {
    track::TrackerConfig tc = track::TrackerConfig::defaults();
    if (const config::Node* n = cfg.node("sipbeat.calls_timeouts"); n != nullptr && n->isMap()) {
        for (const auto& [name, value] : n->entries()) {
            track::CallState st{};
            if (!track::callStateFromName(name, st) || st == track::CallState::None) {
                badValue(cfg, "calls_timeouts." + name, "unknown call state '" + name + "'");
            }
            int64_t ns = 0;
            if (!value.isScalar() || !config::parseDuration(value.text(), ns)) {
                badValue(cfg, "calls_timeouts." + name, "invalid duration '" + value.text() + "'");
            }
            const int64_t s = ns / core::kNsPerSecond;  // rounded down to seconds (§5.2)
            if (s <= 0) {
                continue;  // ≤ 0 keeps the default
            }
            const track::StateTimeoutRange r = track::stateTimeoutRange(st);
            if (s < r.min_s || s > r.max_s) {
                badValue(cfg, "calls_timeouts." + name,
                         "timeout " + std::to_string(s) + "s out of range [" +
                             std::to_string(r.min_s) + "s, " + std::to_string(r.max_s) + "s]");
            }
            tc.timeout_s[static_cast<size_t>(st)] = s;
        }
    }
    tc.reg_exp_delta_s = cfg.getInt("sipbeat.reg_exp_delta");
    tc.reg_del_delay_s = cfg.getInt("sipbeat.reg_del_delay");
    tc.contact_ignore_port = cfg.getBool("sipbeat.contact_ignore_port");
    tc.max_entries = static_cast<uint64_t>(cfg.getInt("sipbeat.calls_max_entries"));
    tc.max_mem = static_cast<uint64_t>(cfg.getInt("sipbeat.calls_max_mem"));
    tc.regs_max_entries = static_cast<uint64_t>(cfg.getInt("sipbeat.regs_max_entries"));
    tc.regs_max_mem = static_cast<uint64_t>(cfg.getInt("sipbeat.regs_max_mem"));
    return tc;
}

track::EventRateConfig SipJob::eventRateConfig(const config::Config& cfg) {
    track::EventRateConfig rc;
    rc.max_entries = static_cast<size_t>(cfg.getInt("sipbeat.evr_max_entries"));
    if (rc.max_entries == 0) {
        // A table without room drops every event (§8.1 step 3): surely not what is meant.
        badValue(cfg, "evr_max_entries",
                 "must be at least 1 (to turn rates off: evr_limits: [0, 0, 0])");
    }
    const std::vector<std::string> limits = cfg.getStringList("sipbeat.evr_limits");
    const std::vector<std::string> intervals = cfg.getStringList("sipbeat.evr_intervals");
    if (limits.size() > 3) {
        badValue(cfg, "evr_limits", "at most 3 limits");
    }
    if (intervals.size() > 3) {
        badValue(cfg, "evr_intervals", "at most 3 intervals");
    }
    for (size_t i = 0; i < limits.size(); ++i) {
        double v = 0;
        if (!config::parseFloat(limits[i], v) || v < 0) {
            badValue(cfg, "evr_limits", "invalid limit '" + limits[i] + "'");
        }
        rc.limits[i] = v;
    }
    for (size_t i = 0; i < intervals.size(); ++i) {
        int64_t ns = 0;
        if (!config::parseDuration(intervals[i], ns) || ns < 0) {
            badValue(cfg, "evr_intervals", "invalid interval '" + intervals[i] + "'");
        }
        rc.intervals_ns[i] = ns;
    }
    rc.conseq_report_min = static_cast<uint64_t>(cfg.getInt("sipbeat.evr_conseq_report_min"));
    rc.conseq_report_max = static_cast<uint64_t>(cfg.getInt("sipbeat.evr_conseq_report_max"));
    rc.gc_interval_ns = cfg.getDurationNs("sipbeat.evr_gc_interval");
    rc.gc_old_age_ns = cfg.getDurationNs("sipbeat.evr_gc_old_age");
    rc.gc_max_run_time_ns = cfg.getDurationNs("sipbeat.evr_gc_max_run_time");
    rc.gc_target = static_cast<size_t>(cfg.getInt("sipbeat.evr_gc_target"));
    return rc;
}

decode::DecodeConfig SipJob::decodeConfig(const config::Config& cfg) {
    decode::DecodeConfig dc;
    dc.sip_ports = ports(cfg, "sipbeat.ports");
    dc.vxlan_ports = ports(cfg, "sipbeat.vxlan_ports");
    dc.websocket_ports = ports(cfg, "sipbeat.websocket_ports");
    dc.hep_ports = ports(cfg, "sipbeat.hep.ports");
    dc.hep_password = cfg.getString("sipbeat.hep.password");
    dc.tcp_stream_buffer_max = static_cast<size_t>(cfg.getInt("sipbeat.tcp_msg_buf_max"));
    dc.tcp_idle_timeout_ns = cfg.getDurationNs("sipbeat.tcp_connection_timeout");
    dc.tcp_reorder_timeout_ns = cfg.getDurationNs("sipbeat.tcp_reorder_timeout");
    return dc;
}

SipJob::SipJob(const config::Config& cfg, pipeline::Publisher& publisher, std::mutex& publish_mutex,
               monitoring::Registry& metrics)
    : publisher_(publisher),
      publish_mutex_(publish_mutex),
      decoder_(decodeConfig(cfg), *this, metrics),
      messages_enabled_(cfg.getBool("sipbeat.messages.enabled")),
      calls_enabled_(cfg.getBool("sipbeat.calls.enabled")) {
    for (const std::string& name : cfg.getStringList("sipbeat.event_types_blst")) {
        track::EventType t{};
        if (!track::eventTypeFromName(name, t)) {
            badValue(cfg, "event_types_blst", "unknown event type '" + name + "'");
        }
        blacklist_ |= 1u << static_cast<unsigned>(t);
    }
    tracker_ = std::make_unique<track::CallTracker>(trackerConfig(cfg), *this, metrics);
    rates_ = std::make_unique<track::EventRateTable>(eventRateConfig(cfg), metrics);
    end_force_timeout_ns_ = cfg.getDurationNs("sipbeat.end_force_timeout");
    call_ctx_.sipcmbeat_durations = cfg.getBool("sipbeat.compat.sipcmbeat_durations");
    call_ctx_.ring_size = static_cast<uint64_t>(cfg.getInt("sipbeat.event_buffer_size"));
    call_ctx_.rate = &rate_info_;
    evr_total_ = &metrics.counter("ev_rate.total_events");
    for (size_t i = 0; i < dbg_counters_.size(); ++i) {
        dbg_counters_[i] =
            &metrics.counter("events.dbg." + std::string(event::kCallEventDbgNames[i]));
    }
    evr_blst_type_ = &metrics.counter("ev_rate.blst_type");
    for (size_t i = 0; i < track::kEventTypeCount; ++i) {
        by_type_[i] =
            &metrics.counter("events.by_type." +
                             std::string(track::eventTypeName(static_cast<track::EventType>(i))));
    }
    options_.keep_original = cfg.getBool("sipbeat.keep_original");
    options_.parse_authorization = cfg.getBool("sipbeat.parse_authorization");
    options_.parse_body = cfg.getBool("sipbeat.parse_body");
    // sipcmbeat's pkt_stats names (sipcmbeat.md §9).
    parse_ok_ = &metrics.counter("pkt_stats.parse_ok");
    parse_errs_ = &metrics.counter("pkt_stats.parse_errs");
    probes_ = &metrics.counter("pkt_stats.tiny_packets");
    requests_ = &metrics.counter("pkt_stats.sip_reqs");
    replies_ = &metrics.counter("pkt_stats.sip_repls");
    published_ = &metrics.counter("events.published");
    pipeline::HepMirrorConfig mc;
    mc.hosts = cfg.getStringList("sipbeat.hep_mirror.hosts");
    mc.identity.capture_id = static_cast<uint32_t>(cfg.getInt("sipbeat.hep_mirror.capture_id"));
    mc.identity.node_name = cfg.getString("sipbeat.hep_mirror.node_name");
    mc.identity.password = cfg.getString("sipbeat.hep_mirror.password");
    if (!mc.hosts.empty()) {
        auto m = pipeline::HepMirror::create(mc, metrics);
        if (!m) {
            badValue(cfg, "hep_mirror.hosts", m.status().message());
        }
        mirror_ = std::move(m).value();
    }
}

bool SipJob::admit(track::EventType type, const decode::IpAddress& client, core::TimestampNs when) {
    if ((blacklist_ & (1u << static_cast<unsigned>(type))) != 0) {
        // §8.1: counted in total_events, never in the rates. The rate table counts
        // total_events itself for the events it sees.
        evr_total_->add();
        evr_blst_type_->add();
        return false;
    }
    rates_->tick(when);
    if (rates_->account(static_cast<uint8_t>(type), client, when, rate_info_) !=
        track::RateVerdict::Publish) {
        return false;
    }
    by_type_[static_cast<size_t>(type)]->add();
    call_ctx_.event_count = published_->get();  // dbg.event_cnt: published before this one
    return true;
}

void SipJob::onCallEvent(const track::CallEvent& ev) {
    if (!admit(ev.type, ev.entry->client.ip, ev.time)) {
        return;
    }
    call_ctx_.start_time = tracker_->startTime();
    const uint32_t dbg = event::buildCallEvent(ev, call_ctx_, doc_);
    for (size_t i = 0; i < dbg_counters_.size(); ++i) {
        if ((dbg & (1u << i)) != 0) {
            dbg_counters_[i]->add();
        }
    }
    // Kafka key = Call-ID: every event of a call lands on one partition (SPEC §9).
    publish(ev.entry->callId(), call_processors_);
}

void SipJob::onPacket(const capture::RawPacket& packet) {
    std::lock_guard lock(mutex_);
    if (packet.timestamp > last_ts_) {
        last_ts_ = packet.timestamp;
    }
    decoder_.decode(packet);
}

void SipJob::onIdle(core::TimestampNs wall_now) {
    std::lock_guard lock(mutex_);
    decoder_.advanceTime(wall_now);
    // Live input only: with no packets the packet clock follows wall time, so timers fire.
    if (calls_enabled_ && idle_moves_clock_) {
        tracker_->advanceTime(wall_now);
    }
}

void SipJob::onHep(std::span<const uint8_t> packet, core::TimestampNs arrival) {
    std::lock_guard lock(mutex_);
    decoder_.decodeHepPacket(packet, arrival);
}

void SipJob::finish(bool fire_timers) {
    std::lock_guard lock(mutex_);
    decoder_.finish(last_ts_);
    if (calls_enabled_ && fire_timers) {
        tracker_->finish(end_force_timeout_ns_);
    }
    if (mirror_) {
        mirror_->flush(2000);
    }
}

void SipJob::publish(std::string_view key, const processors::ProcessorList& own) {
    std::lock_guard lock(publish_mutex_);
    if (publisher_.publish(doc_, key, &own)) {
        published_->add();
    }
}

void SipJob::onPayload(const decode::SipPayload& payload) {
    handlePayload(payload);
}

void SipJob::handlePayload(const decode::SipPayload& payload) {
    if (event::isProbe(payload.bytes)) {
        probes_->add();
        if (admit(track::EventType::MsgProbe, payload.src, payload.timestamp)) {
            event::buildProbeEvent(payload, doc_);
            event::addPacketEventFields(doc_, "msg-probe", payload.src, call_ctx_);
            publish({}, call_processors_);
        }
        return;
    }
    sip::ParseOptions po;
    // RFC 3261 §18.3: only datagram transports may omit Content-Length.
    po.datagram =
        payload.transport == decode::Transport::Udp || payload.transport == decode::Transport::Sctp;
    sip::ParseError error = sip::ParseError::None;
    if (sip::parse(payload.bytes, msg_, &error, po) != sip::ParseStatus::Ok) {
        parse_errs_->add();
        if (admit(track::EventType::ParseError, payload.src, payload.timestamp)) {
            event::buildParseErrorEvent(payload, msg_, error, doc_);
            event::addPacketEventFields(doc_, "parse-error", payload.src, call_ctx_);
            publish(msg_.callId(), call_processors_);
        }
        return;
    }
    parse_ok_->add();
    (msg_.isRequest() ? requests_ : replies_)->add();
    // The mirror copies SIP seen on the wire; HEP received is not sent on again.
    if (mirror_ && !payload.via_hep) {
        mirror_->send(payload, msg_.callId());
    }
    if (messages_enabled_) {
        event::buildMessageEvent(payload, msg_, options_, doc_);
        // Kafka key = Call-ID, so every message of a call lands on one partition (SPEC §9).
        publish(msg_.callId(), message_processors_);
    }
    if (calls_enabled_) {
        // After the message event: a call event caused by this message comes second.
        tracker_->track(payload, msg_);
    }
}

}  // namespace sipbeat::app
