// SPDX-License-Identifier: Apache-2.0
// End to end on real captures from the shared corpus (read in place, never copied): the
// number of SIP messages framed must match what the lab's expected.json files record.
#include <pcap/pcap.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

std::string corpus(const std::string& rel) {
    return std::string(SIPBEAT_SHARED_DIR "/corpus/") + rel;
}

#define SKIP_IF_ABSENT(path)                                                          \
    if (!std::filesystem::exists(path)) {                                             \
        GTEST_SKIP() << "corpus file " << (path) << " not present (shared/ missing)"; \
    }

/// Feeds every frame of a capture to `d`, then finish(). Returns the frame count.
int decodeFile(const std::string& path, Decoder& d) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) {
        ADD_FAILURE() << path << ": " << err;
        return -1;
    }
    const auto linktype = static_cast<uint16_t>(pcap_datalink(p));
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int n = 0;
    core::TimestampNs last = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        capture::RawPacket rp;
        rp.timestamp = static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
        rp.linktype = linktype;
        rp.wire_length = h->len;
        rp.data = {data, h->caplen};
        d.decode(rp);
        last = rp.timestamp;
        ++n;
    }
    pcap_close(p);
    d.finish(last);
    return n;
}

struct Decoded {
    explicit Decoded(DecodeConfig c = {}) : decoder(std::move(c), sink, registry) {}
    monitoring::Registry registry;
    CollectingSink sink;
    Decoder decoder;
    uint64_t anomalies() const {
        uint64_t n = 0;
        for (size_t i = 0; i < static_cast<size_t>(Anomaly::Count); ++i) {
            n += decoder.anomalyCount(static_cast<Anomaly>(i));
        }
        return n;
    }
};

/// Request method, or "NNN" for a response, or "" when the payload does not look like SIP.
std::string kindOf(const std::string& m) {
    if (m.rfind("SIP/2.0 ", 0) == 0) {
        return m.substr(8, 3);
    }
    const size_t sp = m.find(' ');
    if (sp == std::string::npos || sp == 0 || sp > 16) {
        return "";
    }
    return m.substr(0, sp);
}

// A flat {"KEY": number, ...} object named `name` after `anchor` in a JSON text.
std::map<std::string, int> flatObject(const std::string& json, const std::string& anchor,
                                      const std::string& name) {
    std::map<std::string, int> out;
    const size_t a = json.find("\"" + anchor + "\"");
    if (a == std::string::npos) {
        return out;
    }
    const size_t k = json.find("\"" + name + "\"", a);
    const size_t open = json.find('{', k);
    const size_t close = json.find('}', open);
    if (k == std::string::npos || open == std::string::npos || close == std::string::npos) {
        return out;
    }
    // "key": number pairs, one after the other.
    size_t pos = open;
    while (pos < close) {
        const size_t q1 = json.find('"', pos);
        const size_t q2 = q1 == std::string::npos ? q1 : json.find('"', q1 + 1);
        const size_t colon = q2 == std::string::npos ? q2 : json.find(':', q2);
        if (colon == std::string::npos || colon > close) {
            break;
        }
        out[json.substr(q1 + 1, q2 - q1 - 1)] = std::atoi(json.c_str() + colon + 1);
        pos = colon + 1;
    }
    return out;
}

int numberAfter(const std::string& json, const std::string& anchor, const std::string& name) {
    const size_t a = json.find("\"" + anchor + "\"");
    const size_t k = a == std::string::npos ? a : json.find("\"" + name + "\"", a);
    if (k == std::string::npos) {
        return -1;
    }
    const size_t colon = json.find(':', k);
    return colon == std::string::npos ? -1 : std::atoi(json.c_str() + colon + 1);
}

class LabCaptureTest : public ::testing::TestWithParam<std::string> {};

// Every lab capture: the plain messages (wire) and the HEP copies (port 9060), per method
// and per status, equal the counts tshark and SIPp agree on (corpus/lab/README.md).
TEST_P(LabCaptureTest, MessageCountsMatchExpected) {
    const std::string pcap = corpus("lab/" + GetParam() + ".pcap");
    const std::string expected = corpus("lab/" + GetParam() + ".expected.json");
    SKIP_IF_ABSENT(pcap);
    SKIP_IF_ABSENT(expected);
    std::ifstream in(expected);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string json = ss.str();

    Decoded d;
    ASSERT_GT(decodeFile(pcap, d.decoder), 0);
    std::map<std::string, int> wire_methods;
    std::map<std::string, int> wire_status;
    std::map<std::string, int> hep_methods;
    std::map<std::string, int> hep_status;
    int wire = 0;
    int hep = 0;
    for (const Got& g : d.sink.got) {
        const std::string kind = kindOf(g.bytes);
        ASSERT_FALSE(kind.empty()) << g.bytes.substr(0, 40);
        const bool response = kind[0] >= '0' && kind[0] <= '9';
        if (g.via_hep) {
            ++hep;
            (response ? hep_status : hep_methods)[kind]++;
            EXPECT_EQ(g.hep_capture_id, 2001U);
        } else {
            ++wire;
            (response ? wire_status : wire_methods)[kind]++;
        }
    }
    EXPECT_EQ(wire, numberAfter(json, "sip_messages", "total"));
    EXPECT_EQ(wire_methods, flatObject(json, "sip_messages", "by_method"));
    EXPECT_EQ(wire_status, flatObject(json, "sip_messages", "by_status"));
    EXPECT_EQ(hep, numberAfter(json, "hep_messages", "total"));
    EXPECT_EQ(hep_methods, flatObject(json, "hep_messages", "by_method"));
    EXPECT_EQ(hep_status, flatObject(json, "hep_messages", "by_status"));
    EXPECT_EQ(d.anomalies(), 0U);
    EXPECT_EQ(d.registry.counter("decode.tcp_dropped_bytes").get(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Lab, LabCaptureTest,
                         ::testing::Values("lab-mixed-tcp", "lab-mixed-udp", "lab-calls-direct",
                                           "lab-authflood"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                             std::string n = param_info.param;
                             for (char& c : n) {
                                 c = c == '-' ? '_' : c;
                             }
                             return n;
                         });

TEST(CorpusTest, LabTcpWithTheLabSipPorts) {
    const std::string pcap = corpus("lab/lab-mixed-tcp.pcap");
    SKIP_IF_ABSENT(pcap);
    DecodeConfig c;
    for (uint16_t p = 5060; p <= 5090; ++p) {
        c.sip_ports.push_back(p);
    }
    Decoded d(c);
    decodeFile(pcap, d.decoder);
    int tcp = 0;
    for (const Got& g : d.sink.got) {
        tcp += !g.via_hep && g.transport == Transport::Tcp ? 1 : 0;
    }
    EXPECT_EQ(tcp, 348);
    EXPECT_EQ(d.sink.got.size(), 348U + 368U);
}

TEST(CorpusTest, Vxlan) {
    for (const char* f : {"pcapplusplus/Vxlan1.pcap", "pcapplusplus/Vxlan2.pcap"}) {
        const std::string pcap = corpus(f);
        SKIP_IF_ABSENT(pcap);
        Decoded d;
        EXPECT_EQ(decodeFile(pcap, d.decoder), 1);
        EXPECT_EQ(d.registry.counter("decode.vxlan").get(), 1U) << f;
        EXPECT_EQ(d.registry.counter("decode.icmp").get(), 1U) << f;  // a ping inside
        EXPECT_EQ(d.registry.counter("decode.ipv4").get(), 2U) << f;
        EXPECT_TRUE(d.sink.got.empty());
        EXPECT_EQ(d.anomalies(), 0U);
    }
    // Without VXLAN ports the datagram is just a UDP payload.
    DecodeConfig c;
    c.vxlan_ports.clear();
    Decoded plain(c);
    decodeFile(corpus("pcapplusplus/Vxlan1.pcap"), plain.decoder);
    EXPECT_EQ(plain.sink.got.size(), 1U);
}

TEST(CorpusTest, SuricataVxlan) {
    const std::string pcap = corpus("suricata-verify/vxlan-decoder-03__vxlan.pcap");
    SKIP_IF_ABSENT(pcap);
    Decoded d;
    EXPECT_EQ(decodeFile(pcap, d.decoder), 100);
    EXPECT_EQ(d.registry.counter("decode.vxlan").get(), 100U);
    EXPECT_EQ(d.registry.counter("decode.ipv4").get(), 200U);
    EXPECT_EQ(d.anomalies(), 0U);
}

TEST(CorpusTest, HeplifyRawIp) {
    // LINKTYPE_RAW, read back by libpcap as DLT_RAW (12).
    const std::string pcap = corpus("heplify/ipip0.pcap");
    SKIP_IF_ABSENT(pcap);
    Decoded d;
    EXPECT_EQ(decodeFile(pcap, d.decoder), 8);
    ASSERT_EQ(d.sink.got.size(), 8U);
    EXPECT_EQ(kindOf(d.sink.got[0].bytes), "INVITE");
    std::map<std::string, int> kinds;
    for (const Got& g : d.sink.got) {
        kinds[kindOf(g.bytes)]++;
    }
    EXPECT_EQ(kinds,
              (std::map<std::string, int>{{"401", 3}, {"403", 1}, {"INVITE", 1}, {"REGISTER", 3}}));
    EXPECT_EQ(d.anomalies(), 0U);
}

TEST(CorpusTest, SngrepIpInIpTcp) {
    const std::string pcap = corpus("sngrep/ipip.pcap");
    SKIP_IF_ABSENT(pcap);
    Decoded d;
    EXPECT_EQ(decodeFile(pcap, d.decoder), 4);
    std::map<std::string, int> kinds;
    for (const Got& g : d.sink.got) {
        EXPECT_EQ(g.transport, Transport::Tcp);
        kinds[kindOf(g.bytes)]++;
    }
    EXPECT_EQ(kinds,
              (std::map<std::string, int>{{"183", 1}, {"200", 1}, {"BYE", 1}, {"INVITE", 1}}));
    EXPECT_EQ(d.registry.counter("decode.ipip").get(), 2U);
    EXPECT_EQ(d.anomalies(), 0U);
}

TEST(CorpusTest, GreAndErspan) {
    const std::string gre = corpus("suricata-verify/bug-5633-gre-02__gre-sample.pcap");
    const std::string erspan = corpus("suricata-verify/decode-erspan-typeII-01__input.pcap");
    SKIP_IF_ABSENT(gre);
    SKIP_IF_ABSENT(erspan);
    Decoded g;
    EXPECT_EQ(decodeFile(gre, g.decoder), 40);
    EXPECT_EQ(g.registry.counter("decode.gre").get(), 40U);
    EXPECT_EQ(g.registry.counter("decode.ipv4").get(), 80U);
    EXPECT_EQ(g.anomalies(), 0U);
    Decoded e;
    EXPECT_EQ(decodeFile(erspan, e.decoder), 6);
    EXPECT_EQ(e.registry.counter("decode.erspan").get(), 6U);
    EXPECT_EQ(e.registry.counter("decode.icmp").get(), 4U);
    // The two others mirror Cisco CDP (LLC/SNAP type 0x2000): not IP.
    EXPECT_EQ(e.decoder.anomalyCount(Anomaly::UnsupportedEtherType), 2U);
}

TEST(CorpusTest, Sctp) {
    const std::string pcap = corpus("suricata-verify/decode-sctp-01__input.pcap");
    SKIP_IF_ABSENT(pcap);
    Decoded d;
    decodeFile(pcap, d.decoder);
    ASSERT_EQ(d.sink.got.size(), 1U);  // one DATA chunk (not SIP: the event layer decides)
    EXPECT_EQ(d.sink.got[0].transport, Transport::Sctp);
    EXPECT_EQ(d.anomalies(), 0U);
}

TEST(CorpusTest, SuricataSipOverTcp) {
    for (const char* f : {"suricata-verify/sip-tcp-method__sip-tcp.pcap",
                          "suricata-verify/sip-tcp-pattern-matching__sip.pcap"}) {
        const std::string pcap = corpus(f);
        SKIP_IF_ABSENT(pcap);
        Decoded d;
        decodeFile(pcap, d.decoder);
        ASSERT_EQ(d.sink.got.size(), 2U) << f;
        EXPECT_EQ(kindOf(d.sink.got[0].bytes), "REGISTER");
        EXPECT_EQ(d.anomalies(), 0U);
    }
}

TEST(CorpusTest, LargeBodyOverTcpAgainstTheBufferLimit) {
    // NULL link type; an INVITE of about 64 KiB over TCP, and its 100 Trying.
    const std::string pcap = corpus("suricata-verify/sip-body-large__sip-body-large.pcap");
    SKIP_IF_ABSENT(pcap);
    Decoded small;  // default tcp_stream_buffer_max (16 KiB): the INVITE is too large
    decodeFile(pcap, small.decoder);
    ASSERT_EQ(small.sink.got.size(), 1U);
    EXPECT_EQ(kindOf(small.sink.got[0].bytes), "100");
    EXPECT_EQ(small.decoder.anomalyCount(Anomaly::SipMessageTooLarge), 1U);
    DecodeConfig c;
    c.tcp_stream_buffer_max = 128 * 1024;
    Decoded big(c);
    decodeFile(pcap, big.decoder);
    ASSERT_EQ(big.sink.got.size(), 2U);
    EXPECT_EQ(kindOf(big.sink.got[0].bytes), "INVITE");
    EXPECT_GT(big.sink.got[0].bytes.size(), 60000U);
    EXPECT_EQ(big.anomalies(), 0U);
}

TEST(CorpusTest, PcapPlusPlusSip) {
    const std::map<std::string, size_t> files = {{"pcapplusplus/sip_non_default_port.pcap", 2},
                                                 {"pcapplusplus/sip_not_sdp.pcap", 1},
                                                 {"pcapplusplus/sip_reqs.pcap", 4},
                                                 {"pcapplusplus/sip_resp.pcap", 7}};
    for (const auto& [f, n] : files) {
        const std::string pcap = corpus(f);
        SKIP_IF_ABSENT(pcap);
        Decoded d;
        decodeFile(pcap, d.decoder);
        EXPECT_EQ(d.sink.got.size(), n) << f;  // sip_reqs has a PPPoE frame, sip_resp TCP
        for (const Got& g : d.sink.got) {
            EXPECT_FALSE(kindOf(g.bytes).empty()) << f;
        }
        EXPECT_EQ(d.anomalies(), 0U) << f;
    }
}

TEST(CorpusTest, SuricataSipMethods) {
    const std::string pcap = corpus("suricata-verify/sip-method__sip.pcap");
    SKIP_IF_ABSENT(pcap);
    DecodeConfig c;
    c.sip_ports = {5060};
    Decoded d(c);
    EXPECT_EQ(decodeFile(pcap, d.decoder), 691);
    size_t sip = 0;
    for (const Got& g : d.sink.got) {
        sip += kindOf(g.bytes).empty() ? 0U : 1U;
    }
    EXPECT_EQ(sip, 81U);  // INDEX.tsv: 81 SIP messages; the rest are probes (keep-alives ...)
}

}  // namespace
}  // namespace sipbeat::decode::test
