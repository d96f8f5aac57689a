// SPDX-License-Identifier: Apache-2.0
// HostInfo::detect: the facts add_host_metadata and add_locale publish, read once at start.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "beat/processors/processor.h"

#include <ifaddrs.h>
#include <linux/if_packet.h>

namespace sipbeat::processors {

namespace {

/// `KEY=value` lines of /etc/os-release (quotes removed).
std::string osRelease(const std::string& text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
            std::string_view v = line.substr(key.size() + 1);
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
                v = v.substr(1, v.size() - 2);
            }
            return std::string(v);
        }
    }
    return {};
}

std::string readAll(const char* path) {
    std::ifstream in(path);
    if (!in) {
        return {};
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

HostInfo HostInfo::detect() {
    HostInfo h;
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0) {
        h.hostname = name;
    }
    struct utsname u {};
    if (uname(&u) == 0) {
        h.architecture = u.machine;
        h.os_kernel = u.release;
    }
    h.os_type = "linux";
    std::string rel = readAll("/etc/os-release");
    if (rel.empty()) {
        rel = readAll("/usr/lib/os-release");
    }
    h.os_platform = osRelease(rel, "ID");
    h.os_name = osRelease(rel, "NAME");
    h.os_version = osRelease(rel, "VERSION");
    h.os_codename = osRelease(rel, "VERSION_CODENAME");
    // Beats' family: the first ID_LIKE entry, else the ID (debian, redhat, suse, …).
    std::string like = osRelease(rel, "ID_LIKE");
    h.os_family = like.empty() ? h.os_platform : like.substr(0, like.find(' '));
    h.id = trim(readAll("/etc/machine-id"));
    if (h.id.empty()) {
        h.id = trim(readAll("/var/lib/dbus/machine-id"));
    }

    struct ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
            if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_LOOPBACK) != 0) {
                continue;
            }
            char buf[INET6_ADDRSTRLEN] = {};
            const int family = i->ifa_addr->sa_family;
            if (family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
                if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr) {
                    h.ips.emplace_back(buf);
                }
            } else if (family == AF_INET6) {
                const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
                if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) != nullptr) {
                    h.ips.emplace_back(buf);
                }
            } else if (family == AF_PACKET) {
                const auto* ll = reinterpret_cast<const sockaddr_ll*>(i->ifa_addr);
                if (ll->sll_halen == 6) {
                    // ECS form: upper-case hex pairs joined by '-'.
                    char mac[18];
                    std::snprintf(mac, sizeof(mac), "%02X-%02X-%02X-%02X-%02X-%02X",
                                  ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
                                  ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
                    if (std::string_view(mac) != "00-00-00-00-00-00" &&
                        std::find(h.macs.begin(), h.macs.end(), mac) == h.macs.end()) {
                        h.macs.emplace_back(mac);
                    }
                }
            }
        }
        freeifaddrs(ifs);
    }

    const time_t now = time(nullptr);
    struct tm local {};
    if (localtime_r(&now, &local) != nullptr) {
        h.utc_offset_seconds = local.tm_gmtoff;
        h.timezone_abbreviation = local.tm_zone != nullptr ? local.tm_zone : "";
    }
    return h;
}

}  // namespace sipbeat::processors
