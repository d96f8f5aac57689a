// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beat/core/status.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"
#include "beat/pipeline/hep_encoder.h"

namespace sipbeat::pipeline {

/// `sipbeat.hep_mirror`: where captured SIP is copied as HEPv3 (SPEC §9).
struct HepMirrorConfig {
    /// `udp://host:port` or `tcp://host:port` (`host:port` = UDP), HOMER collectors.
    std::vector<std::string> hosts;
    HepIdentity identity;
    size_t tcp_buffer_bytes = 4 << 20;  ///< per TCP collector; beyond it copies are dropped
};

/// Sends every captured SIP message to each collector as HEPv3, one packet per UDP
/// datagram or back-to-back frames on TCP (hep.md §0 rule 1). Never blocks capture: UDP
/// send failures and TCP backlog beyond the buffer are counted (`hep_mirror.*`), a broken
/// TCP connection is re-established at most once a second.
class HepMirror {
public:
    static core::Result<std::unique_ptr<HepMirror>> create(const HepMirrorConfig& config,
                                                           monitoring::Registry& metrics);
    ~HepMirror();
    HepMirror(const HepMirror&) = delete;
    HepMirror& operator=(const HepMirror&) = delete;

    /// Mirrors one message (called on the capture thread).
    void send(const decode::SipPayload& msg, std::string_view call_id);
    /// Tries to write out TCP backlogs (end of input), waiting at most `timeout_ms`.
    void flush(int timeout_ms);

private:
    struct Target;
    HepMirror() = default;
    void sendTcp(Target& t, std::string_view packet);
    void pump(Target& t);
    bool connectTcp(Target& t);

    HepMirrorConfig config_;
    std::vector<std::unique_ptr<Target>> targets_;
    std::string packet_;
    monitoring::Counter* sent_ = nullptr;
    monitoring::Counter* dropped_ = nullptr;
    monitoring::Counter* errors_ = nullptr;
    monitoring::Counter* too_big_ = nullptr;
};

}  // namespace sipbeat::pipeline
