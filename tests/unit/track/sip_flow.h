// SPDX-License-Identifier: Apache-2.0
// Helpers for the call tracker tests: SIP message text for a dialog, a recording event sink
// and a harness that parses each message and hands it to a CallTracker on the packet clock.
// Written from sipcmbeat.md (§2, §3.2, §4), independently of the tracker's implementation:
// the name tables below are the reference's, not the tracker's own name functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "beat/core/clock.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"
#include "beat/sip/message.h"
#include "beat/track/call_tracker.h"

namespace sipbeat::track::test {

/// Test epoch on the packet clock; a multiple of the tracker's 100 ms tick so every
/// message time and due time used by the tests falls on a tick.
inline constexpr core::TimestampNs kT0 = 1'700'000'000LL * core::kNsPerSecond;
inline constexpr int64_t kNsPerMs = 1'000'000;
/// Packet-clock time `ms` milliseconds after the test epoch.
inline core::TimestampNs at(int64_t ms) {
    return kT0 + ms * kNsPerMs;
}

// ---- names as the reference spells them (sipcmbeat.md §2.1, §2.2, §3.2) ----

inline std::string refTypeName(EventType t) {
    static constexpr std::array<std::string_view, kEventTypeCount> kNames = {
        "empty",         "call-start", "call-end",    "call-attempt", "auth-failed", "action-log",
        "reg-new",       "reg-del",    "reg-expired", "sub-new",      "sub-del",     "other-failed",
        "other-timeout", "other-ok",   "parse-error", "msg-probe",    "invalid"};
    const auto i = static_cast<size_t>(t);
    return i < kNames.size() ? std::string(kNames[i]) : "type#" + std::to_string(i);
}

inline std::string refGenName(EventGen g) {
    switch (g) {
        case EventGen::Unknown:
            return "unknown";
        case EventGen::Request:
            return "request";
        case EventGen::Reply:
            return "reply";
        case EventGen::Timeout:
            return "timeout";
    }
    return "gen#" + std::to_string(static_cast<int>(g));
}

inline std::string refStateText(CallState s) {
    static constexpr std::array<std::string_view, kCallStateCount> kNames = {
        "invalid",
        "init",
        "first invite",
        "early dialog",
        "invite negative reply",
        "established",
        "bye detected",
        "bye replied",
        "canceled",
        "initial non-invite",
        "non-invite negative reply",
        "non-invite finished"};
    const auto i = static_cast<size_t>(s);
    return i < kNames.size() ? std::string(kNames[i]) : "state#" + std::to_string(i);
}

// ---- SIP message text ----

/// A UDP endpoint (IPv4).
struct Ep {
    std::array<uint8_t, 4> ip{};
    uint16_t port = 0;
    std::string ipText() const {
        return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) +
               "." + std::to_string(ip[3]);
    }
    std::string hostPort() const { return ipText() + ":" + std::to_string(port); }
};

inline std::string defaultReason(int status) {
    switch (status) {
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 183:
            return "Session Progress";
        case 200:
            return "OK";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 486:
            return "Busy Here";
        case 487:
            return "Request Terminated";
        case 603:
            return "Decline";
        default:
            return "Whatever";
    }
}

/// One SIP message, as text. Fluent setters for the optional parts.
struct SipMsg {
    bool request = true;
    std::string method;  ///< request method
    std::string ruri;    ///< request URI
    int status = 0;      ///< reply status
    std::string reason;  ///< reply reason
    std::string via_host = "10.0.0.1:5060";
    std::string from_uri, from_tag, to_uri, to_tag, call_id;
    uint32_t cseq = 1;
    std::string cseq_method;
    std::vector<std::string> contacts;  ///< Contact header values as written
    int64_t expires = -1;               ///< Expires header; -1 = none
    std::string user_agent;
    std::vector<std::string> extra;  ///< whole extra header lines

    SipMsg& contact(std::string v) {
        contacts.push_back(std::move(v));
        return *this;
    }
    SipMsg& noContact() {
        contacts.clear();
        return *this;
    }
    SipMsg& withExpires(int64_t e) {
        expires = e;
        return *this;
    }
    SipMsg& ua(std::string v) {
        user_agent = std::move(v);
        return *this;
    }
    SipMsg& header(std::string line) {
        extra.push_back(std::move(line));
        return *this;
    }
    SipMsg& withReason(std::string r) {
        reason = std::move(r);
        return *this;
    }
    SipMsg& withRuri(std::string r) {
        ruri = std::move(r);
        return *this;
    }
    SipMsg& withFromUri(std::string u) {
        from_uri = std::move(u);
        return *this;
    }
    SipMsg& withToUri(std::string u) {
        to_uri = std::move(u);
        return *this;
    }

    std::string text() const {
        std::string s;
        if (request) {
            s += method + " " + ruri + " SIP/2.0\r\n";
        } else {
            s += "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
        }
        s += "Via: SIP/2.0/UDP " + via_host + ";branch=z9hG4bK-" + std::to_string(cseq) + "-" +
             cseq_method + "\r\n";
        if (request) {
            s += "Max-Forwards: 70\r\n";
        }
        s += "From: <" + from_uri + ">";
        if (!from_tag.empty()) {
            s += ";tag=" + from_tag;
        }
        s += "\r\nTo: <" + to_uri + ">";
        if (!to_tag.empty()) {
            s += ";tag=" + to_tag;
        }
        s += "\r\nCall-ID: " + call_id + "\r\n";
        s += "CSeq: " + std::to_string(cseq) + " " + cseq_method + "\r\n";
        for (const auto& c : contacts) {
            s += "Contact: " + c + "\r\n";
        }
        if (expires >= 0) {
            s += "Expires: " + std::to_string(expires) + "\r\n";
        }
        if (!user_agent.empty()) {
            s += "User-Agent: " + user_agent + "\r\n";
        }
        for (const auto& h : extra) {
            s += h + "\r\n";
        }
        s += "Content-Length: 0\r\n\r\n";
        return s;
    }
};

/// A caller/callee pair and one Call-ID: builds the requests and replies of both sides.
/// "dir 0" = request from the caller or reply from the callee (sipcmbeat.md §4.4).
struct Dialog {
    std::string call_id;
    std::string caller_uri = "sip:alice@example.com";
    std::string caller_tag = "a1";
    std::string callee_uri = "sip:bob@example.com";
    std::string ruri = "sip:bob@example.com";
    Ep caller{{10, 0, 0, 1}, 5060};
    Ep callee{{10, 0, 0, 2}, 5070};
    std::string caller_ua = "UAC-1";
    std::string callee_ua = "UAS-2";

    explicit Dialog(std::string cid) : call_id(std::move(cid)) {}

    /// Request from the caller (To-tag empty = out of dialog).
    SipMsg req(std::string method, uint32_t cseq, std::string to_tag = "") const {
        SipMsg m;
        m.request = true;
        m.method = method;
        m.ruri = ruri;
        m.via_host = caller.hostPort();
        m.from_uri = caller_uri;
        m.from_tag = caller_tag;
        m.to_uri = callee_uri;
        m.to_tag = std::move(to_tag);
        m.call_id = call_id;
        m.cseq = cseq;
        m.cseq_method = std::move(method);
        m.user_agent = caller_ua;
        if (m.cseq_method == "INVITE" || m.cseq_method == "REGISTER") {
            m.contacts.push_back("<sip:alice@" + caller.hostPort() + ">");
        }
        return m;
    }
    /// Reply of the callee side to a caller request.
    SipMsg rep(int status, uint32_t cseq, std::string cseq_method, std::string to_tag = "") const {
        SipMsg m;
        m.request = false;
        m.status = status;
        m.reason = defaultReason(status);
        m.via_host = caller.hostPort();
        m.from_uri = caller_uri;
        m.from_tag = caller_tag;
        m.to_uri = callee_uri;
        m.to_tag = std::move(to_tag);
        m.call_id = call_id;
        m.cseq = cseq;
        m.cseq_method = std::move(cseq_method);
        m.user_agent = callee_ua;
        return m;
    }
    /// In-dialog request from the callee: From = callee;tag=callee_tag, To = caller;tag=a1.
    SipMsg calleeReq(std::string method, uint32_t cseq, std::string callee_tag) const {
        SipMsg m;
        m.request = true;
        m.method = method;
        m.ruri = "sip:alice@" + caller.hostPort();
        m.via_host = callee.hostPort();
        m.from_uri = callee_uri;
        m.from_tag = std::move(callee_tag);
        m.to_uri = caller_uri;
        m.to_tag = caller_tag;
        m.call_id = call_id;
        m.cseq = cseq;
        m.cseq_method = std::move(method);
        m.user_agent = callee_ua;
        return m;
    }
    /// Reply of the caller to a callee request.
    SipMsg callerRep(int status, uint32_t cseq, std::string cseq_method,
                     std::string callee_tag) const {
        SipMsg m;
        m.request = false;
        m.status = status;
        m.reason = defaultReason(status);
        m.via_host = callee.hostPort();
        m.from_uri = callee_uri;
        m.from_tag = std::move(callee_tag);
        m.to_uri = caller_uri;
        m.to_tag = caller_tag;
        m.call_id = call_id;
        m.cseq = cseq;
        m.cseq_method = std::move(cseq_method);
        m.user_agent = caller_ua;
        return m;
    }
};

/// A REGISTER "dialog": the UA is the caller, the registrar the callee; AOR = To = From URI.
inline Dialog registration(std::string cid, std::string aor = "sip:alice@example.com",
                           Ep ua = {{10, 0, 0, 1}, 5060}) {
    Dialog d(std::move(cid));
    d.caller_uri = aor;
    d.callee_uri = aor;
    d.ruri = "sip:example.com";
    d.caller = ua;
    d.callee = {{10, 0, 0, 9}, 5060};
    d.callee_ua = "";
    return d;
}

// ---- recording sink ----

/// What the tests look at in one CallEvent, copied during the callback.
struct Rec {
    EventType type = EventType::Empty;
    EventGen gen = EventGen::Unknown;
    core::TimestampNs time = 0;
    uint16_t status = 0;
    std::string reason;
    EventType previous = EventType::Empty;
    bool has_entry = false;
    CallState state = CallState::None;
    uint16_t flags = 0;
    uint16_t entry_status = 0;
    std::string call_id, from_tag, to_tag, method, from, to, ruri, contact, ua, uas, pai1, pai2;
    std::string msg_trace, prev_state, evflags;
    std::string client_ip, server_ip;
    uint16_t client_port = 0, server_port = 0;
    std::array<uint16_t, 2> req_no{}, repl_no{}, req_retr{}, repl_retr{};

    int64_t ms() const { return (time - kT0) / kNsPerMs; }
    bool hasFlag(uint16_t f) const { return (flags & f) == f; }
};

class RecordingSink final : public CallEventSink {
public:
    void onCallEvent(const CallEvent& ev) override {
        Rec r;
        r.type = ev.type;
        r.gen = ev.gen;
        r.time = ev.time;
        r.status = ev.status;
        r.reason = std::string(ev.reason);
        r.previous = ev.previous_event;
        if (ev.entry != nullptr) {
            const CallEntry& e = *ev.entry;
            r.has_entry = true;
            r.state = e.state;
            r.flags = e.flags;
            r.entry_status = e.status;
            r.call_id = std::string(e.callId());
            r.from_tag = std::string(e.attr(Attr::FromTag));
            r.to_tag = std::string(e.attr(Attr::ToTag));
            r.method = std::string(e.attr(Attr::Method));
            r.from = std::string(e.attr(Attr::From));
            r.to = std::string(e.attr(Attr::To));
            r.ruri = std::string(e.attr(Attr::RequestUri));
            r.contact = std::string(e.attr(Attr::Contact));
            r.ua = std::string(e.attr(Attr::UserAgent));
            r.uas = std::string(e.attr(Attr::Uas));
            r.pai1 = std::string(e.attr(Attr::Pai1));
            r.pai2 = std::string(e.attr(Attr::Pai2));
            e.appendMsgTrace(r.msg_trace);
            e.appendStateTrace(r.prev_state);
            e.appendEventFlags(r.evflags);
            r.client_ip = e.client.ip.text();
            r.client_port = e.client.port;
            r.server_ip = e.server.ip.text();
            r.server_port = e.server.port;
            r.req_no = e.req_no;
            r.repl_no = e.repl_no;
            r.req_retr = e.req_retr;
            r.repl_retr = e.repl_retr;
        }
        events.push_back(std::move(r));
    }
    std::vector<Rec> events;
};

/// "<ms> <type> <status> '<reason>' <gen> <call-id>": one line per event, so a whole event
/// list compares with one EXPECT_EQ and a failure prints both lists.
inline std::string summarize(const Rec& r) {
    const int64_t d = r.time - kT0;
    std::string t = std::to_string(d / kNsPerMs);
    if (d % kNsPerMs != 0) {
        t += "+" + std::to_string(d % kNsPerMs) + "ns";
    }
    return t + " " + refTypeName(r.type) + " " + std::to_string(r.status) + " '" + r.reason + "' " +
           refGenName(r.gen) + " " + r.call_id;
}

// ---- harness ----

/// Owns a CallTracker with a config, its sink and its metrics registry. Every message is
/// rendered, parsed and tracked with a payload whose timestamp is the packet time; the
/// text and the parsed Message live only for the track() call (the tracker must copy what
/// it keeps).
class TrackerHarness {
public:
    explicit TrackerHarness(const TrackerConfig& cfg) : tracker_(cfg, sink_, registry_) {}

    TrackResult send(int64_t ms, const Ep& src, const Ep& dst, const SipMsg& m) {
        const std::string text = m.text();
        sip::Message msg;
        sip::ParseError err = sip::ParseError::None;
        const sip::ParseStatus st = sip::parse(text, msg, &err);
        EXPECT_EQ(st, sip::ParseStatus::Ok)
            << "test message does not parse (" << sip::parseErrorName(err) << "):\n"
            << text;
        decode::SipPayload p;
        p.timestamp = at(ms);
        p.src = decode::IpAddress::v4(src.ip.data());
        p.dst = decode::IpAddress::v4(dst.ip.data());
        p.src_port = src.port;
        p.dst_port = dst.port;
        p.transport = decode::Transport::Udp;
        p.bytes = text;
        return tracker_.track(p, msg);
    }
    /// Caller -> callee (requests of the caller, replies to callee requests).
    TrackResult fromCaller(int64_t ms, const Dialog& d, const SipMsg& m) {
        return send(ms, d.caller, d.callee, m);
    }
    /// Callee -> caller (replies to caller requests, requests of the callee).
    TrackResult fromCallee(int64_t ms, const Dialog& d, const SipMsg& m) {
        return send(ms, d.callee, d.caller, m);
    }
    void advance(int64_t ms) { tracker_.advanceTime(at(ms)); }
    void finish() { tracker_.finish(); }

    const std::vector<Rec>& events() const { return sink_.events; }
    std::vector<std::string> summary() const {
        std::vector<std::string> out;
        for (const auto& r : sink_.events) {
            out.push_back(summarize(r));
        }
        return out;
    }
    /// Events of one Call-ID.
    std::vector<Rec> eventsOf(std::string_view call_id) const {
        std::vector<Rec> out;
        for (const auto& r : sink_.events) {
            if (r.call_id == call_id) {
                out.push_back(r);
            }
        }
        return out;
    }
    CallTracker& tracker() { return tracker_; }
    monitoring::Registry& registry() { return registry_; }

private:
    RecordingSink sink_;
    monitoring::Registry registry_;
    CallTracker tracker_;
};

}  // namespace sipbeat::track::test
