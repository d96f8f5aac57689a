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

}  // namespace

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
      blacklist_(cfg.getStringList("sipbeat.event_types_blst")) {
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
            throw config::ConfigError(m.status().message() +
                                      " accessing 'sipbeat.hep_mirror.hosts' " +
                                      cfg.originOf("sipbeat.hep_mirror.hosts").describe());
        }
        mirror_ = std::move(m).value();
    }
}

bool SipJob::blacklisted(std::string_view type) const {
    return std::find(blacklist_.begin(), blacklist_.end(), type) != blacklist_.end();
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
}

void SipJob::onHep(std::span<const uint8_t> packet, core::TimestampNs arrival) {
    std::lock_guard lock(mutex_);
    decoder_.decodeHepPacket(packet, arrival);
}

void SipJob::finish() {
    std::lock_guard lock(mutex_);
    decoder_.finish(last_ts_);
    if (mirror_) {
        mirror_->flush(2000);
    }
}

void SipJob::publish(std::string_view key) {
    std::lock_guard lock(publish_mutex_);
    publisher_.publish(doc_, std::string(key));
    published_->add();
}

void SipJob::onPayload(const decode::SipPayload& payload) {
    handlePayload(payload);
}

void SipJob::handlePayload(const decode::SipPayload& payload) {
    if (event::isProbe(payload.bytes)) {
        probes_->add();
        if (!blacklisted("msg-probe")) {
            event::buildProbeEvent(payload, doc_);
            publish({});
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
        if (!blacklisted("parse-error")) {
            event::buildParseErrorEvent(payload, msg_, error, doc_);
            publish(msg_.callId());
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
        publish(msg_.callId());
    }
}

}  // namespace sipbeat::app
