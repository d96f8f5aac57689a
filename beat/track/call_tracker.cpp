// SPDX-License-Identifier: Apache-2.0
// sipcmbeat's call state machine (reference/sipcmbeat.md §2, §4), written from the
// reference: matching (§4.3, §2.7), request rules (§2.3), reply rules (§2.4), timeout events
// (§2.5) and registration bindings (§4.6). Differences from the original are marked
// "sipbeat:" and listed in the README's compatibility table.
#include "beat/track/call_tracker.h"

#include <algorithm>
#include <cstring>

namespace sipbeat::track {

namespace {

constexpr std::array<std::string_view, kEventTypeCount> kEventNames = {
    "empty",         "call-start", "call-end",    "call-attempt", "auth-failed", "action-log",
    "reg-new",       "reg-del",    "reg-expired", "sub-new",      "sub-del",     "other-failed",
    "other-timeout", "other-ok",   "parse-error", "msg-probe",    "invalid"};

struct StateInfo {
    std::string_view text;
    std::string_view config_name;
    StateTimeoutRange range;
};
// §2.2: texts, config names, default timeouts and accepted ranges.
constexpr std::array<StateInfo, kCallStateCount> kStates = {{
    {"invalid", "invalid", {1, 1, 1}},
    {"init", "init", {1, 1, 5}},
    {"first invite", "inv_1st", {120, 1, 7200}},
    {"early dialog", "inv_early_dlg", {180, 1, 600}},
    {"invite negative reply", "inv_neg", {30, 1, 180}},
    {"established", "inv_established", {3600, 10, 86400}},
    {"bye detected", "inv_bye_seen", {30, 1, 600}},
    {"bye replied", "inv_bye_repl", {5, 1, 60}},
    {"canceled", "inv_canceled", {5, 1, 60}},
    {"initial non-invite", "non_inv_1st", {30, 1, 180}},
    {"non-invite negative reply", "non_inv_neg", {5, 1, 60}},
    {"non-invite finished", "non_inv_fin", {5, 1, 60}},
}};

// §4.5 AttrSpace; Call-ID and tags share the 384-byte key limit (§4.2).
constexpr std::array<uint16_t, kAttrCount> kAttrMax = {
    384, 384, 384,  // Call-ID, From-tag, To-tag
    96,  96,        // from, to
    16,             // method
    96,             // request URI
    160,            // contact
    64,             // reason
    64,  64,        // user agent, uas
    160, 96,        // pai1, pai2
    64,             // request signature
    192, 192,       // caller / callee media summaries
};
constexpr size_t kMaxKeyBytes = 384;

constexpr uint32_t bit(EventType t) {
    return 1u << static_cast<unsigned>(t);
}
constexpr uint32_t kRegEventBits =
    bit(EventType::RegNew) | bit(EventType::RegDel) | bit(EventType::RegExpired);

uint32_t hashCallId(std::string_view s) noexcept {
    // FNV-1a: the Call-ID alone picks the bucket, so every entry of a call (forks
    // included) shares one chain (§4.1).
    uint32_t h = 2166136261u;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return h;
}

bool is2xx(int s) {
    return s >= 200 && s < 300;
}
bool isAuthChallenge(int s) {
    return s == 401 || s == 407;
}

char lowerChar(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The short form sipcmbeat compares registration URIs by (§4.6): scheme, user, password,
// host (case-insensitive) and port; parameters and headers ignored. Text that does not
// parse as a URI is compared as it is.
void appendUriKey(std::string& out, std::string_view text, bool ignore_port) {
    sip::Uri u;
    if (!sip::parseUri(text, u)) {
        out.append(text);
        return;
    }
    for (char c : u.scheme) {
        out.push_back(lowerChar(c));
    }
    out.push_back(':');
    out.append(u.user);
    out.push_back(':');
    out.append(u.password);
    out.push_back('@');
    for (char c : u.host) {
        out.push_back(lowerChar(c));
    }
    if (!ignore_port && u.has_port) {
        out.push_back(':');
        out.append(std::to_string(u.port));
    }
}

// Splits a comma-separated list of name-addrs (P-Asserted-Identity), respecting quotes and
// angle brackets (RFC 3261 §7.3.1).
template <typename F>
void forEachListItem(std::string_view v, F&& f) {
    size_t start = 0;
    bool quoted = false;
    int angle = 0;
    for (size_t i = 0; i <= v.size(); ++i) {
        const char c = i < v.size() ? v[i] : ',';
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            angle = angle > 0 ? angle - 1 : 0;
        } else if (c == ',' && angle == 0) {
            std::string_view item = v.substr(start, i - start);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                item.remove_prefix(1);
            }
            if (!item.empty() && !f(item)) {
                return;
            }
            start = i + 1;
        }
    }
}

}  // namespace

// A registration binding (AOR, contact) and the entry that owns it (§4.6).
struct Binding {
    std::string key;
    std::string aor_key;
    CallEntry* owner = nullptr;
};

// What a binding costs: the struct, its keys, and its nodes in the two indexes.
size_t bindingBytes(std::string_view key, std::string_view aor_key) {
    return sizeof(Binding) + key.size() + aor_key.size() + 4 * sizeof(void*) + aor_key.size();
}

struct CallTracker::MsgInfo {
    core::TimestampNs ts = 0;
    bool request = false;
    sip::Method method = sip::Method::Other;  ///< request method, or the CSeq method
    std::string_view method_name;
    uint32_t cseq = 0;
    int status = 0;
    std::string_view call_id, from_tag, to_tag;
    std::string_view from_value, to_value;  ///< the From and To header values
    const decode::SipPayload* payload = nullptr;

    // The URIs are parsed only when an attribute needs them (first messages of an entry):
    // matching needs just the tags.
    std::string_view fromUri() const { return uriOf(from_value); }
    std::string_view toUri() const { return uriOf(to_value); }
    static std::string_view uriOf(std::string_view value) {
        sip::NameAddr na;
        return sip::parseNameAddr(value, na) ? na.uri.original : std::string_view{};
    }
};

namespace {

// The `tag` header parameter of a From/To value (RFC 3261 §19.3), without parsing the URI:
// header parameters follow the closing '>' of a name-addr, or the first ';' of a bare
// addr-spec (whose own URI parameters are then header parameters, RFC 3261 §20.10).
std::string_view headerTag(std::string_view v) {
    const size_t gt = v.rfind('>');
    size_t i = gt == std::string_view::npos ? v.find(';') : v.find(';', gt);
    while (i != std::string_view::npos) {
        ++i;
        while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) {
            ++i;
        }
        const size_t end = v.find(';', i);
        std::string_view param =
            v.substr(i, end == std::string_view::npos ? v.size() - i : end - i);
        const size_t eq = param.find('=');
        std::string_view name = param.substr(0, eq);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
            name.remove_suffix(1);
        }
        if (eq != std::string_view::npos && name.size() == 3 && lowerChar(name[0]) == 't' &&
            lowerChar(name[1]) == 'a' && lowerChar(name[2]) == 'g') {
            std::string_view value = param.substr(eq + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                value.remove_prefix(1);
            }
            size_t n = 0;
            while (n < value.size() && value[n] != ' ' && value[n] != '\t' && value[n] != '\r' &&
                   value[n] != '\n' && value[n] != ',') {
                ++n;
            }
            return value.substr(0, n);
        }
        i = end;
    }
    return {};
}

}  // namespace

std::string_view eventTypeName(EventType type) noexcept {
    const auto i = static_cast<size_t>(type);
    return i < kEventNames.size() ? kEventNames[i] : "invalid";
}

bool eventTypeFromName(std::string_view name, EventType& out) noexcept {
    for (size_t i = 0; i < kEventNames.size(); ++i) {
        if (kEventNames[i] == name) {
            out = static_cast<EventType>(i);
            return true;
        }
    }
    return false;
}

std::string_view callStateText(CallState s) noexcept {
    return kStates[static_cast<size_t>(s)].text;
}
std::string_view callStateConfigName(CallState s) noexcept {
    return kStates[static_cast<size_t>(s)].config_name;
}
bool callStateFromName(std::string_view name, CallState& out) noexcept {
    for (size_t i = 1; i < kStates.size(); ++i) {
        if (kStates[i].config_name == name || kStates[i].text == name) {
            out = static_cast<CallState>(i);
            return true;
        }
    }
    return false;
}
StateTimeoutRange stateTimeoutRange(CallState s) noexcept {
    return kStates[static_cast<size_t>(s)].range;
}

std::string_view eventGenName(EventGen g) noexcept {
    switch (g) {
        case EventGen::Request:
            return "request";
        case EventGen::Reply:
            return "reply";
        case EventGen::Timeout:
            return "timeout";
        default:
            return "unknown";
    }
}

size_t attrMaxLength(Attr a) noexcept {
    return kAttrMax[static_cast<size_t>(a)];
}

uint8_t sipspMethodNumber(sip::Method m) noexcept {
    switch (m) {
        case sip::Method::Register:
            return 1;
        case sip::Method::Invite:
            return 2;
        case sip::Method::Ack:
            return 3;
        case sip::Method::Bye:
            return 4;
        case sip::Method::Prack:
            return 5;
        case sip::Method::Cancel:
            return 6;
        case sip::Method::Options:
            return 7;
        case sip::Method::Subscribe:
            return 8;
        case sip::Method::Notify:
            return 9;
        case sip::Method::Update:
            return 10;
        case sip::Method::Info:
            return 11;
        case sip::Method::Refer:
            return 12;
        case sip::Method::Publish:
            return 13;
        case sip::Method::Message:
            return 14;
        default:
            return 15;
    }
}

namespace {
std::string_view sipspMethodText(uint16_t n) {
    static constexpr std::array<std::string_view, 16> kNames = {
        "UNDEF",     "REGISTER", "INVITE", "ACK",  "BYE",   "PRACK",   "CANCEL",  "OPTIONS",
        "SUBSCRIBE", "NOTIFY",   "UPDATE", "INFO", "REFER", "PUBLISH", "MESSAGE", "OTHER"};
    return n < kNames.size() ? kNames[n] : "OTHER";
}
}  // namespace

void appendMediaSummary(std::string& out, const sip::Sdp& sdp) {
    const auto field = [&](std::string_view v) {
        if (v.empty()) {
            out.push_back('-');
            return;
        }
        for (char c : v) {
            out.push_back(c == ' ' || c == '\n' || c == '\r' ? '_' : c);
        }
    };
    const size_t n = std::min<size_t>(sdp.media_count, 4);
    for (size_t i = 0; i < n; ++i) {
        const sip::SdpMedia& m = sdp.media[i];
        if (i > 0) {
            out.push_back('\n');
        }
        field(m.media);
        out.push_back(' ');
        out.append(std::to_string(m.port));
        out.push_back(' ');
        field(m.protocol);
        out.push_back(' ');
        field(m.connection_address.empty() ? sdp.connection_address : m.connection_address);
        out.push_back(' ');
        field(m.direction);
        out.push_back(' ');
        if (m.codec_count == 0) {
            field(m.formats);  // static payload types only: the format numbers
        }
        for (size_t c = 0; c < m.codec_count; ++c) {
            if (c > 0) {
                out.push_back(',');
            }
            field(m.codecs[c]);
        }
    }
}

// ---- CallEntry ----

std::string_view CallEntry::attr(Attr a) const noexcept {
    const auto i = static_cast<size_t>(a);
    if (len_[i] == 0) {
        return {};
    }
    return {buf_.get() + off_[i], len_[i]};
}

void CallEntry::setAttr(Attr a, std::string_view v) {
    const auto i = static_cast<size_t>(a);
    if (v.size() > kAttrMax[i]) {
        v = v.substr(0, kAttrMax[i]);  // §4.5: silently truncated
    }
    if (v.size() <= len_[i]) {
        if (!v.empty()) {
            std::memmove(buf_.get() + off_[i], v.data(), v.size());
        }
        len_[i] = static_cast<uint16_t>(v.size());
        return;
    }
    if (buf_used_ + v.size() <= buf_cap_) {
        std::memcpy(buf_.get() + buf_used_, v.data(), v.size());
        off_[i] = buf_used_;
        len_[i] = static_cast<uint16_t>(v.size());
        buf_used_ = static_cast<uint16_t>(buf_used_ + v.size());
        return;
    }
    // Compact into a new block sized for what is stored now, rounded to 16 bytes as
    // sipcmbeat's allocator does (§4.2), with room for a reason phrase to change.
    size_t need = v.size();
    for (size_t k = 0; k < kAttrCount; ++k) {
        if (k != i) {
            need += len_[k];
        }
    }
    const size_t cap = (need + 32 + 15) & ~size_t{15};
    std::unique_ptr<char[]> nb(new char[cap]);
    uint16_t used = 0;
    for (size_t k = 0; k < kAttrCount; ++k) {
        if (k == i || len_[k] == 0) {
            continue;
        }
        std::memcpy(nb.get() + used, buf_.get() + off_[k], len_[k]);
        off_[k] = used;
        used = static_cast<uint16_t>(used + len_[k]);
    }
    std::memcpy(nb.get() + used, v.data(), v.size());
    off_[i] = used;
    len_[i] = static_cast<uint16_t>(v.size());
    used = static_cast<uint16_t>(used + v.size());
    buf_ = std::move(nb);
    buf_cap_ = static_cast<uint16_t>(cap);
    buf_used_ = used;
}

void CallEntry::appendMsgTrace(std::string& out) const {
    const size_t n = std::min<size_t>(trace_total, kTraceLen);
    if (trace_total > kTraceLen) {
        out.append("...[");
        out.append(std::to_string(trace_total - kTraceLen));
        out.push_back(']');
    }
    for (size_t k = 0; k < n; ++k) {
        const size_t idx = (trace_total - n + k) % kTraceLen;
        const uint16_t r = trace[idx];
        const bool dir1 = (r & 0x8000) != 0;
        const bool is_reply = (r & 0x4000) != 0;
        const unsigned retr = (r >> 10) & 0xf;
        // §4.7: '>' caller→callee (caller request or reply to a callee request).
        out.push_back(dir1 == is_reply ? '>' : '<');
        if (is_reply) {
            out.append(std::to_string(r & 0x3ff));
        } else {
            out.append(sipspMethodText(r & 0xff));
        }
        if (retr > 0) {
            out.push_back('{');
            out.append(std::to_string(retr));
            out.push_back('}');
        }
    }
}

void CallEntry::appendStateTrace(std::string& out) const {
    const size_t n = std::min<size_t>(state_trace_total, kStateTraceLen);
    if (state_trace_total > kStateTraceLen) {
        out.append("...[");
        out.append(std::to_string(state_trace_total - kStateTraceLen));
        out.push_back(']');
    }
    for (size_t k = 0; k < n; ++k) {
        if (k > 0) {
            out.append("->");
        }
        out.append(callStateText(state_trace[(state_trace_total - n + k) % kStateTraceLen]));
    }
}

void CallEntry::appendEventFlags(std::string& out) const {
    bool first = true;
    for (size_t t = 1; t < kEventTypeCount; ++t) {
        if ((event_flags & (1u << t)) != 0) {
            if (!first) {
                out.push_back('|');
            }
            first = false;
            out.append(kEventNames[t]);
        }
    }
}

TrackerConfig TrackerConfig::defaults() {
    TrackerConfig c;
    for (size_t i = 0; i < kCallStateCount; ++i) {
        c.timeout_s[i] = kStates[i].range.default_s;
    }
    return c;
}

// ---- CallTracker ----

CallTracker::CallTracker(const TrackerConfig& cfg, CallEventSink& sink,
                         monitoring::Registry& metrics)
    : cfg_(cfg), sink_(sink), buckets_(4096, nullptr), wheel_(kWheelSlots, nullptr) {
    for (size_t i = 0; i < kCallStateCount; ++i) {
        if (cfg_.timeout_s[i] <= 0) {
            cfg_.timeout_s[i] = kStates[i].range.default_s;
        }
    }
    slot_min_.assign(kWheelSlots, INT64_MAX);
    fail_new_ = &metrics.counter("calls.fail_new");
    fail_lim_ = &metrics.counter("calls.fail_lim");
    key_too_long_ = &metrics.counter("calls.key_too_long");
    // sipcmbeat's max counters (§9): current value and highest, `.val` and `.max`.
    active_ = &metrics.gauge("calls.active");
    mem_ = &metrics.gauge("calls.mem");
    for (size_t i = 2; i < kCallStateCount; ++i) {
        per_state_[i] = &metrics.gauge("calls." + std::string(kStates[i].config_name));
    }
    regs_fail_lim_ = &metrics.counter("regs.fail_lim");
    regs_active_ = &metrics.gauge("regs.active");
    regs_del_star_ = &metrics.counter("regs.del_star");
    regs_del_no_match_ = &metrics.counter("regs.del_no_match");
    regs_del_delayed_ = &metrics.counter("regs.del_delayed");
    regs_del_delayed_ev_ = &metrics.counter("regs.del_delayed_ev");
    regs_refresh_diff_callid_ = &metrics.counter("regs.refresh_diff_callid");
    regs_ev_no_contact_ = &metrics.counter("regs.ev_no_contact");
    regs_ev_no_aor_ = &metrics.counter("regs.ev_no_aor");
    regs_new_after_del_ = &metrics.counter("regs.new_after_del");
}

CallTracker::~CallTracker() {
    for (CallEntry*& head : buckets_) {
        while (head != nullptr) {
            CallEntry* next = head->hash_next_;
            delete head;
            head = next;
        }
    }
    for (auto& [key, b] : bindings_) {
        delete b;
    }
}

size_t CallTracker::entryOverhead() noexcept {
    return sizeof(CallEntry);
}

int64_t CallTracker::stateTimeoutNs(CallState s) const {
    return cfg_.timeout_s[static_cast<size_t>(s)] * core::kNsPerSecond;
}

void CallTracker::countState(CallState s, int delta) {
    const auto i = static_cast<size_t>(s);
    state_counts_[i] = delta > 0 ? state_counts_[i] + 1 : state_counts_[i] - 1;
    if (per_state_[i] != nullptr) {
        per_state_[i]->set(state_counts_[i]);
    }
}

void CallTracker::setState(CallEntry* e, CallState s) {
    if (e->state == s) {
        return;
    }
    countState(e->state, -1);
    e->state = s;
    countState(s, +1);
}

// ---- timers: a wheel on the packet clock ----

void CallTracker::timerUnlink(CallEntry* e) {
    if (!e->in_timer_) {
        return;
    }
    if (e->timer_prev_ != nullptr) {
        e->timer_prev_->timer_next_ = e->timer_next_;
    } else {
        wheel_[e->timer_slot_] = e->timer_next_;
    }
    if (e->timer_next_ != nullptr) {
        e->timer_next_->timer_prev_ = e->timer_prev_;
    }
    e->timer_prev_ = e->timer_next_ = nullptr;
    e->in_timer_ = false;
    --timer_count_;
}

void CallTracker::timerLink(CallEntry* e) {
    const auto slot =
        static_cast<uint32_t>(static_cast<uint64_t>(e->expires_ / kTickNs) & (kWheelSlots - 1));
    e->timer_slot_ = slot;
    e->timer_prev_ = nullptr;
    e->timer_next_ = wheel_[slot];
    if (wheel_[slot] != nullptr) {
        wheel_[slot]->timer_prev_ = e;
    }
    wheel_[slot] = e;
    e->in_timer_ = true;
    slot_min_[slot] = std::min(slot_min_[slot], e->expires_);
    ++timer_count_;
}

void CallTracker::setTimer(CallEntry* e, int64_t timeout_ns, bool force) {
    // §2.2: state changes force the new expiry; everything else only extends it.
    const core::TimestampNs when = now_ + timeout_ns;
    if (!force && e->in_timer_ && when <= e->expires_) {
        return;
    }
    timerUnlink(e);
    e->expires_ = when;
    timerLink(e);
}

void CallTracker::fireSlot(int64_t tick, core::TimestampNs limit) {
    firing_floor_ = tick * kTickNs;
    const size_t slot = static_cast<size_t>(static_cast<uint64_t>(tick) & (kWheelSlots - 1));
    // Entries quick-expired while others fire land in this slot again: loop until none.
    for (;;) {
        if (slot_min_[slot] > limit) {
            return;
        }
        due_.clear();
        core::TimestampNs remaining_min = INT64_MAX;
        for (CallEntry* e = wheel_[slot]; e != nullptr; e = e->timer_next_) {
            if (e->expires_ <= limit) {
                due_.push_back(e);
            } else {
                remaining_min = std::min(remaining_min, e->expires_);
            }
        }
        slot_min_[slot] = remaining_min;
        if (due_.empty()) {
            return;
        }
        // Due order; ties in creation order so replays are deterministic.
        std::sort(due_.begin(), due_.end(), [](const CallEntry* a, const CallEntry* b) {
            return a->expires_ != b->expires_ ? a->expires_ < b->expires_ : a->seq_ < b->seq_;
        });
        for (CallEntry* e : due_) {
            timerUnlink(e);
        }
        fired_.swap(due_);
        const core::TimestampNs target_now = now_;
        for (CallEntry* e : fired_) {
            // While a timer fires, the packet clock reads its due time: what it triggers
            // (quick expiry of other registrations) is stamped then, not later.
            now_ = std::max(e->expires_, firing_floor_);
            timeout(e);
        }
        now_ = target_now;
        fired_.clear();
    }
}

int64_t CallTracker::earliestTick() {
    // slot_min_ is a lower bound; refresh the slots whose bound lies in the past (entries
    // destroyed or moved since) so the jump is not held back by stale values.
    const core::TimestampNs passed = (wheel_tick_ + 1) * kTickNs;
    core::TimestampNs earliest = INT64_MAX;
    for (size_t s = 0; s < kWheelSlots; ++s) {
        if (slot_min_[s] < passed) {
            core::TimestampNs m = INT64_MAX;
            for (CallEntry* e = wheel_[s]; e != nullptr; e = e->timer_next_) {
                m = std::min(m, e->expires_);
            }
            slot_min_[s] = m;
        }
        earliest = std::min(earliest, slot_min_[s]);
    }
    return earliest / kTickNs;
}

void CallTracker::advanceTime(core::TimestampNs now) {
    if (now > now_) {
        now_ = now;
    }
    const int64_t target = now_ / kTickNs;
    if (wheel_tick_ < 0) {
        wheel_tick_ = target - 1;
    }
    while (wheel_tick_ < target - 1) {
        if (timer_count_ == 0) {
            wheel_tick_ = target - 1;
            break;
        }
        if (target - 1 - wheel_tick_ > static_cast<int64_t>(kWheelSlots)) {
            // A long gap (pcap pause, end of input): jump to the earliest timer.
            const int64_t t = earliestTick();
            if (t > wheel_tick_ + 1) {
                wheel_tick_ = std::min(t, target) - 1;
                continue;
            }
        }
        ++wheel_tick_;
        // A whole tick that has passed: every entry due in it fires, in due order.
        fireSlot(wheel_tick_, (wheel_tick_ + 1) * kTickNs - 1);
    }
    // The current tick: what is due by now. Its slot is walked only when its lower bound
    // says something is due, and 1 ms slots hold few entries.
    fireSlot(target, now_);
}

void CallTracker::finish(int64_t force_after_ns) {
    // Collect every pending entry; with end_force_timeout cap its expiry (§5.2).
    std::vector<CallEntry*> pending;
    pending.reserve(timer_count_);
    for (CallEntry* head : wheel_) {
        for (CallEntry* e = head; e != nullptr; e = e->timer_next_) {
            pending.push_back(e);
        }
    }
    core::TimestampNs last = now_;
    for (CallEntry* e : pending) {
        if (force_after_ns > 0 && e->expires_ > now_ + force_after_ns) {
            timerUnlink(e);
            e->expires_ = now_ + force_after_ns;
            timerLink(e);
        }
        last = std::max(last, e->expires_);
    }
    // Timers fired by others (quick expiry) are due no later than their trigger, so one
    // pass up to the latest expiry fires everything.
    while (timer_count_ > 0) {
        // A tick fires once it has passed: go one tick beyond the latest expiry.
        advanceTime(last + kTickNs);
        if (timer_count_ > 0) {
            core::TimestampNs next = INT64_MIN;
            for (CallEntry* head : wheel_) {
                for (CallEntry* e = head; e != nullptr; e = e->timer_next_) {
                    next = std::max(next, e->expires_);
                }
            }
            last = std::max(next, now_);
        }
    }
}

// ---- entries ----

CallEntry* CallTracker::allocEntry() {
    // §4.2: beyond calls_max_entries / calls_max_mem new entries fail and are counted (the
    // memory check counts a typical first attribute block of 128 bytes).
    if ((cfg_.max_entries != 0 && entry_count_ >= cfg_.max_entries) ||
        (cfg_.max_mem != 0 && mem_bytes_ + sizeof(CallEntry) + 128 > cfg_.max_mem)) {
        fail_lim_->add();
        return nullptr;
    }
    auto* e = new (std::nothrow) CallEntry();
    if (e == nullptr) {
        fail_new_->add();
        return nullptr;
    }
    e->seq_ = ++seq_;
    return e;
}

CallEntry* CallTracker::create(const MsgInfo& m, const decode::SipPayload& p) {
    CallEntry* e = allocEntry();
    if (e == nullptr) {
        return nullptr;
    }
    e->hash_ = hashCallId(m.call_id);
    e->method = m.method;
    e->transport = p.transport;
    e->created = m.ts;
    // §4.4: entries created from a reply get the endpoints swapped back, so `client` is
    // always the side that sent the request.
    if (m.request) {
        e->client = {p.src, p.src_port};
        e->server = {p.dst, p.dst_port};
    } else {
        e->client = {p.dst, p.dst_port};
        e->server = {p.src, p.src_port};
    }
    e->setAttr(Attr::CallId, m.call_id);
    e->setAttr(Attr::FromTag, m.from_tag);
    e->setAttr(Attr::ToTag, m.to_tag);
    e->setAttr(Attr::Method, m.method_name);
    e->state = CallState::Init;
    countState(CallState::Init, +1);
    linkEntry(e);
    return e;
}

void CallTracker::linkEntry(CallEntry* e) {
    if (entry_count_ + 1 > buckets_.size()) {
        rehash(buckets_.size() * 2);
    }
    CallEntry*& head = buckets_[e->hash_ & (buckets_.size() - 1)];
    // Newest first: among equally good matches the newest entry wins (§4.3).
    e->hash_next_ = head;
    head = e;
    ++entry_count_;
    mem_bytes_ += sizeof(CallEntry) + e->buf_cap_;
    e->accounted_ = e->buf_cap_;
    active_->set(entry_count_);
    mem_->set(mem_bytes_);
}

void CallTracker::rehash(size_t n) {
    std::vector<CallEntry*> nb(n, nullptr);
    for (CallEntry* head : buckets_) {
        // Walk each chain from its tail so relative order (newest first) is kept.
        std::vector<CallEntry*>& chain = rehash_scratch_;
        chain.clear();
        for (CallEntry* e = head; e != nullptr; e = e->hash_next_) {
            chain.push_back(e);
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            CallEntry*& h = nb[(*it)->hash_ & (n - 1)];
            (*it)->hash_next_ = h;
            h = *it;
        }
    }
    buckets_.swap(nb);
}

void CallTracker::account(CallEntry* e) {
    if (e->accounted_ != e->buf_cap_) {
        mem_bytes_ = mem_bytes_ - e->accounted_ + e->buf_cap_;
        e->accounted_ = e->buf_cap_;
        mem_->set(mem_bytes_);
    }
}

void CallTracker::destroy(CallEntry* e) {
    timerUnlink(e);
    releaseBinding(e);
    CallEntry** link = &buckets_[e->hash_ & (buckets_.size() - 1)];
    while (*link != nullptr && *link != e) {
        link = &(*link)->hash_next_;
    }
    if (*link == e) {
        *link = e->hash_next_;
    }
    countState(e->state, -1);
    --entry_count_;
    mem_bytes_ -= sizeof(CallEntry) + e->accounted_;
    active_->set(entry_count_);
    mem_->set(mem_bytes_);
    delete e;
}

CallEntry* CallTracker::fork(CallEntry* parent, const MsgInfo& m) {
    CallEntry* c = allocEntry();
    if (c == nullptr) {
        return nullptr;
    }
    // §2.7: the child copies the parent's request side, traces, attributes and event
    // flags (not the reg-* ones) and starts in `init` for the new branch.
    c->hash_ = parent->hash_;
    c->method = parent->method;
    c->transport = parent->transport;
    c->client = parent->client;
    c->server = parent->server;
    c->created = parent->created;
    c->forked_ts = m.ts;
    c->event_flags = parent->event_flags & ~kRegEventBits;
    c->trace = parent->trace;
    c->trace_total = parent->trace_total;
    c->state_trace = parent->state_trace;
    c->state_trace_total = parent->state_trace_total;
    c->flags = kFlagForkChild;
    c->call_reported_ = parent->call_reported_;
    parent->flags |= kFlagForkParent;
    for (size_t a = 0; a < kAttrCount; ++a) {
        const auto attr = static_cast<Attr>(a);
        // The branch's To-tag and media are its own.
        if (attr != Attr::ToTag && attr != Attr::CalleeMedia) {
            c->setAttr(attr, parent->attr(attr));
        }
    }
    c->setAttr(Attr::ToTag, m.to_tag);
    c->state = CallState::Init;
    countState(CallState::Init, +1);
    linkEntry(c);
    return c;
}

namespace {
constexpr uint32_t kCallEventBits =
    bit(EventType::CallStart) | bit(EventType::CallEnd) | bit(EventType::CallAttempt);
}

bool CallTracker::relatedHasCallEvent(const CallEntry* e) const {
    if (e->call_reported_) {
        return true;
    }
    for (const CallEntry* o = buckets_[e->hash_ & (buckets_.size() - 1)]; o != nullptr;
         o = o->hash_next_) {
        if (o != e && o->hash_ == e->hash_ && (o->event_flags & kCallEventBits) != 0 &&
            o->callId() == e->callId()) {
            return true;
        }
    }
    return false;
}

bool CallTracker::siblingStillPending(const CallEntry* e) const {
    for (const CallEntry* o = buckets_[e->hash_ & (buckets_.size() - 1)]; o != nullptr;
         o = o->hash_next_) {
        if (o != e && o->hash_ == e->hash_ && o->callId() == e->callId() &&
            (o->state == CallState::FirstInvite || o->state == CallState::EarlyDialog ||
             o->state == CallState::Canceled)) {
            return true;
        }
    }
    return false;
}

void CallTracker::markCallReported(const CallEntry* e) {
    // Branches that outlive the one that reported keep knowing the call was reported, so
    // a branch's later timeout does not add a call-attempt (§2.7: once per Call-ID).
    for (CallEntry* o = buckets_[e->hash_ & (buckets_.size() - 1)]; o != nullptr;
         o = o->hash_next_) {
        if (o->hash_ == e->hash_ && o->callId() == e->callId()) {
            o->call_reported_ = true;
        }
    }
}

// §4.3 and §2.7: full match (Call-ID, From-tag, To-tag, either direction), else the best
// partial match (Call-ID + From-tag, or reversed tags), else a Call-ID-only match.
CallEntry* CallTracker::find(const MsgInfo& m, int& dir, bool& create_fork) {
    create_fork = false;
    const uint32_t h = hashCallId(m.call_id);
    CallEntry* partial = nullptr;
    int partial_dir = 0;
    CallEntry* cid_only = nullptr;
    const auto better = [&](const CallEntry* cand, const CallEntry* best, int cdir) {
        // §4.3: same method as the message, then the message's CSeq equal to the
        // entry's, then a 401/407 status, then the greater CSeq; ties keep the first.
        if (best == nullptr) {
            return true;
        }
        const bool cm = cand->method == m.method, bm = best->method == m.method;
        if (cm != bm) {
            return cm;
        }
        // The entry's request CSeq: a fork child has none until a request reaches it.
        const auto cseqOf = [&](const CallEntry* x) { return x->cseq[static_cast<size_t>(cdir)]; };
        const bool ce = cseqOf(cand) == m.cseq, be = cseqOf(best) == m.cseq;
        if (ce != be) {
            return ce;
        }
        const bool ca = isAuthChallenge(cand->status), ba = isAuthChallenge(best->status);
        if (ca != ba) {
            return ca;
        }
        return cseqOf(cand) > cseqOf(best);
    };
    for (CallEntry* e = buckets_[h & (buckets_.size() - 1)]; e != nullptr; e = e->hash_next_) {
        if (e->hash_ != h || e->callId() != m.call_id) {
            continue;
        }
        const std::string_view ft = e->attr(Attr::FromTag);
        const std::string_view tt = e->attr(Attr::ToTag);
        if (ft == m.from_tag) {
            // A To-tag-less message only fully matches an entry of its own method.
            if (tt == m.to_tag && (!m.to_tag.empty() || e->method == m.method)) {
                dir = 0;
                return e;
            }
            if (better(e, partial, 0)) {
                partial = e;
                partial_dir = 0;
            }
        } else if (!m.to_tag.empty() && ft == m.to_tag) {
            if (tt == m.from_tag) {
                dir = 1;
                return e;
            }
            if (better(e, partial, 1)) {
                partial = e;
                partial_dir = 1;
            }
        } else if (cid_only == nullptr) {
            cid_only = e;
        }
    }
    if (partial != nullptr) {
        CallEntry* e = partial;
        dir = partial_dir;
        if (dir == 0 && !m.to_tag.empty() && e->attr(Attr::ToTag).empty()) {
            // The dialog's first tagged message fills the To-tag in place.
            e->setAttr(Attr::ToTag, m.to_tag);
            e->flags |= kFlagReused;
            account(e);
            return e;
        }
        if ((e->state == CallState::InviteNegReply || e->state == CallState::NonInviteNegReply) &&
            e->method == m.method) {
            // Serial forking, or the retry after a challenge: the entry is re-used.
            e->setAttr(Attr::ToTag, m.to_tag);
            e->flags |= kFlagReused;
            account(e);
            return e;
        }
        if (m.to_tag.empty()) {
            return e;  // retransmission, CANCEL, late retry: absorbed
        }
        if (!m.request && (m.method == sip::Method::Cancel || m.status == 100)) {
            // sipbeat: the 200 to a CANCEL is hop-by-hop (RFC 3261 §9.2) and its To-tag
            // is the proxy's own, not a new dialog; the original forks here and reports
            // the cancelled call as 200 "canceling". A 100 never forks (§2.7).
            return e;
        }
        if (e->method != sip::Method::Invite) {
            // Non-INVITE transactions have no dialogs to fork: a registrar that puts a new
            // To-tag in every reply keeps one entry (sipcmbeat forks and gets the same
            // events, §4.6).
            e->setAttr(Attr::ToTag, m.to_tag);
            account(e);
            return e;
        }
        create_fork = true;
        return e;
    }
    if (cid_only != nullptr &&
        (cid_only->state == CallState::InviteNegReply ||
         cid_only->state == CallState::NonInviteNegReply) &&
        isAuthChallenge(cid_only->status) && cid_only->method == m.method && m.request) {
        // UAs that change the From-tag when they resend after a challenge (§2.7).
        cid_only->setAttr(Attr::FromTag, m.from_tag);
        cid_only->setAttr(Attr::ToTag, m.to_tag);
        cid_only->flags |= kFlagReused;
        account(cid_only);
        dir = 0;
        return cid_only;
    }
    return nullptr;
}

void CallTracker::addTrace(CallEntry* e, int dir, bool is_reply, uint16_t code,
                           bool retransmission) {
    const uint16_t rec =
        static_cast<uint16_t>((dir != 0 ? 0x8000 : 0) | (is_reply ? 0x4000 : 0) | (code & 0x3ff));
    if (retransmission && e->trace_total > 0) {
        uint16_t& last = e->trace[(e->trace_total - 1) % CallEntry::kTraceLen];
        if ((last & 0xc3ffu) == rec) {
            const unsigned n = (last >> 10) & 0xf;
            if (n < 15) {
                last = static_cast<uint16_t>((last & 0xc3ffu) | ((n + 1) << 10));
            }
            return;
        }
    }
    e->trace[e->trace_total % CallEntry::kTraceLen] = rec;
    // The count saturates in whole turns of the ring, so the newest record keeps its slot.
    if (e->trace_total >= UINT16_MAX - CallEntry::kTraceLen) {
        e->trace_total = static_cast<uint16_t>(e->trace_total - CallEntry::kTraceLen);
    }
    ++e->trace_total;
}

void CallTracker::pushState(CallEntry* e) {
    e->state_trace[e->state_trace_total % CallEntry::kStateTraceLen] = e->state;
    if (e->state_trace_total >= UINT16_MAX - CallEntry::kStateTraceLen) {
        e->state_trace_total =
            static_cast<uint16_t>(e->state_trace_total - CallEntry::kStateTraceLen);
    }
    ++e->state_trace_total;
}

void CallTracker::emit(CallEntry* e, EventType t, EventGen g, core::TimestampNs when,
                       uint16_t forced_status, std::string_view forced_reason) {
    if (e->hasEvent(t)) {
        return;  // §2.1: one event per type per entry
    }
    if (t == EventType::CallAttempt && relatedHasCallEvent(e)) {
        return;  // §2.7: call-attempt once per Call-ID, none after a call-start
    }
    e->event_flags |= bit(t);
    CallEvent ev;
    ev.type = t;
    ev.gen = g;
    ev.time = when;
    ev.entry = e;
    ev.previous_event = e->last_event;
    ev.status = forced_status != 0 ? forced_status : e->status;
    ev.reason = forced_status != 0 ? forced_reason : e->attr(Attr::Reason);
    // sipcmbeat's Fill() (§2.5): reconstructed events get pseudo statuses.
    if (ev.status < 200) {
        if (t == EventType::CallAttempt && e->state == CallState::Canceled) {
            ev.status = 487;
            ev.reason = "internal: cancel";
        } else if (g == EventGen::Timeout) {
            ev.status = 408;
            ev.reason = "internal: call state timeout";
        } else if (t == EventType::CallStart) {
            ev.status = 290;
            ev.reason = "internal: implied OK";
        } else if (t == EventType::CallEnd) {
            ev.status = 291;
            ev.reason = "internal: implied OK";
        }
    }
    e->last_event = t;
    if ((bit(t) & kCallEventBits) != 0) {
        markCallReported(e);
    }
    sink_.onCallEvent(ev);
}

void CallTracker::updateAttrsFromRequest(CallEntry* e, int dir, const MsgInfo& m,
                                         const sip::Message& msg) {
    if (dir != 0) {
        // Requests of the callee side carry its User-Agent (uas.original, §3.2).
        if (e->attr(Attr::Uas).empty()) {
            if (const sip::Header* ua = msg.first(sip::HeaderType::UserAgent)) {
                e->setAttr(Attr::Uas, ua->value);
            }
        }
        return;
    }
    // First value wins (§4.5), except Contact for REGISTER and PAI below.
    if (e->attr(Attr::From).empty()) {
        e->setAttr(Attr::From, m.fromUri());
    }
    if (e->attr(Attr::To).empty()) {
        e->setAttr(Attr::To, m.toUri());
    }
    if (e->attr(Attr::RequestUri).empty()) {
        e->setAttr(Attr::RequestUri, msg.requestUri());
    }
    if (e->attr(Attr::UserAgent).empty()) {
        if (const sip::Header* ua = msg.first(sip::HeaderType::UserAgent)) {
            e->setAttr(Attr::UserAgent, ua->value);
        }
    }
    if (e->attr(Attr::Contact).empty() || m.method == sip::Method::Register) {
        std::array<sip::Contact, 1> c;
        // A REGISTER without Contact (a query) stores nothing: no reg-* event (§4.6).
        if (msg.contacts(c) > 0) {
            e->setAttr(Attr::Contact, c[0].star ? std::string_view("*") : c[0].addr.uri.original);
        }
    }
    // §2.3: the first two PAI URIs of every caller request but REGISTER/ACK/PRACK/UPDATE.
    if (m.method != sip::Method::Register && m.method != sip::Method::Ack &&
        m.method != sip::Method::Prack && m.method != sip::Method::Update) {
        int n = 0;
        for (const sip::Header& h : msg.headers()) {
            if (h.type != sip::HeaderType::PAssertedIdentity || n >= 2) {
                continue;
            }
            forEachListItem(h.value, [&](std::string_view item) {
                sip::NameAddr na;
                if (sip::parseNameAddr(item, na)) {
                    e->setAttr(n == 0 ? Attr::Pai1 : Attr::Pai2, na.uri.original);
                    ++n;
                }
                return n < 2;
            });
        }
    }
    account(e);
}

// ---- requests (§2.3) ----

void CallTracker::recordMedia(CallEntry* e, bool caller_side, const sip::Message& msg) {
    // Only INVITE dialogs report media, and only the first SDP of each side: parsing SDP
    // costs, and the offer/answer of the call is what the summary is for.
    const Attr a = caller_side ? Attr::CallerMedia : Attr::CalleeMedia;
    if (e->method != sip::Method::Invite || msg.body().empty() || !e->attr(a).empty()) {
        return;
    }
    sip::Sdp sdp;
    if (!msg.sdp(sdp) || sdp.media_count == 0) {
        return;
    }
    std::string& s = media_scratch_;
    s.clear();
    appendMediaSummary(s, sdp);
    e->setAttr(a, s);
    account(e);
}

void CallTracker::request(CallEntry* e, int dir, const MsgInfo& m, const sip::Message& msg) {
    const auto d = static_cast<size_t>(dir);
    const sip::Method meth = m.method;
    bool retr = m.cseq < std::max(e->cseq[d], e->reply_cseq[d]) ||
                (m.cseq == e->cseq[d] && meth != sip::Method::Ack && meth != sip::Method::Cancel);
    // PRACK and UPDATE are treated like retransmissions: they never change the state.
    if (meth == sip::Method::Prack || meth == sip::Method::Update) {
        retr = true;
    }
    addTrace(e, dir, false, sipspMethodNumber(meth), retr);
    if (retr) {
        ++e->req_retr[d];
        setTimer(e, stateTimeoutNs(e->state), false);
        return;
    }
    ++e->req_no[d];
    e->cseq[d] = std::max(e->cseq[d], m.cseq);
    e->last_method[d] = sipspMethodNumber(meth);
    pushState(e);
    updateAttrsFromRequest(e, dir, m, msg);
    recordMedia(e, dir == 0, msg);
    const CallState old = e->state;
    CallState next = old;
    EventType ev = EventType::Empty;
    const bool in_dialog = !m.to_tag.empty();
    if (meth == sip::Method::Bye) {
        if (old == CallState::Init || old == CallState::FirstInvite ||
            old == CallState::EarlyDialog || old == CallState::Established ||
            old == CallState::InviteNegReply) {
            next = CallState::ByeSeen;
            ev = EventType::CallEnd;  // on the BYE itself (§2.3)
            if (dir == 1) {
                e->flags |= kFlagCalleeTerminated;
            }
        }
    } else if (meth == sip::Method::Cancel) {
        if (old == CallState::Init || old == CallState::FirstInvite ||
            old == CallState::EarlyDialog) {
            // The call-attempt waits for the canceled timeout, to catch a late 2xx.
            next = CallState::Canceled;
            e->flags |= kFlagCanceled;
        }
    } else if (in_dialog) {
        if (old == CallState::Init) {
            if (meth == sip::Method::Invite) {
                next = CallState::Established;  // a re-INVITE of a call whose INVITE was missed
                ev = EventType::CallStart;
            } else if (meth != sip::Method::Ack) {
                next = CallState::FirstNonInvite;
            }
        } else if (old == CallState::FirstInvite || old == CallState::EarlyDialog) {
            if (meth != sip::Method::Ack && meth != sip::Method::Notify) {
                next = CallState::Established;  // the 2xx was missed
                ev = EventType::CallStart;
            }
        }
    } else {
        if (meth == sip::Method::Invite) {
            if (old == CallState::Init || old == CallState::InviteNegReply) {
                next = CallState::FirstInvite;
            }
        } else if (old == CallState::Init) {
            next = CallState::FirstNonInvite;
        }
    }
    if (next != old) {
        setState(e, next);
        setTimer(e, stateTimeoutNs(next), true);
    } else {
        setTimer(e, stateTimeoutNs(old), false);
    }
    if (ev != EventType::Empty) {
        emit(e, ev, EventGen::Request, m.ts);
    }
}

// ---- replies (§2.4) ----

void CallTracker::reply(CallEntry* e, int dir, const MsgInfo& m, const sip::Message& msg) {
    const auto d = static_cast<size_t>(dir);
    const int status = m.status;
    const sip::Method meth = m.method;
    // A reply of another method with the same CSeq (200 INVITE after 200 CANCEL) is new.
    const uint8_t method_no = sipspMethodNumber(meth);
    bool retr = m.cseq < e->reply_cseq[d] ||
                (m.cseq == e->reply_cseq[d] && method_no == e->last_reply_method[d] &&
                 status <= e->last_status[d] && !(is2xx(status) && !is2xx(e->last_status[d])));
    if (meth == sip::Method::Prack || meth == sip::Method::Update || meth == sip::Method::Ack) {
        retr = true;  // replies to PRACK/UPDATE/ACK are ignored
    }
    addTrace(e, dir, true, static_cast<uint16_t>(status), retr);
    if (retr) {
        ++e->repl_retr[d];
        setTimer(e, stateTimeoutNs(e->state), false);
        return;
    }
    ++e->repl_no[d];
    e->reply_cseq[d] = std::max(e->reply_cseq[d], m.cseq);
    e->last_status[d] = static_cast<uint16_t>(status);
    e->last_reply_method[d] = method_no;
    pushState(e);
    // User-Agent of replies: the callee's (dir 0) is uas.original, the caller's user_agent.
    if (const sip::Header* ua = msg.first(sip::HeaderType::UserAgent)) {
        const Attr a = dir == 0 ? Attr::Uas : Attr::UserAgent;
        if (e->attr(a).empty()) {
            e->setAttr(a, ua->value);
        }
    }
    const bool creating = meth == e->method;
    recordMedia(e, dir != 0, msg);
    const uint16_t prev_final = e->final_status[d];
    if (creating && status > 100) {
        // Only replies to the creating method set sip.response.* and the reason (§2.4).
        e->status = static_cast<uint16_t>(status);
        e->setAttr(Attr::Reason, msg.reason());
        if (status >= 200) {
            e->final_status[d] = static_cast<uint16_t>(status);
            if (is2xx(status) || e->final_reply_ts == 0) {
                e->final_reply_ts = m.ts;
            }
        } else if (status >= 180 && status < 190 && e->first_18x_ts == 0) {
            e->first_18x_ts = m.ts;
        }
    }
    account(e);
    const CallState old = e->state;
    CallState next = old;
    EventType ev = EventType::Empty;
    if (meth == sip::Method::Cancel) {
        if (old == CallState::Init || old == CallState::FirstInvite ||
            old == CallState::EarlyDialog) {
            next = CallState::Canceled;
            e->flags |= kFlagCanceled;
            ev = EventType::CallAttempt;
        }
    } else if (meth == sip::Method::Bye) {
        if (old == CallState::Init || old == CallState::FirstInvite ||
            old == CallState::EarlyDialog || old == CallState::Established ||
            old == CallState::ByeSeen || old == CallState::InviteNegReply) {
            next = CallState::ByeReplied;
            ev = EventType::CallEnd;
        }
    } else if (status >= 300) {
        if (old == CallState::Init) {
            next = meth == sip::Method::Invite ? CallState::InviteNegReply
                                               : CallState::NonInviteNegReply;
        } else if (old == CallState::FirstInvite || old == CallState::EarlyDialog) {
            if (meth == sip::Method::Invite) {
                next = CallState::InviteNegReply;  // no event yet: another branch may answer
            }
        } else if (old == CallState::FirstNonInvite && creating) {
            next = CallState::NonInviteNegReply;
        }
        // A challenge answered by the same challenge: the credentials were refused.
        if (creating && isAuthChallenge(status) && prev_final == status &&
            (next == CallState::InviteNegReply || next == CallState::NonInviteNegReply)) {
            ev = EventType::AuthFailed;
        }
    } else if (is2xx(status)) {
        switch (old) {
            case CallState::Init:
                if (meth == sip::Method::Invite) {
                    next = CallState::Established;
                    ev = EventType::CallStart;
                } else {
                    next = CallState::NonInviteFinished;
                }
                break;
            case CallState::FirstInvite:
            case CallState::EarlyDialog:
            case CallState::InviteNegReply:
                if (meth == sip::Method::Invite) {
                    next = CallState::Established;
                    ev = EventType::CallStart;
                }
                break;
            case CallState::FirstNonInvite:
            case CallState::NonInviteNegReply:
            case CallState::NonInviteFinished:
                if (creating) {
                    next = CallState::NonInviteFinished;
                }
                break;
            default:
                break;  // established (re-INVITE 200), canceled (2xx after CANCEL), BYE states
        }
    } else if (status > 100) {
        if ((old == CallState::Init || old == CallState::FirstInvite) && !m.to_tag.empty() &&
            meth == sip::Method::Invite) {
            next = CallState::EarlyDialog;
        }
    }
    const bool reg_logic = creating && meth == sip::Method::Register && is2xx(status) &&
                           next == CallState::NonInviteFinished;
    if (next != old) {
        setState(e, next);
        if (!reg_logic) {
            setTimer(e, stateTimeoutNs(next), true);
        }
    } else if (!reg_logic) {
        setTimer(e, stateTimeoutNs(old), false);
    }
    if (reg_logic) {
        registerReply(e, m, msg, old == CallState::Init);
        return;
    }
    if (ev != EventType::Empty) {
        emit(e, ev, EventGen::Reply, m.ts);
    }
}

// ---- registrations (§4.6) ----

void CallTracker::releaseBinding(CallEntry* e) {
    Binding* b = e->binding_;
    if (b == nullptr) {
        return;
    }
    e->binding_ = nullptr;
    if (b->owner == e) {
        binding_mem_ -= bindingBytes(b->key, b->aor_key);
        bindings_.erase(b->key);
        auto [lo, hi] = by_aor_.equal_range(b->aor_key);
        for (auto it = lo; it != hi; ++it) {
            if (it->second == b) {
                by_aor_.erase(it);
                break;
            }
        }
        delete b;
        regs_active_->set(bindings_.size());
    }
}

void CallTracker::regDelete(CallEntry* e, core::TimestampNs when, EventGen gen,
                            const std::string& key) {
    // Another entry (an older Call-ID) owning the binding goes silent: the binding is gone.
    if (auto it = bindings_.find(key); it != bindings_.end() && it->second->owner != e) {
        CallEntry* old = it->second->owner;
        releaseBinding(old);
        silence(old);
    }
    if (cfg_.reg_del_delay_s > 0) {
        // §4.6 reg_del_delay: wait for a quick re-register before reporting the reg-del.
        e->reg_del_pending_ = true;
        e->flags |= kFlagDelayedRegDel;
        regs_del_delayed_->add();
        setTimer(e, cfg_.reg_del_delay_s * core::kNsPerSecond, true);
        return;
    }
    releaseBinding(e);
    e->event_flags &= ~(bit(EventType::RegNew) | bit(EventType::RegExpired));
    setTimer(e, stateTimeoutNs(e->state), true);
    emitReg(e, EventType::RegDel, gen, when);
}

void CallTracker::silence(CallEntry* e) {
    // Its binding belongs to another Call-ID now or is gone: it ends at once, with neither
    // reg-del nor reg-expired (§4.6).
    e->reg_deleted_ = true;
    e->reg_del_pending_ = false;
    setTimerAt(e, now_);
}

void CallTracker::setTimerAt(CallEntry* e, core::TimestampNs when) {
    timerUnlink(e);
    e->expires_ = std::max(when, now_);
    timerLink(e);
}

void CallTracker::emitReg(CallEntry* e, EventType t, EventGen g, core::TimestampNs when) {
    // reg-* events need an AOR and a contact (§4.6).
    if (e->attr(Attr::To).empty()) {
        regs_ev_no_aor_->add();
        return;
    }
    if (e->attr(Attr::Contact).empty()) {
        regs_ev_no_contact_->add();
        return;
    }
    if (t == EventType::RegNew) {
        e->event_flags &= ~(bit(EventType::RegDel) | bit(EventType::RegExpired));
    }
    emit(e, t, g, when);
}

void CallTracker::registerReply(CallEntry* e, const MsgInfo& m, const sip::Message& msg,
                                bool from_init) {
    std::array<sip::Contact, 10> contacts;
    const size_t nc = msg.contacts(contacts);
    const int64_t header_expires = msg.expires();
    const auto expiresOf = [&](const sip::Contact& c) -> int64_t {
        if (c.expires >= 0) {
            return c.expires;
        }
        if (header_expires >= 0) {
            return header_expires;
        }
        return 3600;  // RFC 3261 §10.2.1.1: the registrar's default when none is given
    };
    if (from_init) {
        // A 2xx seen without its REGISTER: the reply's first Contact, expiry = the largest
        // expires in the reply, without reg_exp_delta (§4.6).
        if (e->attr(Attr::Contact).empty() && nc > 0 && !contacts[0].star) {
            e->setAttr(Attr::Contact, contacts[0].addr.uri.original);
            account(e);
        }
        if (e->attr(Attr::From).empty()) {
            e->setAttr(Attr::From, m.fromUri());
            e->setAttr(Attr::To, m.toUri());
            account(e);
        }
    }
    const std::string_view contact = e->attr(Attr::Contact);
    if (contact.empty()) {
        // A registration query ("ping"): no event, the timer only extended.
        setTimer(e, stateTimeoutNs(e->state), false);
        return;
    }
    std::string key;
    appendUriKey(key, e->attr(Attr::To), false);
    const std::string aor_key = key;
    key.push_back('\n');
    appendUriKey(key, contact, cfg_.contact_ignore_port);
    if (contact == "*") {
        // Wildcard: every binding of the AOR goes, one reg-del per binding (§4.6).
        regs_del_star_->add();
        // The AOR index keeps this proportional to the AOR's bindings, not to all of them.
        auto [lo, hi] = by_aor_.equal_range(aor_key);
        for (auto it = lo; it != hi; ++it) {
            Binding* b = it->second;
            if (b->owner != e && !b->owner->reg_deleted_) {
                b->owner->reg_del_pending_ = true;
                b->owner->flags |= kFlagDelayedRegDel;
                setTimerAt(b->owner, now_);
            }
        }
        releaseBinding(e);
        e->event_flags &= ~bit(EventType::RegNew);
        setTimer(e, stateTimeoutNs(e->state), true);
        emitReg(e, EventType::RegDel, EventGen::Reply, m.ts);
        return;
    }
    int64_t expires = -1;
    if (from_init) {
        for (size_t i = 0; i < nc; ++i) {
            expires = std::max(expires, expiresOf(contacts[i]));
        }
        if (nc == 0) {
            expires = header_expires;
        }
    } else {
        std::string ck;
        for (size_t i = 0; i < nc; ++i) {
            if (contacts[i].star) {
                continue;
            }
            ck.clear();
            appendUriKey(ck, contacts[i].addr.uri.original, cfg_.contact_ignore_port);
            if (ck == std::string_view(key).substr(aor_key.size() + 1)) {
                expires = expiresOf(contacts[i]);
                break;
            }
        }
        if (expires < 0) {
            regs_del_no_match_->add();
        }
    }
    if (expires <= 0) {
        regDelete(e, m.ts, EventGen::Reply, key);
        return;
    }
    // Binding still present: reg-new unless this entry owns it (refresh) or another
    // Call-ID bound the same (AOR, contact) (a re-registration with a new Call-ID).
    const int64_t timeout_ns =
        (expires + (from_init ? 0 : cfg_.reg_exp_delta_s)) * core::kNsPerSecond;
    setTimer(e, timeout_ns, true);
    if (e->reg_del_pending_) {
        // A delayed reg-del cancelled by the re-register: neither event (§4.6).
        e->reg_del_pending_ = false;
        e->flags &= static_cast<uint16_t>(~kFlagDelayedRegDel);
        if (e->binding_ != nullptr && e->binding_->key == key) {
            return;
        }
    }
    if (e->binding_ != nullptr && e->binding_->key == key) {
        return;  // refresh
    }
    releaseBinding(e);
    auto it = bindings_.find(key);
    if (it != bindings_.end()) {
        Binding* b = it->second;
        CallEntry* old = b->owner;
        old->flags |= kFlagStolenRegBinding;
        old->binding_ = nullptr;  // the binding moves on, it is not released
        silence(old);
        b->owner = e;
        e->binding_ = b;
        e->flags |= kFlagCachedRegBinding;
        // The registration goes on under the new Call-ID: it reports the reg-expired.
        e->event_flags |= bit(EventType::RegNew);
        regs_refresh_diff_callid_->add();
        return;
    }
    if ((cfg_.regs_max_entries == 0 || bindings_.size() < cfg_.regs_max_entries) &&
        (cfg_.regs_max_mem == 0 ||
         binding_mem_ + bindingBytes(key, aor_key) <= cfg_.regs_max_mem)) {
        auto* b = new Binding{key, aor_key, e};
        bindings_.emplace(key, b);
        by_aor_.emplace(aor_key, b);
        binding_mem_ += bindingBytes(b->key, b->aor_key);
        e->binding_ = b;
        regs_active_->set(bindings_.size());
    } else {
        regs_fail_lim_->add();
    }
    if (e->hasEvent(EventType::RegDel)) {
        regs_new_after_del_->add();
    }
    emitReg(e, EventType::RegNew, EventGen::Reply, m.ts);
}

// ---- timeouts (§2.5) ----

void CallTracker::timeout(CallEntry* e) {
    const core::TimestampNs when = e->expires_;
    e->flags |= kFlagTimeout;
    constexpr std::string_view kTimeoutReason = "internal: call state timeout";
    const bool auth = isAuthChallenge(e->last_status[0]) || isAuthChallenge(e->last_status[1]);
    switch (e->state) {
        case CallState::FirstInvite:
        case CallState::EarlyDialog:
            e->flags |= kFlagForcedTimeout;
            emit(e, EventType::CallAttempt, EventGen::Timeout, when, 408, kTimeoutReason);
            break;
        case CallState::Established:
            e->flags |= kFlagForcedTimeout;
            emit(e, EventType::CallEnd, EventGen::Timeout, when, 408, kTimeoutReason);
            break;
        case CallState::ByeSeen:
        case CallState::ByeReplied:
            emit(e, EventType::CallEnd, EventGen::Timeout, when);
            break;
        case CallState::Canceled:
            emit(e, EventType::CallAttempt, EventGen::Timeout, when);
            break;
        case CallState::InviteNegReply:
            if (!auth && siblingStillPending(e)) {
                // sipbeat: a branch's negative reply is not the call's outcome while another
                // branch still rings or is being cancelled (RFC 3261 §16.7: the best final
                // response wins once all branches end); that branch reports the call.
                break;
            }
            emit(e, auth ? EventType::AuthFailed : EventType::CallAttempt, EventGen::Timeout, when);
            break;
        case CallState::FirstNonInvite:
            e->flags |= kFlagForcedTimeout;
            emit(e, EventType::OtherTimeout, EventGen::Timeout, when, 408, kTimeoutReason);
            break;
        case CallState::NonInviteNegReply:
            emit(e, auth ? EventType::AuthFailed : EventType::OtherFailed, EventGen::Timeout, when);
            break;
        case CallState::NonInviteFinished:
            if (e->method != sip::Method::Register) {
                emit(e, EventType::OtherOk, EventGen::Timeout, when);
            } else if (e->reg_deleted_) {
                // Taken over by another Call-ID or deleted by an un-REGISTER: silent.
            } else if (e->reg_del_pending_) {
                regs_del_delayed_ev_->add();
                emitReg(e, EventType::RegDel, EventGen::Timeout, when);
            } else if (e->hasEvent(EventType::RegNew) && !e->hasEvent(EventType::RegDel)) {
                emitReg(e, EventType::RegExpired, EventGen::Timeout, when);
            }
            break;
        default:
            break;
    }
    destroy(e);
}

// ---- entry point ----

TrackResult CallTracker::track(const decode::SipPayload& p, const sip::Message& msg) {
    if (start_ == 0) {
        start_ = p.timestamp;
    }
    advanceTime(p.timestamp);
    MsgInfo m;
    m.ts = std::max(p.timestamp, now_);
    m.payload = &p;
    m.request = msg.isRequest();
    m.call_id = msg.callId();
    m.cseq = msg.cseq().number;
    if (m.request) {
        m.method = msg.method();
        m.method_name = msg.methodName();
    } else {
        m.method = sip::methodFromName(msg.cseq().method);
        m.method_name = msg.cseq().method;
        m.status = msg.statusCode();
    }
    const sip::Header* from = msg.first(sip::HeaderType::From);
    const sip::Header* to = msg.first(sip::HeaderType::To);
    if (m.call_id.empty() || from == nullptr || to == nullptr) {
        return TrackResult::Ignored;
    }
    m.from_value = from->value;
    m.to_value = to->value;
    m.from_tag = headerTag(from->value);
    m.to_tag = headerTag(to->value);
    // §4.2: Call-ID + tags must fit 384 bytes, with room kept for a To-tag still to come.
    const size_t tag_reserve = m.to_tag.empty() ? 50 : 0;
    if (m.call_id.size() + m.from_tag.size() + m.to_tag.size() + tag_reserve > kMaxKeyBytes) {
        key_too_long_->add();
        return TrackResult::KeyTooLong;
    }
    int dir = 0;
    bool make_fork = false;
    CallEntry* e = find(m, dir, make_fork);
    if (e != nullptr && make_fork) {
        e = fork(e, m);
        dir = 0;
        if (e == nullptr) {
            return TrackResult::LimitReached;
        }
    } else if (e == nullptr) {
        if (m.request && m.method == sip::Method::Ack) {
            return TrackResult::Ignored;  // a lone ACK starts nothing
        }
        e = create(m, p);
        if (e == nullptr) {
            return TrackResult::LimitReached;
        }
        if (!m.request) {
            // Created from a reply: what the request would have told (§4.8).
            e->setAttr(Attr::From, m.fromUri());
            e->setAttr(Attr::To, m.toUri());
            if (m.method != sip::Method::Register) {
                std::array<sip::Contact, 1> c;
                if (msg.contacts(c) > 0 && !c[0].star) {
                    e->setAttr(Attr::Contact, c[0].addr.uri.original);
                }
            }
            account(e);
        }
    }
    if (m.request) {
        request(e, dir, m, msg);
    } else {
        reply(e, dir, m, msg);
    }
    return TrackResult::Tracked;
}

}  // namespace sipbeat::track
