// SPDX-License-Identifier: Apache-2.0
// In-memory throughput of the hot path on a pcap: decode + SIP parse, and decode + parse +
// message event + JSON encode. The file is loaded first so disk and libpcap do not count.
//   sipbeat_bench FILE.pcap [ROUNDS]
#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "beat/decode/decoder.h"
#include "beat/encode/json_encoder.h"
#include "beat/event/message_event.h"
#include "beat/sip/message.h"

namespace {

struct Frame {
    sipbeat::core::TimestampNs ts;
    std::vector<uint8_t> data;
};

class Sink final : public sipbeat::decode::SipSink {
public:
    explicit Sink(bool events) : events_(events), encoder_(sipbeat::encode::JsonOptions{}) {}
    void onPayload(const sipbeat::decode::SipPayload& p) override {
        sipbeat::sip::ParseOptions po;
        po.datagram = p.transport == sipbeat::decode::Transport::Udp;
        if (sipbeat::sip::parse(p.bytes, msg_, nullptr, po) != sipbeat::sip::ParseStatus::Ok) {
            ++errors;
            return;
        }
        ++messages;
        if (events_) {
            sipbeat::event::buildMessageEvent(p, msg_, options_, doc_);
            encoder_.encode(doc_, json_);
            bytes += json_.size();
        }
    }
    uint64_t messages = 0;
    uint64_t errors = 0;
    uint64_t bytes = 0;

private:
    bool events_;
    sipbeat::sip::Message msg_;
    sipbeat::event::MessageEventOptions options_;
    sipbeat::event::Document doc_;
    sipbeat::encode::JsonEncoder encoder_;
    std::string json_;
};

double run(const std::vector<Frame>& frames, int linktype, int rounds, bool events,
           uint64_t& messages, uint64_t& bytes) {
    sipbeat::monitoring::Registry metrics;
    Sink sink(events);
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
        sipbeat::decode::Decoder decoder(sipbeat::decode::DecodeConfig{}, sink, metrics);
        for (const Frame& f : frames) {
            sipbeat::capture::RawPacket pkt;
            pkt.timestamp = f.ts;
            pkt.linktype = static_cast<uint16_t>(linktype);
            pkt.wire_length = static_cast<uint32_t>(f.data.size());
            pkt.data = f.data;
            decoder.decode(pkt);
        }
        decoder.finish(frames.empty() ? 0 : frames.back().ts);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    messages = sink.messages;
    bytes = sink.bytes;
    return secs;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE.pcap [ROUNDS]\n", argv[0]);
        return 2;
    }
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) {
        std::fprintf(stderr, "%s\n", err);
        return 1;
    }
    const int linktype = pcap_datalink(p);
    std::vector<Frame> frames;
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    while (pcap_next_ex(p, &h, &d) == 1) {
        frames.push_back({static_cast<int64_t>(h->ts.tv_sec) * 1000000000 + h->ts.tv_usec,
                          std::vector<uint8_t>(d, d + h->caplen)});
    }
    pcap_close(p);
    for (bool events : {false, true}) {
        uint64_t messages = 0;
        uint64_t bytes = 0;
        const double secs = run(frames, linktype, rounds, events, messages, bytes);
        std::printf(
            "%-36s %10.0f msgs/s  (%llu messages in %.3f s%s)\n",
            events ? "decode+parse+event+encode:" : "decode+parse:",
            static_cast<double>(messages) / secs, static_cast<unsigned long long>(messages), secs,
            events ? (", " + std::to_string(bytes / (messages ? messages : 1)) + " bytes/event")
                         .c_str()
                   : "");
    }
    return 0;
}
