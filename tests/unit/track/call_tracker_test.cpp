// SPDX-License-Identifier: Apache-2.0
// CallTracker against sipcmbeat.md: the verified scenarios of §2.6 (one test per row), the
// request/reply/timeout rules of §2.3–§2.5, forking and CANCEL of §2.7, the dbg.* formats of
// §3.2/§4.7, registrations of §4.6, the limits of §4.2/§4.5 and end of input. Written from
// the reference (and the lab ground truth in shared/corpus/lab), not from the tracker's code.
//
// Times are milliseconds on the packet clock after kT0 (a multiple of the 100 ms tick).
// "Due time" of a timer = time of the message that last set it + the state's timeout: a
// state change forces the timer, a message that keeps the state (ACK, ignored replies,
// retransmissions) only extends it (§2.2 "FTimerUpdForce"/"FTimerUpdGT").
#include "beat/track/call_tracker.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "unit/track/sip_flow.h"

namespace sipbeat::track {
namespace {

using test::at;
using test::Dialog;
using test::Ep;
using test::Rec;
using test::registration;
using test::SipMsg;
using test::summarize;
using test::TrackerHarness;
using Lines = std::vector<std::string>;

constexpr size_t idx(CallState s) {
    return static_cast<size_t>(s);
}

/// §2.6: "timeouts shortened to 1 s" (inv_established 10 s, the smallest it accepts, as in
/// row 13).
TrackerConfig shortCfg() {
    TrackerConfig c = TrackerConfig::defaults();
    for (CallState s :
         {CallState::FirstInvite, CallState::EarlyDialog, CallState::InviteNegReply,
          CallState::ByeSeen, CallState::ByeReplied, CallState::Canceled, CallState::FirstNonInvite,
          CallState::NonInviteNegReply, CallState::NonInviteFinished}) {
        c.timeout_s[idx(s)] = 1;
    }
    c.timeout_s[idx(CallState::Established)] = 10;
    return c;
}

TrackerConfig defaultCfg() {
    return TrackerConfig::defaults();
}

/// One expected summary line (see test::summarize).
std::string L(int64_t ms, std::string_view type, int status, std::string_view reason,
              std::string_view gen, std::string_view cid) {
    return std::to_string(ms) + " " + std::string(type) + " " + std::to_string(status) + " '" +
           std::string(reason) + "' " + std::string(gen) + " " + std::string(cid);
}

constexpr std::string_view kTimeoutReason = "internal: call state timeout";

/// The next event fires exactly at `due_ms`: nothing has fired 200 ms before (more than the
/// wheel's 100 ms slack), and once the clock reaches `due_ms` an event stamped `due_ms` is
/// there.
void expectNextFiresAt(TrackerHarness& h, int64_t due_ms) {
    const size_t n = h.events().size();
    h.advance(due_ms - 200);
    EXPECT_EQ(h.events().size(), n) << "fired early: " << summarize(h.events().back());
    h.advance(due_ms);
    ASSERT_GT(h.events().size(), n) << "nothing fired by " << due_ms << " ms";
    EXPECT_EQ(h.events()[n].time, at(due_ms)) << summarize(h.events()[n]);
}

// REGISTER helpers (§4.6). The UA's Contact and the registrar's reply Contacts as written.
constexpr std::string_view kC1 = "<sip:alice@10.0.0.1:5060>";
SipMsg regReq(const Dialog& d, uint32_t cseq, std::string_view contact, int64_t expires = -1) {
    SipMsg m = d.req("REGISTER", cseq);
    m.contacts.clear();
    if (!contact.empty()) {
        m.contacts.emplace_back(contact);
    }
    m.expires = expires;
    return m;
}
SipMsg regRep(const Dialog& d, int status, uint32_t cseq, std::string to_tag,
              std::vector<std::string> contacts = {}, int64_t expires = -1) {
    SipMsg m = d.rep(status, cseq, "REGISTER", std::move(to_tag));
    m.contacts = std::move(contacts);
    m.expires = expires;
    return m;
}
std::string withExpires(std::string_view c, int e) {
    return std::string(c) + ";expires=" + std::to_string(e);
}

// =====================================================================================
// §2.1 / §2.2 / §4.5: names, defaults and limits the rest of the file relies on
// =====================================================================================

// §2.1 type strings, §2.2 state strings/config names/defaults/ranges, §3.2 evgen strings.
TEST(CallTrackerNames, TypesStatesTimeoutsMatchReference) {
    for (size_t i = 0; i < kEventTypeCount; ++i) {
        const auto t = static_cast<EventType>(i);
        EXPECT_EQ(eventTypeName(t), test::refTypeName(t));
        EventType back = EventType::Invalid;
        EXPECT_TRUE(eventTypeFromName(test::refTypeName(t), back)) << test::refTypeName(t);
        EXPECT_EQ(back, t);
    }
    EventType dummy = EventType::Empty;
    EXPECT_FALSE(eventTypeFromName("counters-x", dummy));

    const std::vector<std::string_view> config_names = {
        "invalid",         "init",         "inv_1st",      "inv_early_dlg", "inv_neg",
        "inv_established", "inv_bye_seen", "inv_bye_repl", "inv_canceled",  "non_inv_1st",
        "non_inv_neg",     "non_inv_fin"};
    const std::vector<int64_t> defaults = {1, 1, 120, 180, 30, 3600, 30, 5, 5, 30, 5, 5};
    const std::vector<std::pair<int64_t, int64_t>> ranges = {
        {0, 0},   {1, 5},  {1, 7200}, {1, 600}, {1, 180}, {10, 86400},
        {1, 600}, {1, 60}, {1, 60},   {1, 180}, {1, 60},  {1, 60}};
    const TrackerConfig cfg = TrackerConfig::defaults();
    for (size_t i = 0; i < kCallStateCount; ++i) {
        const auto s = static_cast<CallState>(i);
        SCOPED_TRACE(test::refStateText(s));
        EXPECT_EQ(callStateText(s), test::refStateText(s));
        EXPECT_EQ(callStateConfigName(s), config_names[i]);
        EXPECT_EQ(stateTimeoutRange(s).default_s, defaults[i]);
        if (i >= 1) {
            EXPECT_EQ(cfg.timeout_s[i], defaults[i]);
            EXPECT_EQ(stateTimeoutRange(s).min_s, ranges[i].first);
            EXPECT_EQ(stateTimeoutRange(s).max_s, ranges[i].second);
            CallState by_name = CallState::None, by_text = CallState::None;
            EXPECT_TRUE(callStateFromName(config_names[i], by_name));
            EXPECT_EQ(by_name, s);
            EXPECT_TRUE(callStateFromName(test::refStateText(s), by_text));
            EXPECT_EQ(by_text, s);
        }
    }
    EXPECT_EQ(cfg.reg_exp_delta_s, 30);
    EXPECT_EQ(cfg.reg_del_delay_s, 0);
    EXPECT_FALSE(cfg.contact_ignore_port);
    EXPECT_EQ(cfg.max_entries, 0u);

    EXPECT_EQ(eventGenName(EventGen::Unknown), "unknown");
    EXPECT_EQ(eventGenName(EventGen::Request), "request");
    EXPECT_EQ(eventGenName(EventGen::Reply), "reply");
    EXPECT_EQ(eventGenName(EventGen::Timeout), "timeout");
}

// §4.5 attribute limits.
TEST(CallTrackerNames, AttributeLimitsMatchReference) {
    EXPECT_EQ(attrMaxLength(Attr::From), 96u);
    EXPECT_EQ(attrMaxLength(Attr::To), 96u);
    EXPECT_EQ(attrMaxLength(Attr::RequestUri), 96u);
    EXPECT_EQ(attrMaxLength(Attr::Method), 16u);
    EXPECT_EQ(attrMaxLength(Attr::Contact), 160u);
    EXPECT_EQ(attrMaxLength(Attr::Reason), 64u);
    EXPECT_EQ(attrMaxLength(Attr::UserAgent), 64u);
    EXPECT_EQ(attrMaxLength(Attr::Uas), 64u);
    EXPECT_EQ(attrMaxLength(Attr::Pai1), 160u);
    EXPECT_EQ(attrMaxLength(Attr::Pai2), 96u);
}

// =====================================================================================
// §2.6 verified scenarios, one test per row (timeouts shortened as in §2.6)
// =====================================================================================

// §2.6 row 1: >INVITE <100 <180(tag) <200 >ACK >INVITE(re) <200 >ACK >BYE <200 —
// call-start 200 OK (reply) at the 200; nothing for the re-INVITE; call-end 200 OK (request)
// at the BYE; nothing at the BYE 200. Plus §2.6 "sample observed debug values" and §3.3.
TEST(CallTrackerScenario, Row01_AnsweredCallReInviteBye) {
    TrackerHarness h(shortCfg());
    const Dialog d("row1@10.0.0.1");
    EXPECT_EQ(h.fromCaller(0, d, d.req("INVITE", 1)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCallee(100, d, d.rep(100, 1, "INVITE")), TrackResult::Tracked);
    EXPECT_EQ(h.fromCallee(200, d, d.rep(180, 1, "INVITE", "b1")), TrackResult::Tracked);
    EXPECT_EQ(h.events().size(), 0u);
    EXPECT_EQ(h.fromCallee(300, d, d.rep(200, 1, "INVITE", "b1")), TrackResult::Tracked);
    ASSERT_EQ(h.summary(), Lines{L(300, "call-start", 200, "OK", "reply", d.call_id)});
    {
        const Rec& cs = h.events()[0];
        EXPECT_EQ(test::refStateText(cs.state), "established");
        EXPECT_EQ(cs.prev_state, "init->first invite->first invite->early dialog");
        EXPECT_EQ(cs.msg_trace, ">INVITE<100<180<200");
        EXPECT_EQ(cs.evflags, "call-start");
        EXPECT_EQ(cs.flags, kFlagReused) << "§2.6: call flags `Reused`";
        EXPECT_EQ(cs.previous, EventType::Empty);
        // §3.2 client = the side that sent the creating request; §3.3 attributes.
        EXPECT_EQ(cs.client_ip, "10.0.0.1");
        EXPECT_EQ(cs.client_port, 5060);
        EXPECT_EQ(cs.server_ip, "10.0.0.2");
        EXPECT_EQ(cs.server_port, 5070);
        EXPECT_EQ(cs.method, "INVITE");
        EXPECT_EQ(cs.ruri, "sip:bob@example.com");
        EXPECT_EQ(cs.from, "sip:alice@example.com");
        EXPECT_EQ(cs.to, "sip:bob@example.com");
        EXPECT_EQ(cs.contact, "sip:alice@10.0.0.1:5060");
        EXPECT_EQ(cs.from_tag, "a1");
        EXPECT_EQ(cs.to_tag, "b1");
        EXPECT_EQ(cs.ua, "UAC-1");
        EXPECT_EQ(cs.uas, "UAS-2");
    }
    h.fromCaller(400, d, d.req("ACK", 1, "b1"));
    h.fromCaller(500, d, d.req("INVITE", 2, "b1"));
    h.fromCallee(600, d, d.rep(200, 2, "INVITE", "b1"));
    h.fromCaller(700, d, d.req("ACK", 2, "b1"));
    EXPECT_EQ(h.events().size(), 1u) << "re-INVITE must produce nothing";
    h.fromCaller(800, d, d.req("BYE", 3, "b1"));
    h.fromCallee(900, d, d.rep(200, 3, "BYE", "b1"));
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id),
                                  L(800, "call-end", 200, "OK", "request", d.call_id)}));
    const Rec& ce = h.events()[1];
    EXPECT_EQ(ce.msg_trace, ">INVITE<100<180<200>ACK>INVITE<200>ACK>BYE");
    EXPECT_EQ(ce.evflags, "call-start|call-end");
    EXPECT_EQ(test::refStateText(ce.state), "bye detected");  // §3.3
    EXPECT_EQ(ce.previous, EventType::CallStart);
    // §3.2: the state before each non-retransmitted message.
    EXPECT_EQ(ce.prev_state,
              "init->first invite->first invite->early dialog->established->established->"
              "established->established->established");
    EXPECT_FALSE(ce.hasFlag(kFlagCalleeTerminated));
    EXPECT_EQ(ce.client_ip, "10.0.0.1");
}

// §2.6 row 2: >INVITE <407 >ACK >INVITE(cseq 2) <200 >ACK <BYE(callee) >200 — call-start 200
// (no auth-failed); call-end with Callee_Terminated. The 407 and the 200 carry different
// To-tags as a proxy's stateless 407 does (lab README, assumption 4); §2.7: the retry re-uses
// the negative-reply entry in place (lab: msg_trace ">INVITE<407>ACK>INVITE<100...").
TEST(CallTrackerScenario, Row02_ChallengedInviteAnsweredCalleeBye) {
    TrackerHarness h(shortCfg());
    const Dialog d("row2@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "INVITE", "p1"));
    h.fromCaller(200, d, d.req("ACK", 1, "p1"));
    h.fromCaller(300, d, d.req("INVITE", 2));
    h.fromCallee(400, d, d.rep(200, 2, "INVITE", "b1"));
    h.fromCaller(500, d, d.req("ACK", 2, "b1"));
    h.fromCallee(600, d, d.calleeReq("BYE", 1, "b1"));
    h.fromCaller(700, d, d.callerRep(200, 1, "BYE", "b1"));
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(400, "call-start", 200, "OK", "reply", d.call_id),
                                  L(600, "call-end", 200, "OK", "request", d.call_id)}));
    const Rec& cs = h.events()[0];
    EXPECT_EQ(cs.msg_trace, ">INVITE<407>ACK>INVITE<200");
    EXPECT_FALSE(cs.hasFlag(kFlagForkChild));
    const Rec& ce = h.events()[1];
    EXPECT_TRUE(ce.hasFlag(kFlagCalleeTerminated)) << ce.flags;
    EXPECT_EQ(ce.msg_trace, ">INVITE<407>ACK>INVITE<200>ACK<BYE");
    EXPECT_EQ(ce.client_ip, "10.0.0.1") << "client stays the caller";
}

// §2.6 row 3: >INVITE <407 >ACK then silence — auth-failed 407 at the inv_neg timeout.
TEST(CallTrackerScenario, Row03_LoneChallengeAuthFailedAtTimeout) {
    TrackerHarness h(shortCfg());
    const Dialog d("row3@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "INVITE", "p1"));
    h.fromCaller(200, d, d.req("ACK", 1, "p1"));
    expectNextFiresAt(h, 1200);  // ACK at 200 extends the 1 s inv_neg timer
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(1200, "auth-failed", 407, "Proxy Authentication Required",
                                    "timeout", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "invite negative reply");
    EXPECT_TRUE(h.events()[0].hasFlag(kFlagTimeout));
    EXPECT_FALSE(h.events()[0].hasFlag(kFlagForcedTimeout));
}

// §2.6 row 4: >INVITE <407 >ACK >INVITE <407 — auth-failed 407 immediately (reply).
TEST(CallTrackerScenario, Row04_ChallengedTwiceAuthFailedImmediately) {
    TrackerHarness h(shortCfg());
    const Dialog d("row4@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "INVITE", "p1"));
    h.fromCaller(200, d, d.req("ACK", 1, "p1"));
    h.fromCaller(300, d, d.req("INVITE", 2));
    h.fromCallee(400, d, d.rep(407, 2, "INVITE", "p2"));
    ASSERT_EQ(
        h.summary(),
        (Lines{L(400, "auth-failed", 407, "Proxy Authentication Required", "reply", d.call_id)}));
    h.fromCaller(500, d, d.req("ACK", 2, "p2"));
    h.finish();
    EXPECT_EQ(h.events().size(), 1u) << "nothing else at the timeout";
}

// §2.6 row 5: >INVITE <180 >CANCEL <200(CANCEL) <487 >ACK — call-attempt 487 "Request
// Terminated" at the inv_canceled timeout (§2.3: CANCEL request -> canceled, no event yet).
TEST(CallTrackerScenario, Row05_CancelledCallAttemptAtCanceledTimeout) {
    TrackerHarness h(shortCfg());
    const Dialog d("row5@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("CANCEL", 1));
    h.fromCallee(300, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(400, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(500, d, d.req("ACK", 1, "b1"));
    EXPECT_EQ(h.events().size(), 0u) << "no event before the canceled timeout";
    expectNextFiresAt(h, 1500);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(1500, "call-attempt", 487, "Request Terminated", "timeout", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "canceled");
    EXPECT_EQ(h.events()[0].method, "INVITE");
}

// §2.6 row 6: >INVITE <486 >ACK — call-attempt 486 at the inv_neg timeout.
TEST(CallTrackerScenario, Row06_RejectedCallAttemptAtInvNegTimeout) {
    TrackerHarness h(shortCfg());
    const Dialog d("row6@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(486, 1, "INVITE", "b1"));
    EXPECT_EQ(h.events().size(), 0u) << "§2.4: no event on the negative reply";
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    expectNextFiresAt(h, 1200);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(1200, "call-attempt", 486, "Busy Here", "timeout", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "invite negative reply");
    EXPECT_TRUE(h.events()[0].hasFlag(kFlagTimeout));
    EXPECT_FALSE(h.events()[0].hasFlag(kFlagForcedTimeout));
}

// §2.6 row 7: >INVITE only — call-attempt 408 `internal: call state timeout`, flags
// Timeout|Forced_Timeout.
TEST(CallTrackerScenario, Row07_UnansweredInviteForcedTimeout) {
    TrackerHarness h(shortCfg());
    const Dialog d("row7@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    expectNextFiresAt(h, 1000);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(1000, "call-attempt", 408, kTimeoutReason, "timeout", d.call_id)}));
    EXPECT_EQ(h.events()[0].flags, kFlagTimeout | kFlagForcedTimeout);
    EXPECT_EQ(test::refStateText(h.events()[0].state), "first invite");
}

// §2.6 row 8: >REGISTER <401 >REGISTER <200(expires=60) >REGISTER <200 >REGISTER(expires=0)
// <200 — reg-new 200 at the first 200; refresh: nothing; reg-del 200 at the unregister 200.
// Registrar with a new To-tag in every reply, as verified (§4.6) and as Kamailio does; dbg
// values of the reg-new as the original engine gives them for this flow (lab-mixed-udp).
TEST(CallTrackerScenario, Row08_RegisterAuthRefreshUnregister) {
    TrackerHarness h(shortCfg());
    const Dialog r = registration("row8@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 401, 1, "r1"));
    h.fromCaller(200, r, regReq(r, 2, kC1, 60));
    h.fromCallee(300, r, regRep(r, 200, 2, "r2", {withExpires(kC1, 60)}));
    ASSERT_EQ(h.summary(), (Lines{L(300, "reg-new", 200, "OK", "reply", r.call_id)}));
    {
        const Rec& e = h.events()[0];
        EXPECT_EQ(e.msg_trace, ">REGISTER<401>REGISTER<200");
        EXPECT_EQ(e.prev_state,
                  "init->initial non-invite->non-invite negative reply->non-invite negative "
                  "reply");
        EXPECT_EQ(test::refStateText(e.state), "non-invite finished");
        EXPECT_EQ(e.evflags, "reg-new");
        EXPECT_EQ(e.flags, kFlagReused);
        EXPECT_EQ(e.contact, "sip:alice@10.0.0.1:5060");
        EXPECT_EQ(e.to, "sip:alice@example.com");
    }
    h.fromCaller(400, r, regReq(r, 3, kC1, 60));
    h.fromCallee(500, r, regRep(r, 200, 3, "r3", {withExpires(kC1, 60)}));
    EXPECT_EQ(h.events().size(), 1u) << "refresh must be silent";
    h.fromCaller(600, r, regReq(r, 4, withExpires(kC1, 0), 0));
    h.fromCallee(700, r, regRep(r, 200, 4, "r4", {withExpires(kC1, 0)}));
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(300, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(700, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// §2.6 row 8 again with a registrar that keeps one To-tag: same events.
TEST(CallTrackerScenario, Row08_RegisterAuthRefreshUnregisterSameToTag) {
    TrackerHarness h(shortCfg());
    const Dialog r = registration("row8b@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 401, 1, "r1"));
    h.fromCaller(200, r, regReq(r, 2, kC1, 60));
    h.fromCallee(300, r, regRep(r, 200, 2, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(400, r, regReq(r, 3, kC1, 60));
    h.fromCallee(500, r, regRep(r, 200, 3, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(600, r, regReq(r, 4, withExpires(kC1, 0), 0));
    h.fromCallee(700, r, regRep(r, 200, 4, "r1", {withExpires(kC1, 0)}));
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(300, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(700, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// §2.6 row 9: >REGISTER <200(expires=2) with reg_exp_delta=0 — reg-new, then reg-expired
// (status 200, reason OK) 2 s later.
TEST(CallTrackerScenario, Row09_RegisterExpiresWithoutDelta) {
    TrackerConfig cfg = shortCfg();
    cfg.reg_exp_delta_s = 0;
    TrackerHarness h(cfg);
    const Dialog r = registration("row9@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 2));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 2)}));
    expectNextFiresAt(h, 2100);
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(2100, "reg-expired", 200, "OK", "timeout", r.call_id)}));
    EXPECT_EQ(h.events()[1].previous, EventType::RegNew);
    EXPECT_EQ(h.events()[1].evflags, "reg-new|reg-expired");
    EXPECT_TRUE(h.events()[1].hasFlag(kFlagTimeout));
}

// §2.6 row 10: OPTIONS->200 / OPTIONS->404 / OPTIONS no reply / MESSAGE->407 — other-ok 200,
// other-failed 404, other-timeout 408, auth-failed 407, all at the state timeouts.
TEST(CallTrackerScenario, Row10_NonInviteOutcomesAtStateTimeouts) {
    TrackerHarness h(shortCfg());
    const Dialog o1("row10-ok"), o2("row10-404"), o3("row10-none"), m1("row10-msg");
    h.fromCaller(0, o1, o1.req("OPTIONS", 1));
    h.fromCallee(100, o1, o1.rep(200, 1, "OPTIONS", "t1"));
    h.fromCaller(2000, o2, o2.req("OPTIONS", 1));
    h.fromCallee(2100, o2, o2.rep(404, 1, "OPTIONS", "t2"));
    h.fromCaller(4000, o3, o3.req("OPTIONS", 1));
    h.fromCaller(6000, m1, m1.req("MESSAGE", 1));
    h.fromCallee(6100, m1, m1.rep(407, 1, "MESSAGE", "t4"));
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(1100, "other-ok", 200, "OK", "timeout", o1.call_id),
                     L(3100, "other-failed", 404, "Not Found", "timeout", o2.call_id),
                     L(5000, "other-timeout", 408, kTimeoutReason, "timeout", o3.call_id),
                     L(7100, "auth-failed", 407, "Proxy Authentication Required", "timeout",
                       m1.call_id)}));
}

// §2.6 row 11: >BYE <200 only — call-end 291 `internal: implied OK`, method BYE.
TEST(CallTrackerScenario, Row11_ByeWithoutInvite) {
    TrackerHarness h(shortCfg());
    const Dialog d("row11@10.0.0.1");
    h.fromCaller(0, d, d.req("BYE", 1, "b1"));
    h.fromCallee(100, d, d.rep(200, 1, "BYE", "b1"));
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(0, "call-end", 291, "internal: implied OK", "request", d.call_id)}));
    EXPECT_EQ(h.events()[0].method, "BYE");
    EXPECT_EQ(test::refStateText(h.events()[0].state), "bye detected");
}

// §2.6 row 12: >INVITE <180(tagA) <180(tagB) <200(tagB) <487(tagA) — one call-start (on the
// forked child entry); the branch-A call-attempt is suppressed.
TEST(CallTrackerScenario, Row12_ParallelForkOneAnswered) {
    TrackerHarness h(shortCfg());
    const Dialog d("row12@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "tagA"));
    h.fromCallee(200, d, d.rep(180, 1, "INVITE", "tagB"));
    h.fromCallee(300, d, d.rep(200, 1, "INVITE", "tagB"));
    h.fromCallee(400, d, d.rep(487, 1, "INVITE", "tagA"));
    h.advance(5000);  // well past branch A's inv_neg timeout (1400)
    ASSERT_EQ(h.summary(), (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id)}));
    EXPECT_TRUE(h.events()[0].hasFlag(kFlagForkChild)) << h.events()[0].flags;
    EXPECT_EQ(h.events()[0].to_tag, "tagB");
    // The answered branch then ends like row 13 (established timeout from its 200).
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id),
                     L(10300, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
}

// §2.6 row 13: >INVITE <200 >ACK then silence (inv_established=10 s) — call-end 408
// `internal: call state timeout` after 10 s (§2.5: Forced_Timeout, timeout-terminated).
TEST(CallTrackerScenario, Row13_EstablishedCallTimesOut) {
    TrackerHarness h(shortCfg());
    const Dialog d("row13@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    expectNextFiresAt(h, 10200);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(100, "call-start", 200, "OK", "reply", d.call_id),
                     L(10200, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
    EXPECT_TRUE(h.events()[1].hasFlag(kFlagTimeout | kFlagForcedTimeout)) << h.events()[1].flags;
    EXPECT_EQ(h.events()[1].previous, EventType::CallStart);
}

// §2.6 row 14 (a): <200 INVITE only — call-start 200, src/dst swapped back so client = caller,
// method from CSeq, no R-URI/UA (§4.4, §4.8).
TEST(CallTrackerScenario, Row14a_InviteReplyOnly) {
    TrackerHarness h(shortCfg());
    const Dialog d("row14a@10.0.0.1");
    EXPECT_EQ(h.fromCallee(0, d, d.rep(200, 1, "INVITE", "b1")), TrackResult::Tracked);
    h.advance(5000);
    ASSERT_EQ(h.summary(), (Lines{L(0, "call-start", 200, "OK", "reply", d.call_id)}));
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.client_ip, "10.0.0.1");
    EXPECT_EQ(e.client_port, 5060);
    EXPECT_EQ(e.server_ip, "10.0.0.2");
    EXPECT_EQ(e.server_port, 5070);
    EXPECT_EQ(e.method, "INVITE");
    EXPECT_EQ(e.ruri, "");
    EXPECT_EQ(e.ua, "");
    EXPECT_EQ(e.uas, "UAS-2");
    EXPECT_EQ(e.msg_trace, "<200");
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(0, "call-start", 200, "OK", "reply", d.call_id),
                     L(10000, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
}

// §2.6 row 14 (b) and §4.6: <200 REGISTER(expires=1) only — reg-new then reg-expired after
// exactly 1 s (no reg_exp_delta, which stays at its default 30 s here).
TEST(CallTrackerScenario, Row14b_RegisterReplyOnly) {
    TrackerHarness h(shortCfg());
    const Dialog r = registration("row14b@10.0.0.1");
    h.fromCallee(0, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 1)}));
    ASSERT_EQ(h.summary(), (Lines{L(0, "reg-new", 200, "OK", "reply", r.call_id)}));
    EXPECT_EQ(h.events()[0].contact, "sip:alice@10.0.0.1:5060");
    EXPECT_EQ(h.events()[0].client_ip, "10.0.0.1");
    expectNextFiresAt(h, 1000);
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(0, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(1000, "reg-expired", 200, "OK", "timeout", r.call_id)}));
}

// §2.6 row 14 (c): >INFO(to-tag) <200 — other-ok for the INFO (§2.3: in-dialog non-INVITE in
// init -> initial non-invite).
TEST(CallTrackerScenario, Row14c_InDialogInfoOnly) {
    TrackerHarness h(shortCfg());
    const Dialog d("row14c@10.0.0.1");
    h.fromCaller(0, d, d.req("INFO", 5, "b1"));
    h.fromCallee(100, d, d.rep(200, 5, "INFO", "b1"));
    expectNextFiresAt(h, 1100);
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(1100, "other-ok", 200, "OK", "timeout", d.call_id)}));
    EXPECT_EQ(h.events()[0].method, "INFO");
}

// =====================================================================================
// §2.3 requests, §2.4 replies, §3.2/§4.7 dbg formats
// =====================================================================================

// §2.3 request retransmission (same CSeq, not ACK/CANCEL): no state change, req_retr
// counted; §4.7/§3.2 `{n}` folds into the previous record only when that record is the same
// message (lab: ">INVITE<100>INVITE<180{1}<200"), and the state trace skips retransmissions.
TEST(CallTrackerRequest, RetransmissionsFoldOnlyIntoSameRecord) {
    TrackerHarness h(defaultCfg());
    const Dialog d("retr@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCaller(100, d, d.req("INVITE", 1));  // retransmission, previous record = >INVITE
    h.fromCallee(200, d, d.rep(100, 1, "INVITE"));
    h.fromCaller(300, d, d.req("INVITE", 1));  // retransmission, previous record = <100
    h.fromCallee(400, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCallee(500, d, d.rep(180, 1, "INVITE", "b1"));  // reply retransmission
    h.fromCallee(600, d, d.rep(200, 1, "INVITE", "b1"));
    ASSERT_EQ(h.summary(), (Lines{L(600, "call-start", 200, "OK", "reply", d.call_id)}));
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.msg_trace, ">INVITE{1}<100>INVITE<180{1}<200");
    EXPECT_EQ(e.prev_state, "init->first invite->first invite->early dialog");
    EXPECT_EQ(e.req_no[0], 1);
    EXPECT_EQ(e.req_retr[0], 2);
    EXPECT_EQ(e.repl_no[0], 3);
    EXPECT_EQ(e.repl_retr[0], 1);
}

// §2.3: a request with CSeq below the highest seen is a retransmission (not folded: the
// previous record is a reply); ACK with the INVITE's CSeq is not one.
TEST(CallTrackerRequest, OlderCSeqIsRetransmissionAckIsNot) {
    TrackerHarness h(defaultCfg());
    const Dialog d("oldcseq@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    h.fromCaller(300, d, d.req("INFO", 3, "b1"));
    h.fromCallee(400, d, d.rep(200, 3, "INFO", "b1"));
    h.fromCaller(500, d, d.req("INFO", 2, "b1"));  // CSeq 2 < 3: retransmission
    h.fromCaller(600, d, d.req("BYE", 4, "b1"));
    ASSERT_EQ(h.summary(), (Lines{L(100, "call-start", 200, "OK", "reply", d.call_id),
                                  L(600, "call-end", 200, "OK", "request", d.call_id)}));
    const Rec& e = h.events()[1];
    EXPECT_EQ(e.msg_trace, ">INVITE<200>ACK>INFO<200>INFO>BYE");
    EXPECT_EQ(e.req_no[0], 4);
    EXPECT_EQ(e.req_retr[0], 1);
    EXPECT_EQ(e.prev_state,
              "init->first invite->established->established->established->established");
}

// §2.4 reply retransmission: same CSeq as the last reply with status <= last status; a
// repeated 2xx gives no second call-start and folds as `{1}`; a late 180 after the 200 is a
// retransmission too (new record, previous one differs).
TEST(CallTrackerReply, ReplyRetransmissions) {
    TrackerHarness h(defaultCfg());
    const Dialog d("replretr@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCallee(200, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCallee(300, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCallee(400, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(500, d, d.req("ACK", 1, "b1"));
    h.fromCaller(600, d, d.req("BYE", 2, "b1"));
    ASSERT_EQ(h.summary(), (Lines{L(200, "call-start", 200, "OK", "reply", d.call_id),
                                  L(600, "call-end", 200, "OK", "request", d.call_id)}));
    const Rec& e = h.events()[1];
    EXPECT_EQ(e.msg_trace, ">INVITE<180<200{1}<180>ACK>BYE");
    EXPECT_EQ(e.repl_no[0], 2);
    EXPECT_EQ(e.repl_retr[0], 2);
}

// §2.3: PRACK and UPDATE requests are always treated like retransmissions; §2.4: replies to
// PRACK/UPDATE are ignored; §2.3: NOTIFY in early dialog is ignored. The early dialog then
// times out (extended by each of those messages) with a 408 call-attempt.
TEST(CallTrackerRequest, PrackUpdateNotifyInEarlyDialogIgnored) {
    TrackerHarness h(defaultCfg());
    const Dialog d("prack@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(183, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("PRACK", 2, "b1"));
    h.fromCallee(300, d, d.rep(200, 2, "PRACK", "b1"));
    h.fromCaller(400, d, d.req("UPDATE", 3, "b1"));
    h.fromCallee(500, d, d.rep(200, 3, "UPDATE", "b1"));
    h.fromCaller(600, d, d.req("NOTIFY", 4, "b1"));
    EXPECT_EQ(h.events().size(), 0u) << "no call-start from PRACK/UPDATE/NOTIFY or their 2xx";
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(180600, "call-attempt", 408, kTimeoutReason, "timeout", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "early dialog");
    EXPECT_EQ(h.events()[0].req_retr[0], 2) << "PRACK and UPDATE count as retransmissions";
}

// §2.3 BYE: call-end on the BYE request; a BYE from the callee (direction 1) sets
// Callee_Terminated (512, sip.originator callee-terminated); a caller BYE does not.
TEST(CallTrackerRequest, ByeFromCalleeSetsCalleeTerminated) {
    TrackerHarness h(defaultCfg());
    const Dialog a("bye-callee@10.0.0.1"), b("bye-caller@10.0.0.1");
    h.fromCaller(0, a, a.req("INVITE", 1));
    h.fromCallee(100, a, a.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, a, a.req("ACK", 1, "b1"));
    h.fromCaller(300, b, b.req("INVITE", 1));
    h.fromCallee(400, b, b.rep(200, 1, "INVITE", "b2"));
    h.fromCaller(500, b, b.req("ACK", 1, "b2"));
    h.fromCallee(1000, a, a.calleeReq("BYE", 1, "b1"));
    h.fromCaller(1100, a, a.callerRep(200, 1, "BYE", "b1"));
    h.fromCaller(2000, b, b.req("BYE", 2, "b2"));
    h.fromCallee(2100, b, b.rep(200, 2, "BYE", "b2"));
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(100, "call-start", 200, "OK", "reply", a.call_id),
                                  L(400, "call-start", 200, "OK", "reply", b.call_id),
                                  L(1000, "call-end", 200, "OK", "request", a.call_id),
                                  L(2000, "call-end", 200, "OK", "request", b.call_id)}));
    EXPECT_TRUE(h.events()[2].hasFlag(kFlagCalleeTerminated)) << h.events()[2].flags;
    EXPECT_EQ(h.events()[2].client_ip, "10.0.0.1");
    EXPECT_FALSE(h.events()[3].hasFlag(kFlagCalleeTerminated)) << h.events()[3].flags;
}

// §2.1 one event per type per entry: a retransmitted BYE, the BYE reply and the bye timeout
// all de-duplicate to the one call-end of the BYE request.
TEST(CallTrackerRequest, ByeRetransmissionReplyAndTimeoutGiveOneCallEnd) {
    TrackerHarness h(defaultCfg());
    const Dialog d("byedup@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    h.fromCaller(300, d, d.req("BYE", 2, "b1"));
    h.fromCaller(400, d, d.req("BYE", 2, "b1"));
    h.fromCallee(500, d, d.rep(200, 2, "BYE", "b1"));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "call-start", 200, "OK", "reply", d.call_id),
                                  L(300, "call-end", 200, "OK", "request", d.call_id)}));
}

// §2.3 other methods in-dialog, state early dialog: an in-dialog request other than
// ACK/NOTIFY/UPDATE/PRACK -> established + call-start; §2.5 Fill(): status < 200 -> 290
// `internal: implied OK`. The 2xx seen later is ignored (§2.4 "in established: ignored").
TEST(CallTrackerRequest, InDialogRequestInEarlyDialogImpliesCallStart) {
    TrackerHarness h(defaultCfg());
    const Dialog d("implied-early@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("INFO", 2, "b1"));
    ASSERT_EQ(h.summary(),
              (Lines{L(200, "call-start", 290, "internal: implied OK", "request", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "established");
    h.fromCallee(300, d, d.rep(200, 2, "INFO", "b1"));
    h.fromCallee(400, d, d.rep(200, 1, "INVITE", "b1"));
    EXPECT_EQ(h.events().size(), 1u) << "no second call-start for the late 2xx";
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(200, "call-start", 290, "internal: implied OK", "request", d.call_id),
                     L(3600400, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
}

// §2.3: the same in state first invite (the in-dialog request fills the To-tag, §2.7).
TEST(CallTrackerRequest, InDialogRequestInFirstInviteImpliesCallStart) {
    TrackerHarness h(defaultCfg());
    const Dialog d("implied-first@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCaller(100, d, d.req("REFER", 2, "b1"));
    EXPECT_EQ(h.summary(),
              (Lines{L(100, "call-start", 290, "internal: implied OK", "request", d.call_id)}));
}

// §2.3 state init, in-dialog INVITE (re-INVITE of a call whose INVITE was missed) ->
// established + call-start (290, §2.5 Fill()).
TEST(CallTrackerRequest, InDialogInviteInInitImpliesCallStart) {
    TrackerHarness h(defaultCfg());
    const Dialog d("reinv-init@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 7, "b1"));
    ASSERT_EQ(h.summary(),
              (Lines{L(0, "call-start", 290, "internal: implied OK", "request", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "established");
}

// §2.2 "any in-dialog message on an established call pushes the call's expiry to
// now+3600 s": INFO 1000 s into the call moves the timeout call-end from 3600.2 s to
// 4600.1 s (its 200 at 1000.1 s extends again).
TEST(CallTrackerRequest, InDialogMessagePushesEstablishedTimeout) {
    TrackerHarness h(defaultCfg());
    const Dialog d("refresh@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    h.fromCaller(1'000'000, d, d.req("INFO", 2, "b1"));
    h.fromCallee(1'000'100, d, d.rep(200, 2, "INFO", "b1"));
    h.advance(3'600'200 + 1000);
    EXPECT_EQ(h.events().size(), 1u) << "the original 3600 s expiry must have been pushed";
    expectNextFiresAt(h, 4'600'100);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(100, "call-start", 200, "OK", "reply", d.call_id),
                     L(4'600'100, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
    EXPECT_TRUE(h.events()[1].hasFlag(kFlagForcedTimeout));
}

// =====================================================================================
// §2.4 / §2.5 CANCEL and authentication
// =====================================================================================

// §2.3 CANCEL request in early dialog -> canceled, no event; 200(CANCEL) and 487 keep it;
// call-attempt with the INVITE's final status 487 `Request Terminated` at the inv_canceled
// timeout (5 s) after the last message (lab README: sipbeat's cancelled calls).
TEST(CallTrackerCancel, CancelRequestThen200And487) {
    TrackerHarness h(defaultCfg());
    const Dialog d("cancel@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(100, 1, "INVITE"));
    h.fromCallee(200, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(1000, d, d.req("CANCEL", 1));
    h.fromCallee(1100, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(1200, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(1300, d, d.req("ACK", 1, "b1"));
    EXPECT_EQ(h.events().size(), 0u);
    expectNextFiresAt(h, 6300);
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(6300, "call-attempt", 487, "Request Terminated", "timeout", d.call_id)}));
    EXPECT_EQ(h.events()[0].method, "INVITE");
}

// §2.3 CANCEL request in first invite (only a tag-less 100 seen) -> canceled, same outcome.
TEST(CallTrackerCancel, CancelRequestInFirstInvite) {
    TrackerHarness h(defaultCfg());
    const Dialog d("cancel-1st@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(100, 1, "INVITE"));
    h.fromCaller(1000, d, d.req("CANCEL", 1));
    h.fromCallee(1100, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(1200, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(1300, d, d.req("ACK", 1, "b1"));
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(6300, "call-attempt", 487, "Request Terminated", "timeout", d.call_id)}));
}

// Lab README "Settled by the original engine", difference 1: the proxy's 200 to the CANCEL
// carries the proxy's own new To-tag; sipbeat must NOT fork on it: one entry, and the
// call-attempt is 487 `Request Terminated`, method INVITE, at the inv_canceled timeout.
TEST(CallTrackerCancel, ProxyCancelReplyWithNewToTagDoesNotFork) {
    TrackerHarness h(defaultCfg());
    Dialog d("cancel-proxy@10.0.0.1");
    d.callee = {{10, 0, 0, 3}, 5060};  // the proxy
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(100, 1, "INVITE"));
    h.fromCallee(200, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(1000, d, d.req("CANCEL", 1));
    h.fromCallee(1100, d, d.rep(200, 1, "CANCEL", "proxy-own-tag"));
    EXPECT_EQ(h.tracker().entries(), 1u) << "no forked entry for the 200 to CANCEL";
    EXPECT_EQ(h.events().size(), 0u) << "no immediate call-attempt (status 200, CANCEL)";
    h.fromCallee(1200, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(1300, d, d.req("ACK", 1, "b1"));
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(6300, "call-attempt", 487, "Request Terminated", "timeout", d.call_id)}));
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.method, "INVITE");
    EXPECT_FALSE(e.hasFlag(kFlagForkParent)) << e.flags;
    EXPECT_FALSE(e.hasFlag(kFlagForkChild)) << e.flags;
}

// §2.4 reply to CANCEL in early dialog, CANCEL request not seen -> canceled + call-attempt
// immediately; §2.5 Fill(): status < 200 in state canceled -> 487 `internal: cancel`.
TEST(CallTrackerCancel, CancelReplyFirstGivesImmediateCallAttempt) {
    TrackerHarness h(defaultCfg());
    const Dialog d("cancel-repl@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCallee(1000, d, d.rep(200, 1, "CANCEL", "b1"));
    ASSERT_EQ(h.summary(),
              (Lines{L(1000, "call-attempt", 487, "internal: cancel", "reply", d.call_id)}));
    EXPECT_EQ(test::refStateText(h.events()[0].state), "canceled");
    h.fromCallee(1100, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(1200, d, d.req("ACK", 1, "b1"));
    h.finish();
    EXPECT_EQ(h.events().size(), 1u) << "call-attempt once (§2.1, §2.7)";
}

// §2.7 / §13 quirk 12: a 2xx arriving after the CANCEL moved the entry to canceled is
// ignored: no call-start, only the call-attempt at the canceled timeout.
TEST(CallTrackerCancel, TwoXXAfterCancelIsIgnored) {
    TrackerHarness h(defaultCfg());
    const Dialog d("cancel-2xx@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(1000, d, d.req("CANCEL", 1));
    h.fromCallee(1100, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(1200, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(1300, d, d.req("ACK", 1, "b1"));
    h.finish();
    ASSERT_EQ(h.events().size(), 1u);
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.type, EventType::CallAttempt) << summarize(e);
    EXPECT_EQ(e.gen, EventGen::Timeout);
    EXPECT_EQ(e.ms(), 6300);
}

// §2.4 last bullet: every reply to the creating method updates the status and reason, so
// the ignored 2xx of the previous test still is the INVITE's last final status: the
// call-attempt carries 200 `OK` (Fill() only rewrites statuses < 200).
TEST(CallTrackerCancel, TwoXXAfterCancelStillSetsStatus) {
    TrackerHarness h(defaultCfg());
    const Dialog d("cancel-2xx-st@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(1000, d, d.req("CANCEL", 1));
    h.fromCallee(1100, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(1200, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(1300, d, d.req("ACK", 1, "b1"));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(6300, "call-attempt", 200, "OK", "timeout", d.call_id)}));
}

// §2.4 401/407: the retried request challenged again -> auth-failed immediately, here for
// REGISTER as in lab-authflood (two 401s with different To-tags), with the original engine's
// dbg values for that flow.
TEST(CallTrackerAuth, RegisterChallengedTwiceAuthFailedImmediately) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("authflood@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 3600));
    h.fromCallee(100, r, regRep(r, 401, 1, "r1"));
    h.fromCaller(200, r, regReq(r, 2, kC1, 3600));
    h.fromCallee(300, r, regRep(r, 401, 2, "r2"));
    ASSERT_EQ(h.summary(), (Lines{L(300, "auth-failed", 401, "Unauthorized", "reply", r.call_id)}));
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.msg_trace, ">REGISTER<401>REGISTER<401");
    EXPECT_EQ(e.prev_state,
              "init->initial non-invite->non-invite negative reply->non-invite negative reply");
    EXPECT_EQ(test::refStateText(e.state), "non-invite negative reply");
    EXPECT_EQ(e.evflags, "auth-failed");
    EXPECT_EQ(e.flags, kFlagReused);
    EXPECT_EQ(e.method, "REGISTER");
    h.finish();
    EXPECT_EQ(h.events().size(), 1u);
}

// §2.5: a lone 401 that is never retried produces auth-failed at the non_inv_neg timeout.
TEST(CallTrackerAuth, LoneRegister401AuthFailedAtTimeout) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("lone401@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 3600));
    h.fromCallee(100, r, regRep(r, 401, 1, "r1"));
    expectNextFiresAt(h, 5100);
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(5100, "auth-failed", 401, "Unauthorized", "timeout", r.call_id)}));
}

// §2.5: a retry that succeeds produces no auth-failed (MESSAGE 407 -> MESSAGE -> 200).
TEST(CallTrackerAuth, RetryThatSucceedsHasNoAuthFailed) {
    TrackerHarness h(defaultCfg());
    const Dialog d("msg-retry@10.0.0.1");
    h.fromCaller(0, d, d.req("MESSAGE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "MESSAGE", "p1"));
    h.fromCaller(200, d, d.req("MESSAGE", 2));
    h.fromCallee(300, d, d.rep(200, 2, "MESSAGE", "p2"));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(5300, "other-ok", 200, "OK", "timeout", d.call_id)}));
}

// §2.5: REGISTER rejected with a non-auth error -> other-failed at non_inv_neg.
TEST(CallTrackerAuth, Register403IsOtherFailed) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("reg403@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 3600));
    h.fromCallee(100, r, regRep(r, 403, 1, "r1"));
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(5100, "other-failed", 403, "Forbidden", "timeout", r.call_id)}));
}

// §2.5: REGISTER never answered -> other-timeout 408 `internal: call state timeout` at
// non_inv_1st (30 s).
TEST(CallTrackerAuth, RegisterNeverAnsweredIsOtherTimeout) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("regnone@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 3600));
    expectNextFiresAt(h, 30000);
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(30000, "other-timeout", 408, kTimeoutReason, "timeout", r.call_id)}));
}

// §2.1: each entry emits a type once — a third challenge after the auth-failed, and the
// timeout in invite negative reply, give no second auth-failed.
TEST(CallTrackerAuth, OneAuthFailedPerEntry) {
    TrackerHarness h(defaultCfg());
    const Dialog d("auth-once@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "INVITE", "p1"));
    h.fromCaller(200, d, d.req("ACK", 1, "p1"));
    h.fromCaller(300, d, d.req("INVITE", 2));
    h.fromCallee(400, d, d.rep(407, 2, "INVITE", "p2"));
    h.fromCaller(500, d, d.req("ACK", 2, "p2"));
    h.fromCaller(600, d, d.req("INVITE", 3));
    h.fromCallee(700, d, d.rep(407, 3, "INVITE", "p3"));
    h.fromCaller(800, d, d.req("ACK", 3, "p3"));
    h.finish();
    EXPECT_EQ(
        h.summary(),
        (Lines{L(400, "auth-failed", 407, "Proxy Authentication Required", "reply", d.call_id)}));
}

// =====================================================================================
// §2.7 forking
// =====================================================================================

// §2.7: call-start is not de-duplicated across branches: two branches answering 2xx give two
// call-starts (parent Fork_Parent, child Fork_Child).
TEST(CallTrackerFork, TwoAnsweredBranchesGiveTwoCallStarts) {
    TrackerHarness h(defaultCfg());
    const Dialog d("fork2xx@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "tagA"));
    h.fromCallee(200, d, d.rep(180, 1, "INVITE", "tagB"));
    h.fromCallee(300, d, d.rep(200, 1, "INVITE", "tagA"));
    h.fromCallee(400, d, d.rep(200, 1, "INVITE", "tagB"));
    ASSERT_EQ(h.summary(), (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id),
                                  L(400, "call-start", 200, "OK", "reply", d.call_id)}));
    EXPECT_EQ(h.events()[0].to_tag, "tagA");
    EXPECT_TRUE(h.events()[0].hasFlag(kFlagForkParent)) << h.events()[0].flags;
    EXPECT_EQ(h.events()[1].to_tag, "tagB");
    EXPECT_TRUE(h.events()[1].hasFlag(kFlagForkChild)) << h.events()[1].flags;
    EXPECT_EQ(h.tracker().entries(), 2u);
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id),
                     L(400, "call-start", 200, "OK", "reply", d.call_id),
                     L(3'600'300, "call-end", 408, kTimeoutReason, "timeout", d.call_id),
                     L(3'600'400, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
}

// §2.7: call-attempt is reported once per Call-ID: both branches rejected -> one
// call-attempt, from the branch whose inv_neg timer runs out first.
TEST(CallTrackerFork, CallAttemptOncePerCallId) {
    TrackerHarness h(defaultCfg());
    const Dialog d("forkneg@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "tagA"));
    h.fromCallee(200, d, d.rep(180, 1, "INVITE", "tagB"));
    h.fromCallee(300, d, d.rep(486, 1, "INVITE", "tagA"));
    h.fromCallee(400, d, d.rep(603, 1, "INVITE", "tagB"));
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(30300, "call-attempt", 486, "Busy Here", "timeout", d.call_id)}));
}

// §2.7 / §4.3: a Call-ID-only match (different From-tag) re-uses a negative-reply entry in
// place when its status was 401/407 (UAs that change the From-tag when re-sending after a
// challenge): one entry, one call-start, and the challenged entry gives no auth-failed.
TEST(CallTrackerFork, NewFromTagAfterChallengeReusesEntry) {
    TrackerHarness h(defaultCfg());
    const Dialog d("newftag@10.0.0.1");
    Dialog d2 = d;
    d2.caller_tag = "a2";
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(407, 1, "INVITE", "p1"));
    h.fromCaller(200, d, d.req("ACK", 1, "p1"));
    h.fromCaller(300, d2, d2.req("INVITE", 2));
    h.fromCallee(400, d2, d2.rep(200, 2, "INVITE", "b1"));
    EXPECT_EQ(h.tracker().entries(), 1u);
    ASSERT_EQ(h.summary(), (Lines{L(400, "call-start", 200, "OK", "reply", d.call_id)}));
    EXPECT_EQ(h.events()[0].from_tag, "a2");
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(400, "call-start", 200, "OK", "reply", d.call_id),
                     L(3'600'400, "call-end", 408, kTimeoutReason, "timeout", d.call_id)}));
}

// §2.7: a 100 with a To-tag matching partially never forks.
TEST(CallTrackerFork, HundredWithNewToTagNeverForks) {
    TrackerHarness h(defaultCfg());
    const Dialog d("100tag@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "tagA"));
    h.fromCallee(200, d, d.rep(100, 1, "INVITE", "tagB"));
    EXPECT_EQ(h.tracker().entries(), 1u);
    h.fromCallee(300, d, d.rep(200, 1, "INVITE", "tagA"));
    EXPECT_EQ(h.summary(), (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id)}));
    EXPECT_EQ(h.tracker().entries(), 1u);
}

// §2.7: a To-tag-less message partially matching an early entry is absorbed into it (here
// an INVITE retransmission after the 180 with tag): no new entry.
TEST(CallTrackerFork, ToTaglessMessageAbsorbedByEarlyDialog) {
    TrackerHarness h(defaultCfg());
    const Dialog d("absorb@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("INVITE", 1));
    EXPECT_EQ(h.tracker().entries(), 1u);
    h.fromCallee(300, d, d.rep(200, 1, "INVITE", "b1"));
    ASSERT_EQ(h.summary(), (Lines{L(300, "call-start", 200, "OK", "reply", d.call_id)}));
    EXPECT_EQ(h.events()[0].msg_trace, ">INVITE<180>INVITE<200");
    EXPECT_EQ(h.events()[0].req_retr[0], 1);
}

// §2.4 2xx in invite negative reply: "a 2xx after a negative reply of another branch is
// accepted" -> established + call-start, and no call-attempt afterwards.
TEST(CallTrackerReply, TwoXXAfterNegativeReplyOfAnotherBranch) {
    TrackerHarness h(defaultCfg());
    const Dialog d("neg-then-2xx@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(486, 1, "INVITE", "tagA"));
    h.fromCallee(200, d, d.rep(200, 1, "INVITE", "tagB"));
    ASSERT_EQ(h.summary(), (Lines{L(200, "call-start", 200, "OK", "reply", d.call_id)}));
    h.advance(100'000);  // past every inv_neg timeout
    EXPECT_EQ(h.events().size(), 1u) << ::testing::PrintToString(h.summary());
}

// §2.4 final >= 300 in init (request not seen): INVITE -> invite negative reply (call-attempt
// at inv_neg), other -> non-invite negative reply (other-failed at non_inv_neg); §4.4
// endpoints swapped back.
TEST(CallTrackerReply, NegativeReplyWithoutRequest) {
    TrackerHarness h(defaultCfg());
    const Dialog i("neg-alone-inv"), o("neg-alone-opt");
    h.fromCallee(0, i, i.rep(486, 1, "INVITE", "b1"));
    h.fromCallee(1000, o, o.rep(404, 1, "OPTIONS", "b2"));
    h.finish();
    ASSERT_EQ(h.summary(),
              (Lines{L(6000, "other-failed", 404, "Not Found", "timeout", "neg-alone-opt"),
                     L(30'000, "call-attempt", 486, "Busy Here", "timeout", "neg-alone-inv")}));
    EXPECT_EQ(h.events()[1].client_ip, "10.0.0.1");
    EXPECT_EQ(h.events()[1].server_ip, "10.0.0.2");
    EXPECT_EQ(h.events()[1].method, "INVITE");
}

// §2.3 BYE "in other states: ignored": a BYE on a canceled call gives no call-end.
TEST(CallTrackerRequest, ByeInCanceledStateIgnored) {
    TrackerHarness h(defaultCfg());
    const Dialog d("bye-canceled@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(180, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("CANCEL", 1));
    h.fromCallee(300, d, d.rep(200, 1, "CANCEL", "b1"));
    h.fromCallee(400, d, d.rep(487, 1, "INVITE", "b1"));
    h.fromCaller(500, d, d.req("ACK", 1, "b1"));
    h.fromCaller(600, d, d.req("BYE", 2, "b1"));
    h.fromCallee(700, d, d.rep(200, 2, "BYE", "b1"));
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(5700, "call-attempt", 487, "Request Terminated", "timeout", d.call_id)}));
}

// §2.3 P-Asserted-Identity: the first two PAI URIs of every non-REGISTER/ACK/PRACK/UPDATE
// request from the caller overwrite sip.pai1/sip.pai2; ACK and callee requests do not.
TEST(CallTrackerRequest, PaiOverwrittenByCallerRequests) {
    TrackerHarness h(defaultCfg());
    const Dialog d("pai@10.0.0.1");
    h.fromCaller(
        0, d,
        d.req("INVITE", 1).header("P-Asserted-Identity: <sip:first@example.com>, <tel:+4930111>"));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    ASSERT_EQ(h.events().size(), 1u);
    EXPECT_EQ(h.events()[0].pai1, "sip:first@example.com");
    EXPECT_EQ(h.events()[0].pai2, "tel:+4930111");
    h.fromCaller(200, d,
                 d.req("ACK", 1, "b1").header("P-Asserted-Identity: <sip:ack@example.com>"));
    h.fromCaller(300, d,
                 d.req("INVITE", 2, "b1")
                     .header("P-Asserted-Identity: \"New\" <sip:new1@example.com>")
                     .header("P-Asserted-Identity: <sip:new2@example.com>"));
    h.fromCallee(400, d, d.rep(200, 2, "INVITE", "b1"));
    h.fromCaller(500, d, d.req("ACK", 2, "b1"));
    h.fromCallee(600, d,
                 d.calleeReq("BYE", 1, "b1").header("P-Asserted-Identity: <sip:bob@example.com>"));
    ASSERT_EQ(h.summary(), (Lines{L(100, "call-start", 200, "OK", "reply", d.call_id),
                                  L(600, "call-end", 200, "OK", "request", d.call_id)}));
    EXPECT_EQ(h.events()[1].pai1, "sip:new1@example.com");
    EXPECT_EQ(h.events()[1].pai2, "sip:new2@example.com");
}

// =====================================================================================
// §4.6 registrations (default timeouts, reg_exp_delta 30 s)
// =====================================================================================

// §4.6: reg-new with timeout expires + reg_exp_delta; a refresh on the same Call-ID is
// silent and force-sets the timer again; reg-expired at the refresh + 60 s + 30 s.
TEST(CallTrackerRegistration, RefreshIsSilentAndMovesExpiry) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("refresh@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(10'000, r, regReq(r, 2, kC1, 60));
    h.fromCallee(10'100, r, regRep(r, 200, 2, "r1", {withExpires(kC1, 60)}));
    EXPECT_EQ(h.events().size(), 1u);
    expectNextFiresAt(h, 100'100);
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(100'100, "reg-expired", 200, "OK", "timeout", r.call_id)}));
}

// §4.6: reg-expired at expires + reg_exp_delta (configurable).
TEST(CallTrackerRegistration, RegExpiredAtExpiresPlusDelta) {
    for (int64_t delta : {30, 7}) {
        SCOPED_TRACE("reg_exp_delta " + std::to_string(delta));
        TrackerConfig cfg = defaultCfg();
        cfg.reg_exp_delta_s = delta;
        TrackerHarness h(cfg);
        const Dialog r = registration("delta@10.0.0.1");
        h.fromCaller(0, r, regReq(r, 1, kC1, 60));
        h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
        const int64_t due = 100 + 60'000 + delta * 1000;
        expectNextFiresAt(h, due);
        h.finish();
        EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                      L(due, "reg-expired", 200, "OK", "timeout", r.call_id)}));
    }
}

// §4.6: expires from the Expires header when the matching reply Contact has no param.
TEST(CallTrackerRegistration, ExpiresHeaderUsedWhenContactHasNoParam) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("exphdr@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {std::string(kC1)}, 60));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(90'100, "reg-expired", 200, "OK", "timeout", r.call_id)}));
}

// §4.6: the stored Contact found in the reply with expires 0 -> reg-del (and no reg-expired).
TEST(CallTrackerRegistration, ExpiresZeroIsRegDel) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("unreg@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(1000, r, regReq(r, 2, withExpires(kC1, 0), 0));
    h.fromCallee(1100, r, regRep(r, 200, 2, "r1", {withExpires(kC1, 0)}));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(1100, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// §4.6: the same with `Expires: 0` in the reply header and no Contact param.
TEST(CallTrackerRegistration, ExpiresHeaderZeroIsRegDel) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("unreg-hdr@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(1000, r, regReq(r, 2, kC1, 0));
    h.fromCallee(1100, r, regRep(r, 200, 2, "r1", {std::string(kC1)}, 0));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(1100, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// §4.6: Contact `*` -> reg-del on its reply, and every other tracked binding of that AOR is
// marked for a delayed reg-del: one reg-del per binding as each of those entries times out
// (quickly: by its non-invite-finished timeout, not at its registration expiry), and no
// reg-expired for them.
TEST(CallTrackerRegistration, WildcardContactDeletesEveryBinding) {
    TrackerHarness h(defaultCfg());
    const std::string aor = "sip:alice@example.com";
    const Dialog r1 = registration("star-1", aor, {{10, 0, 0, 1}, 5060});
    const Dialog r2 = registration("star-2", aor, {{10, 0, 0, 7}, 5060});
    const Dialog r3 = registration("star-3", aor, {{10, 0, 0, 1}, 5060});
    const std::string c2 = "<sip:alice@10.0.0.7:5060>";
    h.fromCaller(0, r1, regReq(r1, 1, kC1, 3600));
    h.fromCallee(100, r1, regRep(r1, 200, 1, "x1", {withExpires(kC1, 3600)}));
    h.fromCaller(1000, r2, regReq(r2, 1, c2, 3600));
    h.fromCallee(1100, r2,
                 regRep(r2, 200, 1, "x2", {withExpires(kC1, 3500), withExpires(c2, 3600)}));
    h.fromCaller(2000, r3, regReq(r3, 1, "*", 0));
    h.fromCallee(2100, r3, regRep(r3, 200, 1, "x3"));
    ASSERT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", "star-1"),
                                  L(1100, "reg-new", 200, "OK", "reply", "star-2"),
                                  L(2100, "reg-del", 200, "OK", "reply", "star-3")}));
    EXPECT_EQ(h.events()[2].contact, "*");
    h.finish();
    ASSERT_EQ(h.events().size(), 5u) << ::testing::PrintToString(h.summary());
    std::vector<std::string> others;
    for (size_t i = 3; i < 5; ++i) {
        const Rec& e = h.events()[i];
        SCOPED_TRACE(summarize(e));
        EXPECT_EQ(e.type, EventType::RegDel);
        EXPECT_EQ(e.gen, EventGen::Timeout);
        EXPECT_GE(e.ms(), 2100);
        EXPECT_LE(e.ms(), 2100 + 5000) << "quick timeout, not the registration expiry";
        others.push_back(e.call_id);
    }
    std::sort(others.begin(), others.end());
    EXPECT_EQ(others, (std::vector<std::string>{"star-1", "star-2"}));
}

// §4.6: the stored Contact not among the reply's Contacts -> reg-del.
TEST(CallTrackerRegistration, ReplyWithoutStoredContactIsRegDel) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("nocontact@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires("<sip:alice@10.0.0.99:5060>", 60)}));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// §4.6 binding cache: re-registration of the same (AOR, contact) with a NEW Call-ID gives no
// reg-new; the old entry is quick-expired and marked deleted (no reg-del, no reg-expired);
// the new Call-ID gives the reg-expired at its own expiry (lab README: "the later
// reg-expired for that binding comes from the newest Call-ID").
TEST(CallTrackerRegistration, ReRegisterWithNewCallIdIsSilent) {
    TrackerHarness h(defaultCfg());
    const Dialog a = registration("rereg-a");
    const Dialog b = registration("rereg-b");
    h.fromCaller(0, a, regReq(a, 1, kC1, 60));
    h.fromCallee(100, a, regRep(a, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(10'000, b, regReq(b, 1, kC1, 60));
    h.fromCallee(10'100, b, regRep(b, 200, 1, "r2", {withExpires(kC1, 60)}));
    EXPECT_EQ(h.events().size(), 1u) << "no reg-new for the re-registration";
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", "rereg-a"),
                                  L(100'100, "reg-expired", 200, "OK", "timeout", "rereg-b")}));
}

// §4.6 + lab-mixed (Kamailio's 200 to an un-REGISTER has no Contact): un-REGISTER with a new
// Call-ID -> reg-del from the new Call-ID; the binding's old entry gives no reg-expired.
TEST(CallTrackerRegistration, UnregisterWithNewCallId) {
    TrackerHarness h(defaultCfg());
    const Dialog a = registration("unreg-a");
    const Dialog u = registration("unreg-u");
    h.fromCaller(0, a, regReq(a, 1, kC1, 60));
    h.fromCallee(100, a, regRep(a, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(1000, u, regReq(u, 1, withExpires(kC1, 0), 0));
    h.fromCallee(1100, u, regRep(u, 200, 1, "r2"));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", "unreg-a"),
                                  L(1100, "reg-del", 200, "OK", "reply", "unreg-u")}));
}

// §4.6 reg_del_delay > 0: no reg-del on the reply; the entry is kept `delay` seconds and the
// reg-del is emitted on timeout (Delayed_RegDel).
TEST(CallTrackerRegistration, RegDelDelayEmitsRegDelAtTimeout) {
    TrackerConfig cfg = defaultCfg();
    cfg.reg_del_delay_s = 10;
    TrackerHarness h(cfg);
    const Dialog r = registration("deldelay@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(1000, r, regReq(r, 2, withExpires(kC1, 0), 0));
    h.fromCallee(1100, r, regRep(r, 200, 2, "r1", {withExpires(kC1, 0)}));
    EXPECT_EQ(h.events().size(), 1u) << "reg-del must wait for reg_del_delay";
    expectNextFiresAt(h, 11'100);
    h.finish();
    ASSERT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(11'100, "reg-del", 200, "OK", "timeout", r.call_id)}));
    EXPECT_TRUE(h.events()[1].hasFlag(kFlagDelayedRegDel)) << h.events()[1].flags;
}

// §4.6 reg_del_delay: a reg-new for the same binding before the delay runs out cancels the
// pending reg-del, and neither event is emitted; the registration then expires normally.
TEST(CallTrackerRegistration, RegDelDelayCancelledByQuickReRegister) {
    TrackerConfig cfg = defaultCfg();
    cfg.reg_del_delay_s = 10;
    TrackerHarness h(cfg);
    const Dialog r = registration("deldelay2@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, kC1, 60));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(1000, r, regReq(r, 2, withExpires(kC1, 0), 0));
    h.fromCallee(1100, r, regRep(r, 200, 2, "r1", {withExpires(kC1, 0)}));
    h.fromCaller(2000, r, regReq(r, 3, kC1, 60));
    h.fromCallee(2100, r, regRep(r, 200, 3, "r1", {withExpires(kC1, 60)}));
    h.advance(20'000);
    EXPECT_EQ(h.events().size(), 1u) << ::testing::PrintToString(h.summary());
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(92'100, "reg-expired", 200, "OK", "timeout", r.call_id)}));
}

// §4.6 contact compare: the port counts unless contact_ignore_port.
TEST(CallTrackerRegistration, ContactIgnorePort) {
    for (bool ignore : {false, true}) {
        SCOPED_TRACE(ignore ? "contact_ignore_port" : "ports compared");
        TrackerConfig cfg = defaultCfg();
        cfg.contact_ignore_port = ignore;
        TrackerHarness h(cfg);
        const Dialog r = registration("port@10.0.0.1");
        h.fromCaller(0, r, regReq(r, 1, kC1, 60));
        h.fromCallee(100, r,
                     regRep(r, 200, 1, "r1", {withExpires("<sip:alice@10.0.0.1:5099>", 60)}));
        EXPECT_EQ(h.summary(),
                  (Lines{L(100, ignore ? "reg-new" : "reg-del", 200, "OK", "reply", r.call_id)}));
    }
}

// §4.6 contact compare: short form (scheme, user, password, host case-insensitive, port),
// params ignored.
TEST(CallTrackerRegistration, ContactCompareIgnoresParamsAndHostCase) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("cmp@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, "<sip:alice@PC33.Example.COM:5060;transport=udp>", 60));
    h.fromCallee(
        100, r,
        regRep(r, 200, 1, "r1", {"<sip:alice@pc33.example.com:5060;transport=tcp;ob>;expires=60"}));
    EXPECT_EQ(h.summary(), (Lines{L(100, "reg-new", 200, "OK", "reply", r.call_id)}));
}

// §4.6 / §2.5: a REGISTER without Contact (query) gets no event at all.
TEST(CallTrackerRegistration, RegisterQueryWithoutContactIsSilent) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("query@10.0.0.1");
    h.fromCaller(0, r, regReq(r, 1, ""));
    h.fromCallee(100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.finish();
    EXPECT_EQ(h.summary(), Lines{});
}

// §4.6: a REGISTER 2xx seen alone -> reg-new, expiry = max expires of the reply without
// reg_exp_delta (here from the Expires header).
TEST(CallTrackerRegistration, RegisterReplyAloneUsesMaxExpiresWithoutDelta) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("alone@10.0.0.1");
    h.fromCallee(0, r, regRep(r, 200, 1, "r1", {std::string(kC1)}, 3));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(0, "reg-new", 200, "OK", "reply", r.call_id),
                                  L(3000, "reg-expired", 200, "OK", "timeout", r.call_id)}));
}

// §2.4 / §4.6: a REGISTER 2xx seen alone whose max expires is 0 -> reg-del.
TEST(CallTrackerRegistration, RegisterReplyAloneWithZeroExpiresIsRegDel) {
    TrackerHarness h(defaultCfg());
    const Dialog r = registration("alone0@10.0.0.1");
    h.fromCallee(0, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 0)}));
    h.finish();
    EXPECT_EQ(h.summary(), (Lines{L(0, "reg-del", 200, "OK", "reply", r.call_id)}));
}

// =====================================================================================
// §4.2 / §4.5 bounded memory
// =====================================================================================

// §4.2 calls_max_entries: new entries beyond the limit fail (calls.fail_lim) and the
// message is not tracked; existing entries keep working; room comes back as entries expire.
TEST(CallTrackerLimits, MaxEntriesLimitReached) {
    TrackerConfig cfg = defaultCfg();
    cfg.max_entries = 3;
    TrackerHarness h(cfg);
    const Dialog o1("lim-1"), o2("lim-2"), o3("lim-3"), o4("lim-4"), o5("lim-5");
    EXPECT_EQ(h.fromCaller(0, o1, o1.req("OPTIONS", 1)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCaller(100, o2, o2.req("OPTIONS", 1)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCaller(200, o3, o3.req("OPTIONS", 1)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCaller(300, o4, o4.req("OPTIONS", 1)), TrackResult::LimitReached);
    EXPECT_EQ(h.tracker().entries(), 3u);
    EXPECT_EQ(h.registry().counter("calls.fail_lim").get(), 1u);
    EXPECT_EQ(h.fromCallee(400, o1, o1.rep(200, 1, "OPTIONS", "t1")), TrackResult::Tracked);
    EXPECT_EQ(h.fromCallee(500, o4, o4.rep(200, 1, "OPTIONS", "t4")), TrackResult::LimitReached);
    EXPECT_EQ(h.registry().counter("calls.fail_lim").get(), 2u);
    h.advance(40'000);
    EXPECT_EQ(h.tracker().entries(), 0u);
    EXPECT_EQ(h.fromCaller(41'000, o5, o5.req("OPTIONS", 1)), TrackResult::Tracked);
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(5400, "other-ok", 200, "OK", "timeout", "lim-1"),
                     L(30'100, "other-timeout", 408, kTimeoutReason, "timeout", "lim-2"),
                     L(30'200, "other-timeout", 408, kTimeoutReason, "timeout", "lim-3"),
                     L(71'000, "other-timeout", 408, kTimeoutReason, "timeout", "lim-5")}));
}

// §4.2 calls_max_mem: the sum of entry sizes and attribute blocks is bounded; beyond it new
// entries fail and are counted, the memory count returns to 0 when the entries end.
TEST(CallTrackerLimits, MaxMemLimitReached) {
    TrackerConfig cfg = defaultCfg();
    cfg.max_mem = 3 * (CallTracker::entryOverhead() + 256);
    TrackerHarness h(cfg);
    int tracked = 0;
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
        const Dialog d("mem-" + std::to_string(i));
        const TrackResult r = h.fromCaller(i * 10, d, d.req("OPTIONS", 1));
        (r == TrackResult::Tracked ? tracked : refused) += 1;
    }
    // The limit is checked when an entry is created, against what it will need at first.
    EXPECT_GE(tracked, 1);
    EXPECT_GE(refused, 1);
    EXPECT_LE(h.tracker().memoryBytes(), cfg.max_mem);
    EXPECT_EQ(refused, 10 - tracked);
    EXPECT_EQ(h.registry().counter("calls.fail_lim").get(), static_cast<uint64_t>(refused));
    h.finish();
    EXPECT_EQ(h.tracker().entries(), 0u);
    EXPECT_EQ(h.tracker().memoryBytes(), 0u);
}

// §4.2: Call-ID + From-tag + To-tag at most 384 bytes (an unknown To-tag reserves 50);
// longer -> not tracked at all.
TEST(CallTrackerLimits, KeyLongerThan384BytesIsNotTracked) {
    TrackerHarness h(defaultCfg());
    const std::string ftag(40, 'f');
    auto inviteWith = [&](size_t cid_len) {
        Dialog d(std::string(cid_len, 'c'));
        d.caller_tag = ftag;
        return d;
    };
    // Request without To-tag: Call-ID + 40 + 50 reserved.
    const Dialog ok = inviteWith(384 - 40 - 50);
    const Dialog too_long = inviteWith(384 - 40 - 50 + 1);
    const Dialog way_too_long = inviteWith(400);
    EXPECT_EQ(h.fromCaller(0, ok, ok.req("INVITE", 1)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCaller(100, too_long, too_long.req("INVITE", 1)), TrackResult::KeyTooLong);
    EXPECT_EQ(h.fromCaller(200, way_too_long, way_too_long.req("INVITE", 1)),
              TrackResult::KeyTooLong);
    // Entry created from a reply with a 40-byte To-tag: Call-ID + 40 + 40.
    const std::string ttag(40, 't');
    const Dialog ok2 = inviteWith(384 - 80);
    const Dialog long2 = inviteWith(384 - 80 + 1);
    EXPECT_EQ(h.fromCallee(300, ok2, ok2.rep(200, 1, "INVITE", ttag)), TrackResult::Tracked);
    EXPECT_EQ(h.fromCallee(400, long2, long2.rep(200, 1, "INVITE", ttag)), TrackResult::KeyTooLong);
    EXPECT_EQ(h.tracker().entries(), 2u);
    h.finish();
    for (const Rec& e : h.events()) {
        EXPECT_TRUE(e.call_id == ok.call_id || e.call_id == ok2.call_id) << summarize(e);
    }
    EXPECT_EQ(h.events().size(), 3u) << ::testing::PrintToString(h.summary());
}

// §4.5: attribute values longer than the max are silently truncated (From 96, To 96, R-URI
// 96, Contact 160, User-Agent 64, reason 64, method 16).
TEST(CallTrackerLimits, AttributesTruncatedToReferenceLimits) {
    TrackerHarness h(defaultCfg());
    Dialog d("trunc@10.0.0.1");
    d.caller_uri = "sip:" + std::string(190, 'f') + "@example.com";  // 206 chars
    d.callee_uri = "sip:" + std::string(190, 't') + "@example.com";
    d.ruri = "sip:" + std::string(190, 'r') + "@example.com";
    d.caller_ua = std::string(100, 'u');
    SipMsg inv = d.req("INVITE", 1);
    const std::string contact_uri = "sip:" + std::string(300, 'c') + "@10.0.0.1:5060";
    inv.contacts = {"<" + contact_uri + ">"};
    h.fromCaller(0, d, inv);
    const std::string long_reason = "OK " + std::string(100, 'x');
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1").withReason(long_reason));
    ASSERT_EQ(h.events().size(), 1u);
    const Rec& e = h.events()[0];
    EXPECT_EQ(e.type, EventType::CallStart);
    EXPECT_EQ(e.from, d.caller_uri.substr(0, 96));
    EXPECT_EQ(e.to, d.callee_uri.substr(0, 96));
    EXPECT_EQ(e.ruri, d.ruri.substr(0, 96));
    EXPECT_EQ(e.contact, contact_uri.substr(0, 160));
    EXPECT_EQ(e.ua, d.caller_ua.substr(0, 64));
    EXPECT_EQ(e.reason, long_reason.substr(0, 64));

    const Dialog m("trunc-method@10.0.0.1");
    h.fromCaller(1000, m, m.req("VERYLONGEXTENSIONMETHOD", 1));  // 23 chars
    h.finish();
    const auto ev = h.eventsOf(m.call_id);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, EventType::OtherTimeout);
    EXPECT_EQ(ev[0].method, std::string("VERYLONGEXTENSIONMETHOD").substr(0, 16));
}

// =====================================================================================
// §4.7 / §3.2 trace lengths
// =====================================================================================

// §4.7: ring of the last 16 message records, `...[N]` prefix for the N dropped; §3.2:
// prev_state keeps the last 10 states with the same prefix.
TEST(CallTrackerTrace, TracesKeepLastRecordsWithDroppedCount) {
    TrackerHarness h(defaultCfg());
    const Dialog d("long@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    int64_t t = 300;
    for (uint32_t cseq = 2; cseq <= 8; ++cseq) {
        h.fromCaller(t, d, d.req("INFO", cseq, "b1"));
        h.fromCallee(t + 100, d, d.rep(200, cseq, "INFO", "b1"));
        t += 200;
    }
    h.fromCaller(t, d, d.req("BYE", 9, "b1"));  // 18th record
    ASSERT_EQ(h.events().size(), 2u);
    const Rec& e = h.events()[1];
    std::string infos;
    for (int i = 0; i < 7; ++i) {
        infos += ">INFO<200";
    }
    EXPECT_EQ(e.msg_trace, "...[2]>ACK" + infos + ">BYE");
    // 18 states recorded, the last 10 all "established".
    std::string states;
    for (int i = 0; i < 10; ++i) {
        states += (i ? "->" : "") + std::string("established");
    }
    EXPECT_TRUE(e.prev_state == "...[8]" + states || e.prev_state == "...[8]->" + states)
        << e.prev_state;
}

// A dialog that lives long (in-dialog keep-alives for weeks): past 65535 messages the traces
// still end with the newest records, in order.
TEST(CallTrackerTrace, VeryLongDialogKeepsTheNewestRecords) {
    TrackerHarness h(defaultCfg());
    const Dialog d("verylong@10.0.0.1");
    h.fromCaller(0, d, d.req("INVITE", 1));
    h.fromCallee(100, d, d.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, d, d.req("ACK", 1, "b1"));
    int64_t t = 300;
    uint32_t cseq = 2;
    for (; cseq < 2 + 40'000; ++cseq) {  // 80,000 records
        h.fromCaller(t, d, d.req("OPTIONS", cseq, "b1"));
        h.fromCallee(t + 10, d, d.rep(200, cseq, "OPTIONS", "b1"));
        t += 20;
    }
    h.fromCaller(t, d, d.req("INFO", cseq, "b1"));
    h.fromCaller(t + 10, d, d.req("BYE", cseq + 1, "b1"));
    ASSERT_EQ(h.events().size(), 2u);
    const Rec& e = h.events()[1];
    const std::string tail = ">OPTIONS<200>INFO>BYE";
    ASSERT_GE(e.msg_trace.size(), tail.size());
    EXPECT_EQ(e.msg_trace.substr(e.msg_trace.size() - tail.size()), tail) << e.msg_trace;
    EXPECT_EQ(e.msg_trace.rfind("...[", 0), 0u) << e.msg_trace;
}

// =====================================================================================
// §1 / §2.2 end of input
// =====================================================================================

// finish(): every pending timer fires, in due order (events sorted by time), each with its
// state's final event: other-ok, other-timeout, reg-expired at expiry, call-attempt 408 for
// the early dialog, call-end 408 `internal: call state timeout` with Forced_Timeout for the
// established call.
TEST(CallTrackerFinish, PendingTimersFireInDueOrder) {
    TrackerHarness h(defaultCfg());
    const Dialog a("fin-call"), r = registration("fin-reg"), c("fin-opt-ok"), o("fin-opt-none"),
                                e("fin-early");
    h.fromCaller(0, a, a.req("INVITE", 1));
    h.fromCallee(100, a, a.rep(200, 1, "INVITE", "b1"));
    h.fromCaller(200, a, a.req("ACK", 1, "b1"));
    h.fromCaller(1000, r, regReq(r, 1, kC1, 60));
    h.fromCallee(1100, r, regRep(r, 200, 1, "r1", {withExpires(kC1, 60)}));
    h.fromCaller(2000, c, c.req("OPTIONS", 1));
    h.fromCallee(2100, c, c.rep(200, 1, "OPTIONS", "t1"));
    h.fromCaller(3000, o, o.req("OPTIONS", 1));
    h.fromCaller(4000, e, e.req("INVITE", 1));
    h.fromCallee(4100, e, e.rep(180, 1, "INVITE", "b2"));
    ASSERT_EQ(h.events().size(), 2u);  // call-start, reg-new
    h.finish();
    EXPECT_EQ(h.summary(),
              (Lines{L(100, "call-start", 200, "OK", "reply", "fin-call"),
                     L(1100, "reg-new", 200, "OK", "reply", "fin-reg"),
                     L(7100, "other-ok", 200, "OK", "timeout", "fin-opt-ok"),
                     L(33'000, "other-timeout", 408, kTimeoutReason, "timeout", "fin-opt-none"),
                     L(91'100, "reg-expired", 200, "OK", "timeout", "fin-reg"),
                     L(184'100, "call-attempt", 408, kTimeoutReason, "timeout", "fin-early"),
                     L(3'600'200, "call-end", 408, kTimeoutReason, "timeout", "fin-call")}));
    for (size_t i = 1; i < h.events().size(); ++i) {
        EXPECT_LE(h.events()[i - 1].time, h.events()[i].time) << i;
    }
    ASSERT_EQ(h.events().size(), 7u);
    EXPECT_TRUE(h.events()[6].hasFlag(kFlagTimeout | kFlagForcedTimeout)) << h.events()[6].flags;
    EXPECT_EQ(test::refStateText(h.events()[6].state), "established");
    EXPECT_EQ(h.tracker().entries(), 0u);
}

}  // namespace
}  // namespace sipbeat::track
