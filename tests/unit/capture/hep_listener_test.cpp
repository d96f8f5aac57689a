// SPDX-License-Identifier: Apache-2.0
#include "beat/capture/hep_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sipbeat::capture {
namespace {

class Collect final : public HepHandler {
public:
    void onHep(std::span<const uint8_t> packet, core::TimestampNs) override {
        std::lock_guard lock(mutex);
        packets.emplace_back(packet.begin(), packet.end());
    }
    size_t count() {
        std::lock_guard lock(mutex);
        return packets.size();
    }
    std::mutex mutex;
    std::vector<std::vector<uint8_t>> packets;
};

std::string frame(char fill, size_t len) {
    std::string f = "HEP3";
    f.push_back(static_cast<char>(len >> 8));
    f.push_back(static_cast<char>(len & 0xff));
    f.append(len - 6, fill);
    return f;
}

int connectTo(uint16_t port, int type) {
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
}

void waitFor(Collect& c, size_t n) {
    for (int i = 0; i < 500 && c.count() < n; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Back-to-back HEPv3 frames on TCP, split anywhere, and datagrams on UDP; a connection that
// sends something else is closed and counted; connections accepted while others are
// served do not disturb them (an earlier version read past its poll list here).
TEST(HepListenerTest, FramesDatagramsAndBadConnections) {
    monitoring::Registry metrics;
    auto bound = HepListener::bind({"127.0.0.1:0", "127.0.0.1:0", 4, 65535, 20}, metrics);
    ASSERT_TRUE(bound) << bound.status().message();
    auto listener = std::move(bound).value();
    Collect collect;
    std::atomic<bool> stop{false};
    std::thread server([&] { listener->serve(collect, stop); });

    const int udp = connectTo(listener->udpPort(), SOCK_DGRAM);
    const std::string d = frame('u', 40);
    ASSERT_EQ(::send(udp, d.data(), d.size(), 0), static_cast<ssize_t>(d.size()));
    waitFor(collect, 1);

    const int tcp = connectTo(listener->tcpPort(), SOCK_STREAM);
    const std::string two = frame('a', 30) + frame('b', 50);
    // Split inside the second frame's header.
    ASSERT_EQ(::send(tcp, two.data(), 33, 0), 33);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    const int other = connectTo(listener->tcpPort(), SOCK_STREAM);
    ASSERT_EQ(::send(tcp, two.data() + 33, two.size() - 33, 0),
              static_cast<ssize_t>(two.size() - 33));
    waitFor(collect, 3);
    const std::string junk = "GET / HTTP/1.1\r\n\r\n";
    ASSERT_EQ(::send(other, junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

    stop.store(true);
    server.join();
    ::close(udp);
    ::close(tcp);
    ::close(other);
    ASSERT_EQ(collect.packets.size(), 3u);
    EXPECT_EQ(collect.packets[0].size(), 40u);
    EXPECT_EQ(collect.packets[1].size(), 30u);
    EXPECT_EQ(collect.packets[2].size(), 50u);
    EXPECT_EQ(collect.packets[2].back(), 'b');
    EXPECT_EQ(metrics.counter("hep.udp_packets").get(), 1u);
    EXPECT_EQ(metrics.counter("hep.tcp_frames").get(), 2u);
    EXPECT_EQ(metrics.counter("hep.tcp_connections").get(), 2u);
    EXPECT_EQ(metrics.counter("hep.tcp_bad_frames").get(), 1u);
}

TEST(HepListenerTest, BadAddressIsNamed) {
    monitoring::Registry metrics;
    auto bound = HepListener::bind({"nonsense", "", 4, 65535, 20}, metrics);
    ASSERT_FALSE(bound);
    EXPECT_NE(bound.status().message().find("nonsense"), std::string::npos);
}

}  // namespace
}  // namespace sipbeat::capture
