// SPDX-License-Identifier: Apache-2.0
#include "outputs/logstash/lumberjack.h"

#include <algorithm>
#include <cmath>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "beat/core/json_escape.h"

namespace sipbeat::outputs::logstash {

void appendU32(std::string& out, uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 4);
}

namespace {

uint32_t readU32(const uint8_t* p) {
    return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
           (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

void patchU32(std::string& out, size_t at, uint32_t v) {
    out[at] = static_cast<char>(v >> 24);
    out[at + 1] = static_cast<char>(v >> 16);
    out[at + 2] = static_cast<char>(v >> 8);
    out[at + 3] = static_cast<char>(v);
}

}  // namespace

WindowEncoder::WindowEncoder(int compression_level) : level_(std::clamp(compression_level, 0, 9)) {}

WindowEncoder::~WindowEncoder() {
    if (zinit_) {
        deflateEnd(&zs_);
    }
}

void WindowEncoder::begin(uint32_t count) {
    out_.clear();
    frames_.clear();
    count_ = count;
    next_seq_ = 1;
    out_.push_back(kVersion);
    out_.push_back(kWindowFrame);
    appendU32(out_, count);
}

void WindowEncoder::add(std::string_view json) {
    // Compressed windows collect the frames first and deflate them once in finish().
    std::string& dst = level_ > 0 ? frames_ : out_;
    dst.push_back(kVersion);
    dst.push_back(kJsonFrame);
    appendU32(dst, next_seq_++);
    appendU32(dst, static_cast<uint32_t>(json.size()));
    dst.append(json);
}

core::Status WindowEncoder::finish() {
    if (level_ == 0) {
        return core::Status::ok();
    }
    if (!zinit_) {
        if (deflateInit(&zs_, level_) != Z_OK) {
            return core::Status::error("zlib: cannot initialise compression");
        }
        zinit_ = true;
    } else if (deflateReset(&zs_) != Z_OK) {
        return core::Status::error("zlib: cannot reset compression");
    }
    out_.push_back(kVersion);
    out_.push_back(kCompressedFrame);
    const size_t len_at = out_.size();
    appendU32(out_, 0);  // back-patched below, once the compressed size is known
    const size_t payload_at = out_.size();
    const uLong bound = deflateBound(&zs_, static_cast<uLong>(frames_.size()));
    out_.resize(payload_at + bound);
    zs_.next_in = reinterpret_cast<Bytef*>(frames_.data());
    zs_.avail_in = static_cast<uInt>(frames_.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data() + payload_at);
    zs_.avail_out = static_cast<uInt>(bound);
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) {
        out_.resize(payload_at);
        return core::Status::error("zlib: compression failed");
    }
    const size_t compressed = bound - zs_.avail_out;
    out_.resize(payload_at + compressed);
    patchU32(out_, len_at, static_cast<uint32_t>(compressed));
    return core::Status::ok();
}

void AckReader::reset() {
    windows_.clear();
    head_acked_ = 0;
    partial_len_ = 0;
    error_.clear();
}

core::Status AckReader::feed(std::span<const uint8_t> bytes, std::vector<Ack>& acks) {
    acks.clear();
    if (!error_.empty()) {
        return core::Status::error(error_);
    }
    size_t i = 0;
    while (i < bytes.size()) {
        const size_t take = std::min(kAckFrameSize - partial_len_, bytes.size() - i);
        std::copy_n(bytes.data() + i, take, partial_ + partial_len_);
        partial_len_ += take;
        i += take;
        if (partial_len_ < kAckFrameSize) {
            break;
        }
        partial_len_ = 0;
        if (partial_[0] != kVersion || partial_[1] != kAckFrame) {
            // go-lumber: any frame other than 2A is ErrProtocolError.
            error_ = "lumberjack protocol error: expected an ACK frame, got bytes 0x" +
                     std::string(1, "0123456789abcdef"[partial_[0] >> 4]) +
                     "0123456789abcdef"[partial_[0] & 15] + " 0x" +
                     "0123456789abcdef"[partial_[1] >> 4] + "0123456789abcdef"[partial_[1] & 15];
            return core::Status::error(error_);
        }
        const uint32_t seq = readU32(partial_ + 2);
        if (seq == 0) {
            acks.push_back({Kind::Keepalive, 0, 0});
            continue;
        }
        if (windows_.empty()) {
            error_ = "lumberjack protocol error: ACK " + std::to_string(seq) +
                     " with no window outstanding";
            return core::Status::error(error_);
        }
        const uint32_t count = windows_.front();
        if (seq > count) {
            error_ = "invalid sequence number received (seq=" + std::to_string(seq) +
                     ", expected=" + std::to_string(count) + ")";
            return core::Status::error(error_);
        }
        if (seq < count) {
            // A smaller partial ACK than one already seen says nothing new.
            head_acked_ = std::max(head_acked_, seq);
            acks.push_back({Kind::Partial, head_acked_, count});
            continue;
        }
        windows_.pop_front();
        head_acked_ = 0;
        acks.push_back({Kind::Complete, count, count});
    }
    return core::Status::ok();
}

void SlowStartWindow::grow(int32_t batch_size) {
    int32_t size = size_;
    if (size > batch_size) {
        return;  // the window was not the limit: nothing learnt
    }
    if (max_ok_ < size) {
        max_ok_ = size;
        int32_t next = static_cast<int32_t>(std::ceil(1.5 * static_cast<double>(size)));
        if (batch_size < next) {
            next = batch_size;
        }
        size = std::min(next, max_);
    } else if (size < max_ok_) {
        // Back to the size that worked before an error, quickly.
        size = std::min(static_cast<int32_t>(std::ceil(1.5 * static_cast<double>(size))), max_ok_);
    }
    size_ = std::max(size, kMin);
}

void SlowStartWindow::shrink() {
    size_ = std::max(size_ / 2, kMin);
}

namespace {

/// End of the JSON string whose opening quote is at json[start] (index of the closing
/// quote), or npos.
size_t stringEnd(std::string_view json, size_t start) {
    for (size_t i = start + 1; i < json.size(); ++i) {
        if (json[i] == '\\') {
            ++i;
        } else if (json[i] == '"') {
            return i;
        }
    }
    return std::string_view::npos;
}

}  // namespace

std::string_view withMetadataBeat(std::string_view json, std::string_view beat,
                                  std::string& scratch) {
    constexpr std::string_view kHead = "{\"@timestamp\":\"";
    constexpr std::string_view kMeta = ",\"@metadata\":{\"beat\":";
    std::string quoted;
    core::appendJsonString(quoted, beat);
    if (json.starts_with(kHead)) {
        const size_t ts_end = stringEnd(json, kHead.size() - 1);
        if (ts_end != std::string_view::npos && json.substr(ts_end + 1).starts_with(kMeta)) {
            const size_t value_at = ts_end + 1 + kMeta.size();
            if (value_at < json.size() && json[value_at] == '"') {
                const size_t value_end = stringEnd(json, value_at);
                if (value_end != std::string_view::npos) {
                    if (json.substr(value_at, value_end + 1 - value_at) == quoted) {
                        return json;
                    }
                    scratch.assign(json.substr(0, value_at));
                    scratch.append(quoted);
                    scratch.append(json.substr(value_end + 1));
                    return scratch;
                }
            }
        }
    }
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        return json;  // not ours to repair; sent as it is
    }
    auto& alloc = doc.GetAllocator();
    if (!doc.HasMember("@metadata") || !doc["@metadata"].IsObject()) {
        doc.RemoveMember("@metadata");
        doc.AddMember("@metadata", rapidjson::Value(rapidjson::kObjectType), alloc);
    }
    rapidjson::Value& meta = doc["@metadata"];
    rapidjson::Value value(beat.data(), static_cast<rapidjson::SizeType>(beat.size()), alloc);
    if (meta.HasMember("beat")) {
        meta["beat"] = value;
    } else {
        meta.AddMember("beat", value, alloc);
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
    scratch.assign(buf.GetString(), buf.GetSize());
    return scratch;
}

namespace {

core::Status inflateAll(std::string_view in, std::string& out, size_t limit) {
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) {
        return core::Status::error("zlib: cannot initialise decompression");
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    char buf[16384];
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            return core::Status::error("zlib: corrupt compressed frame");
        }
        out.append(buf, sizeof buf - zs.avail_out);
        if (out.size() > limit) {
            inflateEnd(&zs);
            return core::Status::error("compressed frame too large");
        }
        if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            return core::Status::error("zlib: truncated compressed frame");
        }
    }
    inflateEnd(&zs);
    return core::Status::ok();
}

struct Decoder {
    std::vector<DecodedWindow>& out;
    size_t max_events;
    size_t inflate_budget;
    size_t events = 0;

    core::Status run(std::string_view bytes, int depth) {
        if (depth > 8) {
            return core::Status::error("compressed frames nested too deeply");
        }
        const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
        size_t i = 0;
        while (i < bytes.size()) {
            if (bytes.size() - i < 2) {
                return core::Status::error("truncated frame header");
            }
            if (p[i] != static_cast<uint8_t>(kVersion)) {
                return core::Status::error("unsupported protocol version");
            }
            const char type = static_cast<char>(p[i + 1]);
            i += 2;
            if (bytes.size() - i < 4) {
                return core::Status::error("truncated frame");
            }
            const uint32_t a = readU32(p + i);
            i += 4;
            if (type == kWindowFrame) {
                out.push_back({a, {}});
            } else if (type == kJsonFrame) {
                if (bytes.size() - i < 4) {
                    return core::Status::error("truncated data frame");
                }
                const uint32_t len = readU32(p + i);
                i += 4;
                if (bytes.size() - i < len) {
                    return core::Status::error("truncated data frame payload");
                }
                if (out.empty()) {
                    return core::Status::error("data frame before window frame");
                }
                if (++events > max_events) {
                    return core::Status::error("too many events");
                }
                out.back().events.emplace_back(a, std::string(bytes.substr(i, len)));
                i += len;
            } else if (type == kCompressedFrame) {
                if (bytes.size() - i < a) {
                    return core::Status::error("truncated compressed frame");
                }
                std::string inner;
                if (core::Status st = inflateAll(bytes.substr(i, a), inner, inflate_budget); !st) {
                    return st;
                }
                inflate_budget -= std::min(inflate_budget, inner.size());
                i += a;
                if (core::Status st = run(inner, depth + 1); !st) {
                    return st;
                }
            } else {
                return core::Status::error("unknown frame type");
            }
        }
        return core::Status::ok();
    }
};

}  // namespace

core::Status decodeWindows(std::string_view bytes, std::vector<DecodedWindow>& out,
                           size_t max_events, size_t max_inflate) {
    Decoder d{out, max_events, max_inflate};
    return d.run(bytes, 0);
}

}  // namespace sipbeat::outputs::logstash
