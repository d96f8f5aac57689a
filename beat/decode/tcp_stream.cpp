// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/tcp_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "beat/decode/bytes.h"
#include "beat/decode/decoder.h"
#include "beat/decode/hep.h"

namespace sipbeat::decode::detail {

namespace {

// Segments held while waiting for a missing one, per stream: the search for the next one is
// linear, so this keeps it short.
constexpr size_t kMaxHeldSegments = 64;
// A HEP3 frame can be up to 65535 bytes (hep.md §0.7): HEP streams may buffer that much.
constexpr size_t kMaxHepFrame = 65535;
// An idle buffer bigger than this is released rather than kept for the next message.
constexpr size_t kKeepCapacity = 4096;
// The smallest per-stream limit honoured: a start line must fit (sip_framing.h).
constexpr size_t kMinStreamBuffer = 512;

constexpr uint8_t kHep3Magic[4] = {'H', 'E', 'P', '3'};

struct HeldSegment {
    uint32_t seq = 0;
    uint32_t missing = 0;
    bool fin = false;
    core::TimestampNs ts = 0;
    std::vector<uint8_t> data;
};

}  // namespace

struct TcpReassembler::Stream {
    FlowKey key;
    StreamMode mode = StreamMode::Sip;
    StreamMode fallback = StreamMode::Sip;
    uint16_t vlan = 0;
    bool have_seq = false;
    bool have_syn = false;
    bool fin_seen = false;
    bool closed = false;  ///< FIN reached: kept (buffers released) so late copies are ignored
    uint32_t syn_seq = 0;
    uint32_t next_seq = 0;
    uint32_t fin_seq = 0;
    std::vector<uint8_t> buf;  ///< in-order bytes not framed yet: buf[head..]
    size_t head = 0;
    std::vector<HeldSegment> held;  ///< out-of-order segments
    size_t held_bytes = 0;
    core::TimestampNs held_since = 0;
    SipFramerState sip;
    WsState ws;
    core::TimestampNs last_seen = 0;
    size_t accounted = 0;
    bool waiting = false;
    std::list<Stream*>::iterator lru;
    std::list<Stream*>::iterator wait;
};

namespace {

// Hands what a framer finds to the decoder with the stream's addresses.
class StreamFrameSink final : public FrameSink {
public:
    StreamFrameSink(StreamEvents& events, DecodeCounters& counters, const FlowKey& key,
                    uint16_t vlan, bool websocket, core::TimestampNs ts)
        : events_(events),
          counters_(counters),
          key_(key),
          vlan_(vlan),
          websocket_(websocket),
          ts_(ts) {}
    void message(std::string_view bytes) noexcept override {
        events_.onStreamMessage(key_, vlan_, websocket_, bytes, ts_);
    }
    void anomaly(Anomaly a) noexcept override { counters_.flag(a); }
    void dropped(size_t bytes) noexcept override { counters_.tcp_dropped_bytes->add(bytes); }

private:
    StreamEvents& events_;
    DecodeCounters& counters_;
    const FlowKey& key_;
    uint16_t vlan_;
    bool websocket_;
    core::TimestampNs ts_;
};

}  // namespace

TcpReassembler::TcpReassembler(const DecodeConfig& config, DecodeCounters& counters,
                               StreamEvents& events)
    : max_streams_(config.max_tcp_streams == 0 ? 1 : config.max_tcp_streams),
      stream_max_(std::max(config.tcp_stream_buffer_max, kMinStreamBuffer)),
      max_bytes_(config.max_tcp_bytes),
      idle_ns_(config.tcp_idle_timeout_ns),
      reorder_ns_(config.tcp_reorder_timeout_ns),
      counters_(counters),
      events_(events),
      table_(16, FlowKeyHash{randomSeed()}) {}

TcpReassembler::~TcpReassembler() = default;

size_t TcpReassembler::limit(const Stream& st) const noexcept {
    return st.mode == StreamMode::Hep || st.mode == StreamMode::HepProbe
               ? std::max(stream_max_, kMaxHepFrame)
               : stream_max_;
}

void TcpReassembler::account(Stream& st) noexcept {
    size_t now = st.buf.capacity() + st.ws.message.capacity();
    for (const HeldSegment& h : st.held) {
        now += h.data.capacity();
    }
    bytes_ = bytes_ - st.accounted + now;
    st.accounted = now;
    counters_.tcp_bytes->set(bytes_);
}

bool TcpReassembler::reserve(Stream& st, size_t need) noexcept {
    const size_t cap = st.buf.capacity();
    if (need <= cap) {
        return true;
    }
    const size_t want = std::min(std::max({need, cap * 2, size_t{256}}), limit(st));
    if (bytes_ + (want - cap) > max_bytes_) {
        counters_.flag(Anomaly::TcpMemoryLimitReached);
        return false;
    }
    st.buf.reserve(want);
    account(st);
    return true;
}

void TcpReassembler::lostBytes(Stream& st, size_t n) noexcept {
    // Bytes that never reach a framer: the framing state no longer matches the stream.
    const size_t pending = st.buf.size() - st.head;
    counters_.tcp_dropped_bytes->add(n + pending + st.ws.message.size());
    st.buf.clear();
    st.head = 0;
    st.sip = SipFramerState{};
    st.ws.message.clear();
    if (st.mode == StreamMode::WebSocket) {
        // Frame boundaries cannot be found again after a hole: the rest is dropped.
        st.ws.lost = true;
    }
}

void TcpReassembler::unlistOoo(Stream& st) noexcept {
    if (st.waiting) {
        waiting_.erase(st.wait);
        st.waiting = false;
    }
}

TcpReassembler::Stream* TcpReassembler::create(const TcpSegment& s) noexcept {
    while (table_.size() >= max_streams_ && !lru_.empty()) {
        // The least recently used direction makes room: under a flood of new connections
        // live ones keep being followed. Releasing an already closed one is no loss.
        if (!lru_.front()->closed) {
            counters_.flag(Anomaly::TcpStreamLimitReached);
        }
        close(table_.find(lru_.front()->key));
    }
    auto [it, inserted] = table_.try_emplace(s.key);
    Stream& st = it->second;
    (void)inserted;
    st.key = s.key;
    st.mode = s.mode;
    st.fallback = s.fallback;
    lru_.push_back(&st);
    st.lru = std::prev(lru_.end());
    counters_.tcp_streams_opened->add();
    counters_.tcp_streams->set(table_.size());
    return &st;
}

void TcpReassembler::close(Table::iterator it) noexcept {
    Stream& st = it->second;
    const size_t pending = st.buf.size() - st.head + st.ws.message.size();
    if (pending > 0 && st.mode != StreamMode::Ignore && !st.ws.lost) {
        counters_.flag(Anomaly::SipFramingIncomplete);
    }
    counters_.tcp_dropped_bytes->add(pending + st.held_bytes);
    bytes_ -= st.accounted;
    counters_.tcp_bytes->set(bytes_);
    lru_.erase(st.lru);
    unlistOoo(st);
    table_.erase(it);
    counters_.tcp_streams->set(table_.size());
}

void TcpReassembler::closeKey(const FlowKey& key) noexcept {
    auto it = table_.find(key);
    if (it != table_.end()) {
        close(it);
    }
}

void TcpReassembler::segment(const TcpSegment& s) noexcept {
    if (s.rst) {
        // RFC 9293 §3.10.7: the connection is gone in both directions.
        closeKey(s.key);
        closeKey(s.key.reversed());
        return;
    }
    const size_t length = s.payload.size() + s.missing;
    auto it = table_.find(s.key);
    Stream* st = nullptr;
    if (it == table_.end()) {
        if (!s.syn && length == 0) {
            return;  // a bare ACK or FIN of a connection not followed
        }
        st = create(s);
    } else {
        st = &it->second;
        // A SYN with another initial sequence number: the 4-tuple was reused for a new
        // connection (a retransmitted SYN has the same one).
        if (s.syn && st->have_seq &&
            (st->have_syn ? s.seq != st->syn_seq : s.seq + 1 != st->next_seq)) {
            close(it);
            st = create(s);
        }
    }
    st->last_seen = s.ts;
    st->vlan = s.vlan;
    lru_.splice(lru_.end(), lru_, st->lru);
    const uint32_t data_seq = s.seq + (s.syn ? 1U : 0U);
    if (s.syn && !st->have_syn) {
        st->have_syn = true;
        st->syn_seq = s.seq;
        st->have_seq = true;
        st->next_seq = data_seq;
    }
    if (!st->have_seq) {
        // The start was not seen: follow the stream from here; the framer finds the first
        // message start.
        st->have_seq = true;
        st->next_seq = data_seq;
    }
    if (st->closed) {
        if (length > 0 && seqDiff(data_seq, st->fin_seq) < 0) {
            counters_.tcp_retransmissions->add();
        } else {
            counters_.tcp_dropped_bytes->add(s.payload.size());
        }
        return;
    }
    if (s.fin && !st->fin_seen) {
        st->fin_seen = true;
        st->fin_seq = data_seq + static_cast<uint32_t>(length);
    }
    receive(*st, data_seq, s.payload, s.ts, s.fin);
    if (s.missing > 0 && seqDiff(st->next_seq, data_seq + static_cast<uint32_t>(length)) < 0 &&
        seqDiff(st->next_seq, data_seq + static_cast<uint32_t>(s.payload.size())) >= 0) {
        // The snaplen cut the segment: its tail is a hole we will never fill.
        lostBytes(*st, 0);
        st->next_seq = data_seq + static_cast<uint32_t>(length);
        drain(*st);
    }
    finishIfDone(*st);
}

void TcpReassembler::finishIfDone(Stream& st) noexcept {
    if (st.closed || !st.fin_seen || st.next_seq != st.fin_seq) {
        return;
    }
    // All data up to the FIN is in: release the buffers, keep the entry so that late copies
    // of this connection's segments are recognised (until the idle timeout).
    const size_t pending = st.buf.size() - st.head + st.ws.message.size();
    if (pending > 0 && st.mode != StreamMode::Ignore && !st.ws.lost) {
        counters_.flag(Anomaly::SipFramingIncomplete);
    }
    counters_.tcp_dropped_bytes->add(pending + st.held_bytes);
    st.closed = true;
    st.buf = {};
    st.head = 0;
    st.held = {};
    st.held_bytes = 0;
    st.ws.message = {};
    unlistOoo(st);
    account(st);
}

void TcpReassembler::receive(Stream& st, uint32_t seq, std::span<const uint8_t> data,
                             core::TimestampNs ts, bool fin) noexcept {
    const int32_t rel = seqDiff(seq, st.next_seq);
    if (rel > 0) {
        if (!data.empty()) {
            hold(st, seq, data, ts, fin);
        }
        return;
    }
    const auto trim = static_cast<uint32_t>(-static_cast<int64_t>(rel));
    if (trim >= data.size()) {
        if (!data.empty()) {
            counters_.tcp_retransmissions->add();
        }
        return;
    }
    // RFC 9293 §3.10.7.4: the part before next_seq was already received (retransmission
    // overlap); the first copy is kept.
    const std::span<const uint8_t> fresh = data.subspan(trim);
    st.next_seq += static_cast<uint32_t>(fresh.size());
    deliver(st, fresh, ts);
    drain(st);
}

void TcpReassembler::hold(Stream& st, uint32_t seq, std::span<const uint8_t> data,
                          core::TimestampNs ts, bool fin) noexcept {
    counters_.tcp_out_of_order->add();
    if (st.held.size() >= kMaxHeldSegments || st.held_bytes + data.size() > stream_max_) {
        // Waiting longer would need more than this stream may hold: give up on the missing
        // bytes, hand over what is held, then this segment.
        counters_.flag(Anomaly::TcpBufferLimitReached);
        while (!st.held.empty()) {
            skipGap(st);
        }
        if (seqDiff(seq, st.next_seq) > 0) {
            counters_.flag(Anomaly::TcpGap);
            lostBytes(st, 0);
            st.next_seq = seq;
        }
        receive(st, seq, data, ts, fin);
        return;
    }
    if (bytes_ + data.size() > max_bytes_) {
        // All streams together hold too much: this segment is lost; its hole is skipped
        // later like any other.
        counters_.flag(Anomaly::TcpMemoryLimitReached);
        counters_.tcp_dropped_bytes->add(data.size());
        return;
    }
    HeldSegment h;
    h.seq = seq;
    h.fin = fin;
    h.ts = ts;
    h.data.assign(data.begin(), data.end());
    st.held.push_back(std::move(h));
    st.held_bytes += data.size();
    if (!st.waiting) {
        waiting_.push_back(&st);
        st.wait = std::prev(waiting_.end());
        st.waiting = true;
        st.held_since = ts;
    }
    account(st);
}

void TcpReassembler::drain(Stream& st) noexcept {
    // Each round removes one held segment.
    while (!st.held.empty()) {
        size_t best = 0;
        for (size_t i = 1; i < st.held.size(); ++i) {
            if (seqDiff(st.held[i].seq, st.held[best].seq) < 0) {
                best = i;
            }
        }
        if (seqDiff(st.held[best].seq, st.next_seq) > 0) {
            break;
        }
        HeldSegment h = std::move(st.held[best]);
        st.held[best] = std::move(st.held.back());
        st.held.pop_back();
        st.held_bytes -= h.data.size();
        const int32_t rel = seqDiff(h.seq, st.next_seq);
        const auto trim = static_cast<uint32_t>(-static_cast<int64_t>(rel));
        if (trim < h.data.size()) {
            const std::span<const uint8_t> fresh = std::span<const uint8_t>(h.data).subspan(trim);
            st.next_seq += static_cast<uint32_t>(fresh.size());
            deliver(st, fresh, h.ts);
        } else {
            counters_.tcp_retransmissions->add();
        }
    }
    if (st.held.empty()) {
        unlistOoo(st);
    }
    account(st);
}

void TcpReassembler::skipGap(Stream& st) noexcept {
    if (st.held.empty()) {
        return;
    }
    uint32_t first = st.held[0].seq;
    for (const HeldSegment& h : st.held) {
        if (seqDiff(h.seq, first) < 0) {
            first = h.seq;
        }
    }
    // RFC 9293 gives no way to get lost bytes back from a capture: skip them. The framer
    // then resynchronises on the next message start.
    counters_.flag(Anomaly::TcpGap);
    lostBytes(st, 0);
    st.next_seq = first;
    drain(st);
}

void TcpReassembler::deliver(Stream& st, std::span<const uint8_t> data,
                             core::TimestampNs ts) noexcept {
    // Every round consumes or buffers at least one byte.
    while (!data.empty()) {
        if (st.head == st.buf.size()) {
            // Nothing pending: frame straight from the segment, buffer only the tail.
            st.buf.clear();
            st.head = 0;
            const size_t used = frame(st, data, ts);
            data = data.subspan(used);
            if (data.empty()) {
                break;
            }
            if (data.size() >= limit(st) || !reserve(st, data.size())) {
                lostBytes(st, data.size());
                break;
            }
            st.buf.insert(st.buf.end(), data.begin(), data.end());
            break;
        }
        if (st.head > 0) {
            st.buf.erase(st.buf.begin(), st.buf.begin() + static_cast<std::ptrdiff_t>(st.head));
            st.head = 0;
        }
        const size_t cap = limit(st);
        const size_t room = cap > st.buf.size() ? cap - st.buf.size() : 0;
        const size_t take = std::min(room, data.size());
        if (take == 0 || !reserve(st, st.buf.size() + take)) {
            lostBytes(st, data.size());
            break;
        }
        st.buf.insert(st.buf.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
        data = data.subspan(take);
        st.head += frame(st, std::span<const uint8_t>(st.buf).subspan(st.head), ts);
    }
    if (st.head == st.buf.size()) {
        st.buf.clear();
        st.head = 0;
        if (st.buf.capacity() > kKeepCapacity) {
            st.buf = {};
        }
    }
    account(st);
}

size_t TcpReassembler::frame(Stream& st, std::span<const uint8_t> data,
                             core::TimestampNs ts) noexcept {
    switch (st.mode) {
        case StreamMode::Sip: {
            StreamFrameSink sink(events_, counters_, st.key, st.vlan, false, ts);
            return frameSipStream(asText(data), stream_max_, st.sip, sink);
        }
        case StreamMode::WebSocket: {
            StreamFrameSink sink(events_, counters_, st.key, st.vlan, true, ts);
            return frameWsStream(data, stream_max_, st.ws, sink);
        }
        case StreamMode::HepProbe: {
            const size_t n = std::min<size_t>(data.size(), 4);
            const bool hep = std::memcmp(data.data(), kHep3Magic, n) == 0;
            if (hep && n < 4) {
                return 0;
            }
            st.mode = hep ? StreamMode::Hep : st.fallback;
            if (st.mode == StreamMode::HepProbe) {
                st.mode = StreamMode::Ignore;
            }
            return frame(st, data, ts);
        }
        case StreamMode::Hep:
            return frameHep(data, ts);
        case StreamMode::Ignore:
            counters_.tcp_dropped_bytes->add(data.size());
            return data.size();
    }
    return data.size();
}

size_t TcpReassembler::frameHep(std::span<const uint8_t> data, core::TimestampNs ts) noexcept {
    size_t pos = 0;
    // Every round consumes bytes or returns.
    while (pos < data.size()) {
        const std::span<const uint8_t> rest = data.subspan(pos);
        const int64_t len = hepFrameLength(rest);
        if (len == 0) {
            return pos;
        }
        if (len > 0) {
            events_.onStreamHep(rest.first(static_cast<size_t>(len)), ts);
            pos += static_cast<size_t>(len);
            continue;
        }
        // Not a HEP3 header where one must be: look for the next magic.
        size_t found = rest.size();
        for (size_t i = 1; i + 4 <= rest.size(); ++i) {
            if (std::memcmp(rest.data() + i, kHep3Magic, 4) == 0) {
                found = i;
                break;
            }
        }
        if (found == rest.size()) {
            // Keep a tail that may be the start of a magic.
            const size_t keep = std::min<size_t>(3, rest.size() - 1);
            counters_.tcp_dropped_bytes->add(rest.size() - keep);
            return data.size() - keep;
        }
        counters_.flag(Anomaly::TcpResync);
        counters_.tcp_dropped_bytes->add(found);
        pos += found;
    }
    return pos;
}

void TcpReassembler::expire(core::TimestampNs now) noexcept {
    while (!lru_.empty() && olderThan(now, lru_.front()->last_seen, idle_ns_)) {
        if (!lru_.front()->closed) {
            counters_.flag(Anomaly::TcpStreamTimeout);
        }
        close(table_.find(lru_.front()->key));
    }
    // Each round skips at least one gap (and so releases at least one held segment) or
    // takes the stream off the list.
    while (!waiting_.empty() && olderThan(now, waiting_.front()->held_since, reorder_ns_)) {
        Stream& st = *waiting_.front();
        skipGap(st);
        finishIfDone(st);
        if (st.waiting) {
            core::TimestampNs oldest = st.held[0].ts;
            for (const HeldSegment& h : st.held) {
                oldest = std::min(oldest, h.ts);
            }
            st.held_since = oldest;
            waiting_.splice(waiting_.end(), waiting_, st.wait);
        }
    }
}

void TcpReassembler::finish() noexcept {
    while (!lru_.empty()) {
        Stream& st = *lru_.front();
        while (!st.held.empty()) {
            skipGap(st);
        }
        close(table_.find(st.key));
    }
}

}  // namespace sipbeat::decode::detail
