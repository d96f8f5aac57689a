// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "beat/core/clock.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"
#include "beat/sip/message.h"

namespace sipbeat::track {

/// sipcmbeat's event types in its enum order (sipcmbeat.md §2.1): the order gives the
/// `dbg.evflags` bit positions and the rate-table type index.
enum class EventType : uint8_t {
    Empty,
    CallStart,
    CallEnd,
    CallAttempt,
    AuthFailed,
    ActionLog,
    RegNew,
    RegDel,
    RegExpired,
    SubNew,
    SubDel,
    OtherFailed,
    OtherTimeout,
    OtherOk,
    ParseError,
    MsgProbe,
    Invalid,
};
inline constexpr size_t kEventTypeCount = 17;
std::string_view eventTypeName(EventType type) noexcept;
/// False for a name that is not one of the types above.
bool eventTypeFromName(std::string_view name, EventType& out) noexcept;

/// Call states (sipcmbeat.md §2.2).
enum class CallState : uint8_t {
    None,
    Init,
    FirstInvite,
    EarlyDialog,
    InviteNegReply,
    Established,
    ByeSeen,
    ByeReplied,
    Canceled,
    FirstNonInvite,
    NonInviteNegReply,
    NonInviteFinished,
};
inline constexpr size_t kCallStateCount = 12;
/// `dbg.state` text ("first invite").
std::string_view callStateText(CallState s) noexcept;
/// `calls_timeouts` key ("inv_1st").
std::string_view callStateConfigName(CallState s) noexcept;
/// Accepts the config name or the text (sipcmbeat.md §5.2 `calls_timeouts`).
bool callStateFromName(std::string_view name, CallState& out) noexcept;
/// Default timeout and the range `calls_timeouts` accepts, in seconds.
struct StateTimeoutRange {
    int64_t default_s, min_s, max_s;
};
StateTimeoutRange stateTimeoutRange(CallState s) noexcept;

/// What produced an event (`dbg.evgen`).
enum class EventGen : uint8_t { Unknown, Request, Reply, Timeout };
std::string_view eventGenName(EventGen g) noexcept;

/// `dbg.call_flags` bits (sipcmbeat.md §3.2).
enum CallFlag : uint16_t {
    kFlagEntryHashed = 1,
    kFlagReused = 2,
    kFlagRegReuseHack = 4,
    kFlagForkChild = 8,
    kFlagForkParent = 16,
    kFlagCanceled = 32,
    kFlagInternalCancel = 64,
    kFlagTimeout = 128,
    kFlagForcedTimeout = 256,
    kFlagCalleeTerminated = 512,
    kFlagDelayedRegDel = 1024,
    kFlagStolenRegBinding = 2048,
    kFlagCachedRegBinding = 4096,
};

/// The per-entry attributes, stored truncated to sipcmbeat's limits (§4.5).
enum class Attr : uint8_t {
    CallId,
    FromTag,
    ToTag,
    From,
    To,
    Method,
    RequestUri,
    Contact,
    Reason,
    UserAgent,
    Uas,
    Pai1,
    Pai2,
    RequestSig,
    CallerMedia,  ///< media summary of the caller's SDP (see appendMediaSummary)
    CalleeMedia,
};
inline constexpr size_t kAttrCount = 16;

/// A compact summary of an SDP's media lines kept per call (SPEC §4 media summary): one
/// line per m= (at most 4) as `type port protocol address direction codec,codec…`, fields
/// separated by single spaces, `-` for an empty field.
void appendMediaSummary(std::string& out, const sip::Sdp& sdp);
/// Calls `f(type, port, protocol, address, direction, codecs)` for each line of a summary.
template <typename F>
void forEachMedia(std::string_view summary, F&& f) {
    while (!summary.empty()) {
        const size_t nl = summary.find('\n');
        std::string_view line = summary.substr(0, nl);
        summary = nl == std::string_view::npos ? std::string_view{} : summary.substr(nl + 1);
        std::array<std::string_view, 6> part{};
        for (size_t i = 0; i < part.size(); ++i) {
            const size_t sp = i + 1 < part.size() ? line.find(' ') : std::string_view::npos;
            part[i] = line.substr(0, sp);
            line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
            if (part[i] == "-") {
                part[i] = {};
            }
        }
        f(part[0], part[1], part[2], part[3], part[4], part[5]);
    }
}
/// Longest stored value of an attribute.
size_t attrMaxLength(Attr a) noexcept;

/// sipsp's numeric methods for `dbg.last_method` (sipcmbeat.md §3.2).
uint8_t sipspMethodNumber(sip::Method m) noexcept;

struct Binding;

struct Endpoint {
    decode::IpAddress ip;
    uint16_t port = 0;
};

/// One tracked transaction or dialog (sipcmbeat's CallEntry). Compact: fixed fields plus
/// one buffer with every attribute, so memory per call stays far under 1 KiB (SPEC §4).
class CallEntry {
public:
    std::string_view attr(Attr a) const noexcept;
    std::string_view callId() const noexcept { return attr(Attr::CallId); }

    CallState state = CallState::Init;
    sip::Method method = sip::Method::Other;  ///< creating method
    decode::Transport transport = decode::Transport::Udp;
    Endpoint client;  ///< the side that sent the creating request
    Endpoint server;
    uint16_t flags = 0;        ///< CallFlag bits
    uint32_t event_flags = 0;  ///< bit (1 << EventType) per event generated
    EventType last_event = EventType::Empty;
    uint16_t status = 0;             ///< last reply status to the creating method (sip.response.*)
    std::array<uint32_t, 2> cseq{};  ///< last request CSeq per direction
    std::array<uint32_t, 2> reply_cseq{};  ///< last reply CSeq per direction
    std::array<uint16_t, 2> req_no{}, repl_no{}, req_retr{}, repl_retr{};
    std::array<uint8_t, 2> last_method{};  ///< sipsp numbers
    std::array<uint16_t, 2> last_status{};
    std::array<uint8_t, 2> last_reply_method{};  ///< sipsp number of the last reply's CSeq
    std::array<uint16_t, 2> final_status{};      ///< last final reply to the creating method
    core::TimestampNs created = 0;
    core::TimestampNs final_reply_ts = 0;  ///< event.call_start (FinReplTS)
    core::TimestampNs first_18x_ts = 0;
    core::TimestampNs forked_ts = 0;

    /// `dbg.msg_trace`: last 16 records (§4.7).
    static constexpr size_t kTraceLen = 16;
    std::array<uint16_t, kTraceLen> trace{};
    uint16_t trace_total = 0;  ///< records ever added (saturating)
    /// `dbg.prev_state`: last 10 states.
    static constexpr size_t kStateTraceLen = 10;
    std::array<CallState, kStateTraceLen> state_trace{};
    uint16_t state_trace_total = 0;

    void appendMsgTrace(std::string& out) const;
    void appendStateTrace(std::string& out) const;
    void appendEventFlags(std::string& out) const;
    bool hasEvent(EventType t) const noexcept {
        return (event_flags & (1u << static_cast<unsigned>(t))) != 0;
    }

private:
    friend class CallTracker;
    // Intrusive links: hash chain and timer wheel slot list.
    CallEntry* hash_next_ = nullptr;
    CallEntry* timer_prev_ = nullptr;
    CallEntry* timer_next_ = nullptr;
    core::TimestampNs expires_ = 0;
    uint32_t hash_ = 0;
    uint32_t timer_slot_ = 0;
    bool in_timer_ = false;
    uint64_t seq_ = 0;              ///< creation order, breaks ties between equal expiries
    uint16_t accounted_ = 0;        ///< attribute bytes counted in the tracker's memory
    bool call_reported_ = false;    ///< a call-* event was reported for this Call-ID
    bool reg_deleted_ = false;      ///< binding taken or deleted elsewhere: no reg-* at timeout
    bool reg_del_pending_ = false;  ///< reg-del to emit at timeout (reg_del_delay, `*`)
    Binding* binding_ = nullptr;
    // Attribute storage: one heap block, offsets and lengths per attribute.
    std::unique_ptr<char[]> buf_;
    uint16_t buf_cap_ = 0;
    uint16_t buf_used_ = 0;
    std::array<uint16_t, kAttrCount> off_{};
    std::array<uint16_t, kAttrCount> len_{};
    void setAttr(Attr a, std::string_view v);
};

/// An event the tracker decided on; `entry` is valid only during the callback.
struct CallEvent {
    EventType type = EventType::Empty;
    EventGen gen = EventGen::Unknown;
    core::TimestampNs time = 0;  ///< packet time of the message, or the timer's due time
    const CallEntry* entry = nullptr;
    /// Status and reason after sipcmbeat's Fill() (290/291/408/487 pseudo statuses, §2.5).
    uint16_t status = 0;
    std::string_view reason;
    EventType previous_event = EventType::Empty;  ///< `dbg.lastev`
};

class CallEventSink {
public:
    virtual ~CallEventSink() = default;
    virtual void onCallEvent(const CallEvent& event) = 0;
};

struct TrackerConfig {
    std::array<int64_t, kCallStateCount> timeout_s{};  ///< per state; filled by defaults()
    int64_t reg_exp_delta_s = 30;
    int64_t reg_del_delay_s = 0;
    bool contact_ignore_port = false;
    uint64_t max_entries = 0;  ///< 0 = unlimited
    uint64_t max_mem = 0;
    uint64_t regs_max_entries = 0;
    uint64_t regs_max_mem = 0;
    /// sipcmbeat's defaults of §2.2.
    static TrackerConfig defaults();
};

/// Why a message was not tracked.
enum class TrackResult : uint8_t { Tracked, Ignored, KeyTooLong, LimitReached };

/// Transactions, dialogs and registrations with sipcmbeat's rules (sipcmbeat.md §2, §4).
/// Time is the packet clock: track() and advanceTime() move it forward; timers fire in due
/// order. Single-threaded (the caller serialises).
class CallTracker {
public:
    CallTracker(const TrackerConfig& cfg, CallEventSink& sink, monitoring::Registry& metrics);
    ~CallTracker();
    CallTracker(const CallTracker&) = delete;
    CallTracker& operator=(const CallTracker&) = delete;

    /// One parsed message (From, To, Call-ID and CSeq present).
    TrackResult track(const decode::SipPayload& payload, const sip::Message& msg);
    /// Fires every timer due at or before `now`.
    void advanceTime(core::TimestampNs now);
    /// End of input: every pending timer fires in due order (SPEC §1). With
    /// `force_after_ns` > 0 no timer fires later than the last packet time + that.
    void finish(int64_t force_after_ns = 0);

    size_t entries() const noexcept { return entry_count_; }
    size_t memoryBytes() const noexcept { return mem_bytes_; }
    size_t bindings() const noexcept { return bindings_.size(); }
    core::TimestampNs now() const noexcept { return now_; }
    /// First packet time seen (event.min_length / min_lifetime count from it).
    core::TimestampNs startTime() const noexcept { return start_; }
    /// Bytes one entry costs beyond its attribute block.
    static size_t entryOverhead() noexcept;

private:
    struct MsgInfo;
    CallEntry* find(const MsgInfo& m, int& dir, bool& create_fork);
    CallEntry* allocEntry();
    CallEntry* create(const MsgInfo& m, const decode::SipPayload& p);
    CallEntry* fork(CallEntry* parent, const MsgInfo& m);
    void linkEntry(CallEntry* e);
    void rehash(size_t n);
    void account(CallEntry* e);
    void destroy(CallEntry* e);
    void request(CallEntry* e, int dir, const MsgInfo& m, const sip::Message& msg);
    void reply(CallEntry* e, int dir, const MsgInfo& m, const sip::Message& msg);
    void registerReply(CallEntry* e, const MsgInfo& m, const sip::Message& msg, bool from_init);
    void regDelete(CallEntry* e, core::TimestampNs when, EventGen gen, const std::string& key);
    void emitReg(CallEntry* e, EventType t, EventGen g, core::TimestampNs when);
    void timeout(CallEntry* e);
    void emit(CallEntry* e, EventType t, EventGen g, core::TimestampNs when,
              uint16_t forced_status = 0, std::string_view forced_reason = {});
    void setState(CallEntry* e, CallState s);
    void setTimer(CallEntry* e, int64_t timeout_ns, bool force);
    void setTimerAt(CallEntry* e, core::TimestampNs when);
    void silence(CallEntry* e);
    void timerUnlink(CallEntry* e);
    void timerLink(CallEntry* e);
    void fireSlot(int64_t tick, core::TimestampNs limit);
    int64_t earliestTick();
    bool relatedHasCallEvent(const CallEntry* e) const;
    void markCallReported(const CallEntry* e);
    bool siblingStillPending(const CallEntry* e) const;
    void addTrace(CallEntry* e, int dir, bool is_reply, uint16_t code, bool retransmission);
    void pushState(CallEntry* e);
    void recordMedia(CallEntry* e, bool caller_side, const sip::Message& msg);
    void releaseBinding(CallEntry* e);
    int64_t stateTimeoutNs(CallState s) const;
    void countState(CallState s, int delta);
    void updateAttrsFromRequest(CallEntry* e, int dir, const MsgInfo& m, const sip::Message& msg);

    TrackerConfig cfg_;
    CallEventSink& sink_;
    core::TimestampNs now_ = 0;
    core::TimestampNs start_ = 0;
    std::vector<CallEntry*> buckets_;
    size_t entry_count_ = 0;
    size_t mem_bytes_ = 0;
    // Timer wheel: a power-of-two ring of 1 ms slots (sipcmbeat ticks every 100 ms, §2.2);
    // an entry due beyond one turn (65 s) waits in its slot until its turn comes. A tick
    // fires once it has fully passed, so a message costs no slot walk; events carry their
    // exact due time.
    static constexpr int64_t kTickNs = 1'000'000;
    static constexpr size_t kWheelSlots = 65536;
    std::vector<CallEntry*> wheel_;
    int64_t wheel_tick_ = -1;  ///< last tick processed
    core::TimestampNs firing_floor_ = 0;
    size_t timer_count_ = 0;
    std::vector<core::TimestampNs> slot_min_;  ///< lower bound of each slot's expiries
    std::vector<CallEntry*> due_;              ///< scratch for one tick
    std::vector<CallEntry*> fired_;
    std::vector<CallEntry*> rehash_scratch_;
    uint64_t seq_ = 0;
    std::string media_scratch_;
    std::unordered_map<std::string, Binding*> bindings_;
    std::unordered_multimap<std::string, Binding*> by_aor_;  ///< AOR key → its bindings
    size_t binding_mem_ = 0;

    monitoring::Counter* fail_new_;
    monitoring::Counter* fail_lim_;
    monitoring::Counter* key_too_long_;
    monitoring::Counter* active_;
    monitoring::Counter* mem_;
    std::array<monitoring::Counter*, kCallStateCount> per_state_{};
    std::array<uint64_t, kCallStateCount> state_counts_{};
    monitoring::Counter* regs_fail_lim_;
    monitoring::Counter* regs_active_;
    monitoring::Counter* regs_del_star_;
    monitoring::Counter* regs_del_no_match_;
    monitoring::Counter* regs_del_delayed_;
    monitoring::Counter* regs_del_delayed_ev_;
    monitoring::Counter* regs_refresh_diff_callid_;
    monitoring::Counter* regs_ev_no_contact_;
    monitoring::Counter* regs_ev_no_aor_;
    monitoring::Counter* regs_new_after_del_;
};

}  // namespace sipbeat::track
