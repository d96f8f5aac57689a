// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "beat/decode/sip_payload.h"
#include "beat/event/document.h"
#include "beat/sip/message.h"

namespace sipbeat::event {

/// sipbeat.keep_original / parse_authorization / parse_body (packetbeat's SIP switches).
struct MessageEventOptions {
    bool keep_original = true;
    bool parse_authorization = true;
    bool parse_body = true;
};

/// The packetbeat-compatible `type: sip` event of one message (reference/beats.md §8.4,
/// SPEC §5), with packetbeat's Contact bug fixed: `sip.contact.*` come from Contact.
void buildMessageEvent(const decode::SipPayload& payload, const sip::Message& msg,
                       const MessageEventOptions& options, Document& doc);

/// sipcmbeat's `msg-probe` event: a packet that is not SIP (≤ 12 bytes or first byte not a
/// letter: CRLF keep-alives, STUN, RTP; sipcmbeat.md §10.5).
void buildProbeEvent(const decode::SipPayload& payload, Document& doc);

/// sipcmbeat's `parse-error` event: Call-ID when it was reached, `err_info` = the reason,
/// or the first ≤ 60 bytes that parsed fine (sipcmbeat.md §3.2, §10.5).
void buildParseErrorEvent(const decode::SipPayload& payload, const sip::Message& partial,
                          sip::ParseError error, Document& doc);

/// True when sipcmbeat would take the payload for a probe rather than a SIP message.
bool isProbe(std::string_view bytes) noexcept;

/// Community ID v1 of a flow (https://github.com/corelight/community-id-spec), seed 0.
void appendCommunityId(std::string& out, const decode::IpAddress& src, uint16_t src_port,
                       const decode::IpAddress& dst, uint16_t dst_port, uint8_t proto);

}  // namespace sipbeat::event
