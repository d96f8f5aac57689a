// SPDX-License-Identifier: Apache-2.0
#include "beat/capture/pcap_source.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "beat/core/logging.h"

namespace sipbeat::capture {

namespace {

const core::logging::Logger kLog("capture");

struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

// sipcmbeat names the per-source counter group after the last path element with '.'
// replaced by '_' (sipcmbeat.md §9).
std::string groupName(const std::string& path) {
    std::string name = path.substr(path.rfind('/') + 1);
    for (char& c : name) {
        if (c == '.') {
            c = '_';
        }
    }
    return name;
}

core::Status applyFilter(pcap_t* p, const std::string& bpf, const std::string& what) {
    if (bpf.empty()) {
        return core::Status::ok();
    }
    bpf_program prog{};
    if (pcap_compile(p, &prog, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        return core::Status::error("invalid BPF filter '" + bpf + "' for " + what + ": " +
                                   pcap_geterr(p));
    }
    const int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        return core::Status::error("cannot set BPF filter on " + what + ": " + pcap_geterr(p));
    }
    return core::Status::ok();
}

core::TimestampNs packetTime(const pcap_pkthdr* h, bool nano) {
    const int64_t frac = nano ? h->ts.tv_usec : static_cast<int64_t>(h->ts.tv_usec) * 1000;
    return static_cast<core::TimestampNs>(h->ts.tv_sec) * core::kNsPerSecond + frac;
}

class Progress {
public:
    explicit Progress(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) != 0) {}
    void update(const std::string& file, long offset, long size, uint64_t packets) {
        if (!enabled_ || (packets & 0xffff) != 0) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double pct =
            size > 0 ? 100.0 * static_cast<double>(offset) / static_cast<double>(size) : 0.0;
        std::fprintf(stderr, "\r%s: %5.1f%%  %llu packets  %.0f packets/s   ", file.c_str(), pct,
                     static_cast<unsigned long long>(packets),
                     secs > 0 ? static_cast<double>(packets) / secs : 0.0);
    }
    void done() {
        if (enabled_) {
            std::fputc('\n', stderr);
        }
    }

private:
    bool enabled_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

std::string buildBpf(const std::vector<uint16_t>& sip_ports,
                     const std::vector<uint16_t>& extra_udp) {
    std::string bpf;
    for (uint16_t p : sip_ports) {
        bpf += (bpf.empty() ? "" : " or ") + std::string("port ") + std::to_string(p);
    }
    for (uint16_t p : extra_udp) {
        bpf += (bpf.empty() ? "" : " or ") + std::string("udp port ") + std::to_string(p);
    }
    // Fragments after the first carry no ports; without them reassembly cannot work.
    if (!bpf.empty()) {
        bpf = "(" + bpf + ") or (ip[6:2] & 0x1fff != 0) or (vlan and (" + bpf + "))";
    }
    return bpf;
}

core::Status readFiles(const FileOptions& options, PacketHandler& handler,
                       monitoring::Registry& metrics, const std::atomic<bool>& stop) {
    Progress progress(options.progress);
    uint64_t total = 0;
    for (uint32_t loop = 0; options.loops == 0 || loop < options.loops; ++loop) {
        for (const std::string& file : options.files) {
            char err[PCAP_ERRBUF_SIZE] = {};
            // Nanosecond precision so pcapng/nanosecond pcaps keep their resolution.
            PcapPtr p(pcap_open_offline_with_tstamp_precision(file.c_str(),
                                                              PCAP_TSTAMP_PRECISION_NANO, err));
            if (!p) {
                return core::Status::error("cannot open pcap file " + file + ": " + err);
            }
            if (core::Status st = applyFilter(p.get(), options.bpf, file); !st) {
                return st;
            }
            const bool nano = pcap_get_tstamp_precision(p.get()) == PCAP_TSTAMP_PRECISION_NANO;
            const auto linktype = static_cast<uint16_t>(pcap_datalink(p.get()));
            monitoring::Counter& recvd = metrics.counter("pcap." + groupName(file) + ".recvd");
            FILE* fp = pcap_file(p.get());
            long size = 0;
            if (fp != nullptr && options.progress) {
                const long here = std::ftell(fp);
                std::fseek(fp, 0, SEEK_END);
                size = std::ftell(fp);
                std::fseek(fp, here, SEEK_SET);
            }
            kLog.info("Reading " + file + " (link type " + std::to_string(linktype) + ")");
            core::TimestampNs last_ts = 0;
            pcap_pkthdr* hdr = nullptr;
            const u_char* data = nullptr;
            int rc = 0;
            while (!stop.load(std::memory_order_relaxed) &&
                   (rc = pcap_next_ex(p.get(), &hdr, &data)) == 1) {
                RawPacket pkt;
                pkt.timestamp = packetTime(hdr, nano);
                pkt.linktype = linktype;
                pkt.wire_length = hdr->len;
                pkt.data = {data, hdr->caplen};
                if (options.replay && last_ts != 0 && pkt.timestamp > last_ts) {
                    double gap = static_cast<double>(pkt.timestamp - last_ts);
                    if (options.replay_scale > 0) {
                        gap *= options.replay_scale;
                    }
                    auto delay = static_cast<int64_t>(gap);
                    if (options.replay_max_delay_ns > 0 && delay > options.replay_max_delay_ns) {
                        delay = options.replay_max_delay_ns;
                    }
                    if (delay >= options.replay_min_delay_ns && delay > 0) {
                        std::this_thread::sleep_for(std::chrono::nanoseconds(delay));
                    }
                }
                last_ts = pkt.timestamp;
                recvd.add();
                handler.onPacket(pkt);
                ++total;
                progress.update(file, fp != nullptr ? std::ftell(fp) : 0, size, total);
            }
            if (rc == -1) {
                kLog.warn("Error reading " + file + ": " + pcap_geterr(p.get()) +
                          " (the packets before it were processed)");
                metrics.counter("pcap." + groupName(file) + ".read_errors").add();
            }
        }
        if (stop.load()) {
            break;
        }
    }
    progress.done();
    return core::Status::ok();
}

core::Status captureLive(const LiveOptions& options, PacketHandler& handler,
                         monitoring::Registry& metrics, const std::atomic<bool>& stop) {
    char err[PCAP_ERRBUF_SIZE] = {};
    PcapPtr p(pcap_create(options.device.c_str(), err));
    if (!p) {
        return core::Status::error("cannot capture on " + options.device + ": " + err);
    }
    pcap_set_snaplen(p.get(), options.snaplen);
    pcap_set_promisc(p.get(), options.promiscuous ? 1 : 0);
    const int timeout_ms =
        static_cast<int>(std::max<int64_t>(options.idle_timeout_ns / 1000000, 1));
    pcap_set_timeout(p.get(), timeout_ms);
    if (options.buffer_kb > 0) {
        pcap_set_buffer_size(p.get(), options.buffer_kb * 1024);
    }
    pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO);
    const int act = pcap_activate(p.get());
    if (act < 0) {
        return core::Status::error("cannot capture on " + options.device + ": " +
                                   pcap_statustostr(act) + " " + pcap_geterr(p.get()));
    }
    if (core::Status st = applyFilter(p.get(), options.bpf, options.device); !st) {
        return st;
    }
    const bool nano = pcap_get_tstamp_precision(p.get()) == PCAP_TSTAMP_PRECISION_NANO;
    const auto linktype = static_cast<uint16_t>(pcap_datalink(p.get()));
    const std::string group = "pcap." + groupName(options.device);
    monitoring::Counter& recvd = metrics.counter(group + ".recvd");
    monitoring::Counter& drop = metrics.counter(group + ".drop");
    monitoring::Counter& if_drop = metrics.counter(group + ".if_drop");
    kLog.info("Capturing on " + options.device + " (link type " + std::to_string(linktype) +
              (options.bpf.empty() ? "" : ", filter '" + options.bpf + "'") + ")");
    // Non-blocking reads driven by poll(): on Linux a blocking pcap_next_ex may wait for
    // traffic longer than its timeout, and the loop must notice `stop` and run idle timers.
    if (pcap_setnonblock(p.get(), 1, err) != 0) {
        return core::Status::error("cannot capture on " + options.device + ": " + err);
    }
    const int fd = pcap_get_selectable_fd(p.get());
    auto last_packet = std::chrono::steady_clock::now();
    auto last_stats = last_packet;
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd pfd{fd, POLLIN, 0};
        ::poll(&pfd, 1, timeout_ms);
        int rc = 0;
        pcap_pkthdr* hdr = nullptr;
        const u_char* data = nullptr;
        // Drain what is there, but come back to check `stop` now and then.
        for (int i = 0; i < 4096 && (rc = pcap_next_ex(p.get(), &hdr, &data)) == 1; ++i) {
            RawPacket pkt;
            pkt.timestamp = packetTime(hdr, nano);
            pkt.linktype = linktype;
            pkt.wire_length = hdr->len;
            pkt.data = {data, hdr->caplen};
            recvd.add();
            handler.onPacket(pkt);
            last_packet = std::chrono::steady_clock::now();
        }
        if (rc < 0) {
            return core::Status::error("capture on " + options.device +
                                       " failed: " + pcap_geterr(p.get()));
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_packet >= std::chrono::nanoseconds(options.idle_timeout_ns)) {
            handler.onIdle(core::SystemClock::instance().now());
            last_packet = now;
        }
        if (now - last_stats >= std::chrono::seconds(1)) {
            pcap_stat ps{};
            if (pcap_stats(p.get(), &ps) == 0) {
                drop.set(ps.ps_drop);
                if_drop.set(ps.ps_ifdrop);
            }
            last_stats = now;
        }
    }
    return core::Status::ok();
}

}  // namespace sipbeat::capture
