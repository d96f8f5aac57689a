// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/decoder.h"

#include <utility>

#include "beat/decode/decoder_impl.h"
#include "beat/decode/hep.h"

namespace sipbeat::decode {

namespace {

// Expiry runs at most once per second of packet time from decode(); advanceTime() runs it
// at once. Both only look at the heads of age-ordered lists, so a run costs little.
constexpr int64_t kHousekeepingIntervalNs = core::kNsPerSecond;

}  // namespace

Decoder::Impl::Impl(DecodeConfig config, SipSink& sink, monitoring::Registry& metrics)
    : config_(std::move(config)),
      sink_(sink),
      counters_(metrics),
      all_sip_(config_.sip_ports.empty()),
      defrag_(config_, counters_),
      tcp_(config_, counters_, *this) {
    for (uint16_t p : config_.sip_ports) {
        sip_ports_.set(p);
    }
    for (uint16_t p : config_.vxlan_ports) {
        vxlan_ports_.set(p);
    }
    for (uint16_t p : config_.websocket_ports) {
        ws_ports_.set(p);
    }
    for (uint16_t p : config_.hep_ports) {
        hep_ports_.set(p);
    }
}

Decoder::Impl::~Impl() = default;

void Decoder::Impl::emit(const SipPayload& p) noexcept {
    counters_.payloads->add();
    sink_.onPayload(p);
}

void Decoder::decodeHepPacket(std::span<const uint8_t> packet, core::TimestampNs arrival) noexcept {
    impl_->handleHep(packet, arrival);
}

void Decoder::Impl::handleHep(detail::Bytes data, core::TimestampNs ts) noexcept {
    HepPacket hep;
    Anomaly error = Anomaly::Count;
    if (!decodeHep(data, hep, error)) {
        counters_.flag(error);
        return;
    }
    counters_.hep->add();
    if (!config_.hep_password.empty() && hep.password != config_.hep_password) {
        // SPEC §2: a wrong or missing capture password drops the packet.
        counters_.flag(Anomaly::HepBadPassword);
        return;
    }
    if (hep.proto_type != 1) {
        // RTCP reports, logs, DNS ... (hep.md §1.5) are not SIP messages.
        counters_.flag(Anomaly::HepNotSip);
        return;
    }
    // The outer VLAN is that of the HEP transport, not of the message: only HEP's own
    // VLAN chunk says where the message was.
    emit(toSipPayload(hep, ts));
}

void Decoder::Impl::onStreamMessage(const detail::FlowKey& key, uint16_t vlan, bool websocket,
                                    std::string_view bytes, core::TimestampNs ts) noexcept {
    SipPayload p;
    p.timestamp = ts;
    p.src = key.src;
    p.dst = key.dst;
    p.src_port = key.src_port;
    p.dst_port = key.dst_port;
    p.transport = websocket ? Transport::Ws : Transport::Tcp;
    p.vlan = vlan;
    p.bytes = bytes;
    if (websocket) {
        counters_.websocket->add();
    }
    emit(p);
}

void Decoder::Impl::onStreamHep(std::span<const uint8_t> frame, core::TimestampNs ts) noexcept {
    handleHep(frame, ts);
}

void Decoder::Impl::housekeeping(core::TimestampNs now) noexcept {
    defrag_.expire(now);
    tcp_.expire(now);
    next_housekeeping_ = detail::addSaturating(now, kHousekeepingIntervalNs);
    housekeeping_started_ = true;
}

Decoder::Decoder(DecodeConfig config, SipSink& sink, monitoring::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), sink, metrics)) {}

Decoder::~Decoder() = default;

void Decoder::decode(const capture::RawPacket& packet) noexcept {
    Impl& d = *impl_;
    d.counters_.packets->add();
    PacketContext ctx;
    ctx.ts = packet.timestamp;
    ctx.cut = packet.wire_length > packet.data.size();
    if (!d.housekeeping_started_ || packet.timestamp >= d.next_housekeeping_) {
        d.housekeeping(packet.timestamp);
    }
    d.decodeLink(packet.linktype, packet.data, ctx);
}

void Decoder::advanceTime(core::TimestampNs now) noexcept {
    impl_->housekeeping(now);
}

void Decoder::finish(core::TimestampNs now) noexcept {
    impl_->housekeeping(now);
    impl_->tcp_.finish();
    impl_->defrag_.clear();
}

uint64_t Decoder::anomalyCount(Anomaly a) const noexcept {
    return impl_->counters_.anomalyCount(a);
}

}  // namespace sipbeat::decode
