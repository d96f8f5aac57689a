// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beat/config/node.h"
#include "beat/core/status.h"
#include "beat/event/document.h"

namespace sipbeat::processors {

/// Host facts for add_host_metadata and add_locale, gathered once at start (injected in
/// tests so results are deterministic).
struct HostInfo {
    std::string hostname;
    std::string architecture;
    std::string os_type;      ///< "linux"
    std::string os_platform;  ///< "debian" (os-release ID)
    std::string os_name;      ///< os-release NAME
    std::string os_family;    ///< "debian" (os-release ID_LIKE or ID)
    std::string os_version;   ///< os-release VERSION
    std::string os_kernel;    ///< uname release
    std::string os_codename;
    std::string id;  ///< /etc/machine-id
    std::vector<std::string> ips;
    std::vector<std::string> macs;
    long utc_offset_seconds = 0;  ///< for add_locale
    std::string timezone_abbreviation;
    /// Reads this machine (uname, /etc/os-release, /etc/machine-id, getifaddrs, localtime).
    static HostInfo detect();
};

/// One processor of a `processors:` list (reference/beats.md §2.4): add_fields, add_tags,
/// add_labels, drop_event, drop_fields, include_fields, rename, copy_fields,
/// add_host_metadata, add_locale, and `if/then/else`; each may have a `when` condition.
class Processor {
public:
    virtual ~Processor() = default;
    /// Applies to `doc`; false means the event is dropped.
    virtual bool run(event::Document& doc) const = 0;
    virtual std::string describe() const = 0;  ///< "drop_fields={fields:[…]}", for logs
};
using ProcessorPtr = std::unique_ptr<Processor>;

/// A compiled `processors:` list, run in order; an empty list costs nothing per event.
class ProcessorList {
public:
    bool empty() const { return list_.empty(); }
    /// Runs every processor; false as soon as one drops the event.
    bool run(event::Document& doc) const;
    void add(ProcessorPtr p) { list_.push_back(std::move(p)); }

private:
    std::vector<ProcessorPtr> list_;
};

/// Compiles a `processors:` sequence. Unknown processor names, bad parameters and bad
/// conditions are errors naming the key and its file.
core::Result<ProcessorList> compileProcessors(const config::Node& list, const std::string& path,
                                              const HostInfo& host);

}  // namespace sipbeat::processors
