// SPDX-License-Identifier: Apache-2.0
#include "beat/event/call_event.h"

#include <string>

#include "beat/core/version.h"
#include "beat/event/builder_util.h"
#include "beat/event/message_event.h"
#include "field_names.h"

namespace sipbeat::event {

namespace {

using namespace fields;  // NOLINT(google-build-using-namespace): field names read better
using detail::addIp;
using detail::scratch;
using track::Attr;
using track::EventType;

// sipcmbeat dates: RFC 3339 with nanoseconds, the Unix epoch for "not set" (§3.1).
void addDate(Document& doc, std::string_view key, core::TimestampNs t) {
    std::string& s = scratch();
    if (t <= 0) {
        s.append("1970-01-01T00:00:00Z");
    } else {
        core::appendRfc3339(s, t, core::Precision::Nanosecond);
    }
    doc.addString(key, s);
}

void addPair(Document& doc, std::string_view key, int64_t a, int64_t b) {
    doc.addIntList(key, {a, b});
}

void addRate(Document& doc, std::string_view type, const decode::IpAddress& client,
             const track::RateInfo* rate) {
    const track::RateInfo r = rate != nullptr ? *rate : track::RateInfo{};
    doc.addUint(kRateExceeded, r.exceeded);
    doc.addUint(kRateExDiff, r.ex_diff);
    doc.addDouble(kRateCrt, r.crt);
    doc.addDouble(kRateLim, r.lim);
    doc.addInt(kRatePeriod, r.period_ms);
    addDate(doc, kRateSince, r.since);
    std::string& s = scratch();
    s.append(type);
    s.push_back(':');
    client.appendText(s);
    doc.addString(kRateKey, s);
}

// The URI of a sipcmbeat attribute, in the message events' object layout so one index maps
// both (sip.from.uri.original …; README compatibility table).
void addUri(Document& doc, std::string_view original_key, std::string_view user_key,
            std::string_view host_key, std::string_view value) {
    if (value.empty()) {
        return;
    }
    doc.addString(original_key, value);
    sip::Uri u;
    if (sip::parseUri(value, u)) {
        if (!u.user.empty() && !user_key.empty()) {
            doc.addString(user_key, u.user);
        }
        if (!u.host.empty() && !host_key.empty()) {
            doc.addString(host_key, u.host);
        }
    }
}

// sipcmbeat's build fields on every call and packet event (§3.2).
void addAgentBuild(Document& doc) {
    doc.addString(kAgentVersionLong, core::kDescribe);
    doc.addString(kAgentVersionBase, core::kVersion);
    doc.addString(kAgentCommitHash, core::kCommit.substr(0, 8));
    doc.addString(kAgentBuildTime, core::kBuildTimeShort);
}

struct MediaKeys {
    std::string_view type, port, protocol, address, direction, codecs;
};
constexpr MediaKeys kCallerMedia{kSipSdpCallerMediaType,      kSipSdpCallerMediaPort,
                                 kSipSdpCallerMediaProtocol,  kSipSdpCallerMediaConnectionAddress,
                                 kSipSdpCallerMediaDirection, kSipSdpCallerMediaCodecs};
constexpr MediaKeys kCalleeMedia{kSipSdpCalleeMediaType,      kSipSdpCalleeMediaPort,
                                 kSipSdpCalleeMediaProtocol,  kSipSdpCalleeMediaConnectionAddress,
                                 kSipSdpCalleeMediaDirection, kSipSdpCalleeMediaCodecs};

// The media summary of one side (SPEC §4): one value per m= line in each list, as the
// message events' sip.sdp.media.*; codecs of all lines in one list.
void addMedia(Document& doc, const MediaKeys& k, std::string_view summary) {
    track::forEachMedia(
        summary, [&](std::string_view type, std::string_view port, std::string_view proto,
                     std::string_view addr, std::string_view dir, std::string_view codecs) {
            doc.appendToList(k.type, type);
            int64_t p = 0;
            for (char c : port) {
                p = p * 10 + (c - '0');
            }
            doc.appendToIntList(k.port, p);
            doc.appendToList(k.protocol, proto);
            if (!addr.empty()) {
                doc.appendToList(k.address, addr);
            }
            if (!dir.empty()) {
                doc.appendToList(k.direction, dir);
            }
            while (!codecs.empty()) {
                const size_t comma = codecs.find(',');
                doc.appendToList(k.codecs, codecs.substr(0, comma));
                codecs =
                    comma == std::string_view::npos ? std::string_view{} : codecs.substr(comma + 1);
            }
        });
}

void addIfSet(Document& doc, std::string_view key, std::string_view value) {
    if (!value.empty()) {
        doc.addString(key, value);
    }
}

int64_t msBetween(core::TimestampNs from, core::TimestampNs to) {
    return (to - from) / 1'000'000;  // Go's integer division of a Duration (§3.2)
}
int64_t secondsBetween(core::TimestampNs from, core::TimestampNs to) {
    return (to - from) / core::kNsPerSecond;
}

struct EcsShape {
    std::string_view category2;  ///< besides "network"
    std::string_view type;
    std::string_view outcome;
};

EcsShape ecsShape(EventType t) {
    switch (t) {
        case EventType::CallStart:
            return {"session", "start", "success"};
        case EventType::CallEnd:
            return {"session", "end", "success"};
        case EventType::CallAttempt:
            return {"session", "info", "failure"};
        case EventType::AuthFailed:
            return {"authentication", "denied", "failure"};
        case EventType::RegNew:
            return {"authentication", "start", "success"};
        case EventType::RegDel:
            return {"authentication", "end", "success"};
        case EventType::RegExpired:
            return {"authentication", "end", "unknown"};
        case EventType::OtherOk:
            return {{}, "info", "success"};
        case EventType::OtherFailed:
        case EventType::OtherTimeout:
            return {{}, "info", "failure"};
        default:
            return {{}, "info", "unknown"};
    }
}

void addRelatedUser(Document& doc, std::string_view uri_text) {
    sip::Uri u;
    if (!uri_text.empty() && sip::parseUri(uri_text, u)) {
        detail::addRelatedUnique(doc, kRelatedUser, u.user);
    }
}

}  // namespace

uint32_t buildCallEvent(const track::CallEvent& ev, const CallEventContext& ctx, Document& doc) {
    const track::CallEntry& e = *ev.entry;
    uint32_t dbg = 0;
    const std::string_view type = track::eventTypeName(ev.type);
    doc.clear();
    doc.timestamp = ev.time;
    doc.addString(kType, type);
    doc.addString(kSipCallId, e.callId());
    addDate(doc, kEventCallStart, e.final_reply_ts);

    // client/server as sipcmbeat; source/destination mirror them for ECS (SPEC §4).
    const std::string_view transport = decode::transportName(e.transport);
    doc.addString(kClientTransport, transport);
    addIp(doc, kClientIp, e.client.ip);
    doc.addInt(kClientPort, e.client.port);
    addIp(doc, kServerIp, e.server.ip);
    doc.addInt(kServerPort, e.server.port);
    addIp(doc, kSourceIp, e.client.ip);
    doc.addInt(kSourcePort, e.client.port);
    addIp(doc, kDestinationIp, e.server.ip);
    doc.addInt(kDestinationPort, e.server.port);
    doc.addString(kNetworkTransport, transport);
    doc.addString(kNetworkProtocol, "sip");
    doc.addString(kNetworkType, e.client.ip.family == 6 ? "ipv6" : "ipv4");
    const uint8_t iana = decode::ianaNumber(e.transport);
    doc.addString(kNetworkIanaNumber, iana == 17 ? "17" : iana == 6 ? "6" : "132");
    {
        std::string& s = scratch();
        appendCommunityId(s, e.client.ip, e.client.port, e.server.ip, e.server.port, iana);
        doc.addString(kNetworkCommunityId, s);
    }
    {
        std::string& s = scratch();
        e.client.ip.appendText(s);
        if (e.server.ip == e.client.ip) {
            doc.addStringList(kRelatedIp, {s});
        } else {
            const size_t split = s.size();
            e.server.ip.appendText(s);
            const std::string_view both = s;
            doc.addStringList(kRelatedIp, {both.substr(0, split), both.substr(split)});
        }
    }

    // event.*
    const EcsShape shape = ecsShape(ev.type);
    doc.addString(kEventKind, "event");
    if (shape.category2.empty()) {
        doc.addStringList(kEventCategory, {"network"});
    } else {
        doc.addStringList(kEventCategory, {"network", shape.category2});
    }
    doc.addStringList(kEventType, {shape.type});
    doc.addString(kEventAction, type);
    doc.addString(kEventOutcome, shape.outcome);
    doc.addString(kEventModule, "sip");
    doc.addString(kEventDataset, "sip.calls");

    // Optional attributes (§3.2): present only when known.
    const std::string_view from = e.attr(Attr::From);
    const std::string_view to = e.attr(Attr::To);
    addUri(doc, kSipFromUriOriginal, kSipFromUriUsername, kSipFromUriHost, from);
    addUri(doc, kSipToUriOriginal, kSipToUriUsername, kSipToUriHost, to);
    addUri(doc, kSipContactUriOriginal, kSipContactUriUsername, kSipContactUriHost,
           e.attr(Attr::Contact));
    addIfSet(doc, kSipRequestMethod, e.attr(Attr::Method));
    const std::string_view ruri = e.attr(Attr::RequestUri);
    if (!ruri.empty()) {
        doc.addString(kUriOriginal, ruri);
        doc.addString(kUrlOriginal, ruri);
    }
    addIfSet(doc, kSipSipReason, ev.reason);
    addIfSet(doc, kUserAgentOriginal, e.attr(Attr::UserAgent));
    addIfSet(doc, kUasOriginal, e.attr(Attr::Uas));
    addIfSet(doc, kSipPai1, e.attr(Attr::Pai1));
    addIfSet(doc, kSipPai2, e.attr(Attr::Pai2));
    addRelatedUser(doc, from);
    addRelatedUser(doc, to);
    {
        sip::Uri u;
        if (!from.empty() && sip::parseUri(from, u) && !u.user.empty()) {
            doc.addString(kUserName, u.user);
        }
    }
    doc.addString(kSipFromtag, e.attr(Attr::FromTag));
    doc.addString(kSipTotag, e.attr(Attr::ToTag));
    addIfSet(doc, kSipRequestSig, e.attr(Attr::RequestSig));

    // Per-type extras ([SB] publishEv, §3.2).
    const auto pdd = [&]() -> int64_t {
        if (e.first_18x_ts != 0) {
            dbg |= kDbgPddOk;
            return msBetween(e.created, e.first_18x_ts);
        }
        if (e.final_reply_ts != 0) {
            dbg |= kDbgPddOk;
            return msBetween(e.created, e.final_reply_ts);
        }
        dbg |= kDbgPddFailed;
        return 0;
    };
    const auto ringTime = [&]() -> int64_t {
        if (e.first_18x_ts != 0 && e.final_reply_ts != 0) {
            dbg |= kDbgRingtOk;
            return msBetween(e.first_18x_ts, e.final_reply_ts);
        }
        dbg |= kDbgRingtFailed;
        return 0;
    };
    switch (ev.type) {
        case EventType::CallEnd: {
            const bool answered = e.final_reply_ts != 0 && e.status >= 200 && e.status < 300;
            if (answered) {
                const int64_t ns = ev.time - e.final_reply_ts;
                doc.addInt(kEventDuration, ctx.sipcmbeat_durations ? ns / core::kNsPerSecond : ns);
                dbg |= kDbgCendDuration;
                std::string& s = scratch();
                core::appendRfc3339(s, e.final_reply_ts, core::Precision::Nanosecond);
                doc.addString(kEventStart, s);
            } else if (e.first_18x_ts != 0) {
                doc.addInt(kEventDuration2, secondsBetween(e.first_18x_ts, ev.time));
                dbg |= kDbgCendDuration2;
            } else if (e.hasEvent(EventType::CallStart) || e.hasEvent(EventType::CallAttempt) ||
                       e.hasEvent(EventType::AuthFailed)) {
                doc.addInt(kEventDuration3, secondsBetween(e.created, ev.time));
                dbg |= kDbgCendDuration3;
            } else {
                doc.addInt(kEventMinLength, secondsBetween(ctx.start_time, ev.time));
                dbg |= kDbgCendNoDuration;
            }
            {
                std::string& s = scratch();
                core::appendRfc3339(s, ev.time, core::Precision::Nanosecond);
                doc.addString(kEventEnd, s);
            }
            doc.addString(kSipOriginator,
                          (e.flags & track::kFlagForcedTimeout) != 0      ? "timeout-terminated"
                          : (e.flags & track::kFlagCalleeTerminated) != 0 ? "callee-terminated"
                                                                          : "caller-terminated");
            if (!e.hasEvent(EventType::CallStart)) {
                doc.addBool(kSipUnmatchedInvite, true);
            }
            if (ev.status != 0) {
                doc.addInt(kSipResponseLast, ev.status);
            }
            doc.addInt(kSipPdd, pdd());
            doc.addInt(kSipRingTime, ringTime());
            break;
        }
        case EventType::CallStart:
        case EventType::CallAttempt:
            doc.addInt(kSipResponseStatus, ev.status);
            doc.addInt(kSipPdd, pdd());
            doc.addInt(kSipRingTime, ringTime());
            break;
        case EventType::RegDel:
        case EventType::RegExpired:
            if (e.final_reply_ts != 0) {
                doc.addInt(kEventLifetime, secondsBetween(e.final_reply_ts, ev.time));
                dbg |= kDbgLifetimeOk;
            } else {
                doc.addInt(kEventMinLifetime, secondsBetween(ctx.start_time, ev.time));
                dbg |= kDbgLifetimeFailed;
            }
            if (ev.status != 0) {
                doc.addInt(kSipResponseLast, ev.status);
            }
            break;
        case EventType::RegNew:
        case EventType::AuthFailed:
            doc.addInt(kSipResponseStatus, ev.status);
            doc.addInt(kSipFrDelay,
                       e.final_reply_ts != 0 ? msBetween(e.created, e.final_reply_ts) : 0);
            dbg |= e.final_reply_ts != 0 ? kDbgFrDelayOk : kDbgFrDelayFailed;
            break;
        default:
            if (ev.status != 0) {
                doc.addInt(kSipResponseLast, ev.status);
            }
            break;
    }

    if (ev.type == EventType::CallStart || ev.type == EventType::CallEnd) {
        addMedia(doc, kCallerMedia, e.attr(Attr::CallerMedia));
        addMedia(doc, kCalleeMedia, e.attr(Attr::CalleeMedia));
    }

    addRate(doc, type, e.client.ip, ctx.rate);

    // dbg.* (§3.2)
    doc.addString(kDbgState, track::callStateText(e.state));
    {
        std::string& s = scratch();
        e.appendStateTrace(s);
        doc.addString(kDbgPrevState, s);
    }
    doc.addString(kDbgLastev, track::eventTypeName(ev.previous_event));
    {
        std::string& s = scratch();
        e.appendEventFlags(s);
        doc.addString(kDbgEvflags, s);
    }
    doc.addString(kDbgEvgen, track::eventGenName(ev.gen));
    addDate(doc, kDbgCreated, e.created);
    addDate(doc, kDbgCallStart, e.final_reply_ts);
    addPair(doc, kDbgCseq, e.cseq[0], e.cseq[1]);
    addPair(doc, kDbgRcseq, e.reply_cseq[0], e.reply_cseq[1]);
    addDate(doc, kDbgForked, e.forked_ts);
    doc.addInt(kDbgCallFlags, e.flags);
    addPair(doc, kDbgReqNo, e.req_no[0], e.req_no[1]);
    addPair(doc, kDbgReplNo, e.repl_no[0], e.repl_no[1]);
    addPair(doc, kDbgReqRetr, e.req_retr[0], e.req_retr[1]);
    addPair(doc, kDbgReplRetr, e.repl_retr[0], e.repl_retr[1]);
    addPair(doc, kDbgLastMethod, e.last_method[0], e.last_method[1]);
    addPair(doc, kDbgLastStatus, e.last_status[0], e.last_status[1]);
    {
        std::string& s = scratch();
        e.appendMsgTrace(s);
        doc.addString(kDbgMsgTrace, s);
    }
    doc.addUint(kDbgEventCnt, ctx.event_count);
    doc.addUint(kDbgEventIdx, ctx.ring_size != 0 ? ctx.event_count % ctx.ring_size : 0);
    doc.addUint(kDbgEventNextIdx, ctx.ring_size != 0 ? (ctx.event_count + 1) % ctx.ring_size : 0);
    doc.addString(kEncryptFlags, "0");
    addAgentBuild(doc);
    return dbg;
}

void addPacketEventFields(Document& doc, std::string_view type, const decode::IpAddress& client,
                          const CallEventContext& ctx) {
    addRate(doc, type, client, ctx.rate);
    doc.addString(kDbgState, "invalid");
    doc.addString(kDbgPrevState, "");
    doc.addString(kDbgLastev, "empty");
    doc.addString(kDbgEvflags, "");
    doc.addString(kDbgEvgen, "unknown");
    addDate(doc, kDbgCreated, 0);
    addDate(doc, kDbgCallStart, 0);
    addDate(doc, kEventCallStart, 0);
    addPair(doc, kDbgCseq, 0, 0);
    addPair(doc, kDbgRcseq, 0, 0);
    addDate(doc, kDbgForked, 0);
    doc.addInt(kDbgCallFlags, 0);
    addPair(doc, kDbgReqNo, 0, 0);
    addPair(doc, kDbgReplNo, 0, 0);
    addPair(doc, kDbgReqRetr, 0, 0);
    addPair(doc, kDbgReplRetr, 0, 0);
    addPair(doc, kDbgLastMethod, 0, 0);
    addPair(doc, kDbgLastStatus, 0, 1);  // sipcmbeat's FillBasic quirk (§13 item 7)
    doc.addString(kDbgMsgTrace, "");
    doc.addUint(kDbgEventCnt, ctx.event_count);
    doc.addUint(kDbgEventIdx, ctx.ring_size != 0 ? ctx.event_count % ctx.ring_size : 0);
    doc.addUint(kDbgEventNextIdx, ctx.ring_size != 0 ? (ctx.event_count + 1) % ctx.ring_size : 0);
    doc.addString(kEncryptFlags, "0");
    addAgentBuild(doc);
}

}  // namespace sipbeat::event
