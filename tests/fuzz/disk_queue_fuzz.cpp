// SPDX-License-Identifier: Apache-2.0
// Fuzz target: disk queue recovery from damaged files. The input is split at the first
// "\n--\n" into segment 1 and segment 2 (each gets a valid header unless it starts with
// "RAW"), and at a second separator into state.dat. The queue must open, read what is
// valid, skip what is not, and accept new events, never crash or loop.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "beat/monitoring/registry.h"
#include "beat/pipeline/disk_queue.h"

namespace {

const std::filesystem::path& dir() {
    static const std::filesystem::path d = [] {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dqfuzz-XXXXXX").string();
        char* made = ::mkdtemp(tmpl.data());
        return std::filesystem::path(made != nullptr ? made : "/tmp/dqfuzz");
    }();
    // Removed when the process ends (replay or fuzzer).
    static const struct Cleanup {
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(d, ec);
        }
    } cleanup;
    return d;
}

void writeFile(const std::filesystem::path& p, std::string_view bytes, bool header) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (header && bytes.substr(0, 3) != "RAW") {
        out.write("SBDQ\x02\0\0\0", 8);
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::filesystem::remove_all(dir());
    std::filesystem::create_directories(dir());
    std::string_view parts[3];
    size_t n = 0;
    size_t pos = 0;
    while (n < 3) {
        const size_t sep = n < 2 ? in.find("\n--\n", pos) : std::string_view::npos;
        parts[n++] =
            in.substr(pos, sep == std::string_view::npos ? std::string_view::npos : sep - pos);
        if (sep == std::string_view::npos) {
            break;
        }
        pos = sep + 4;
    }
    writeFile(dir() / "1.seg", parts[0], true);
    if (n > 1) {
        writeFile(dir() / "2.seg", parts[1], true);
    }
    if (n > 2) {
        writeFile(dir() / "state.dat", parts[2], false);
    }
    sipbeat::monitoring::Registry metrics;
    sipbeat::pipeline::DiskQueueSettings s;
    s.path = dir().string();
    s.max_size = 4 * 1024 * 1024;
    auto q = sipbeat::pipeline::DiskQueue::open(s, metrics);
    if (!q) {
        return 0;
    }
    std::vector<sipbeat::encode::EncodedEvent> out;
    size_t rounds = 0;
    while (const uint64_t t = (*q)->take(out, 16, false)) {
        (*q)->done(t);
        if (++rounds > 100000) {
            std::abort();  // reading must end
        }
    }
    sipbeat::encode::EncodedEvent ev;
    ev.json = "{}";
    ev.key = "k";
    if ((*q)->push(std::move(ev), false) != sipbeat::pipeline::EventQueue::PushResult::Ok) {
        std::abort();
    }
    if ((*q)->take(out, 16, false) == 0 || out.size() != 1 || out[0].json != "{}") {
        std::abort();  // a new event is always readable after recovery
    }
    return 0;
}
