// SPDX-License-Identifier: Apache-2.0
#include "outputs/console/console_output.h"

#include <unistd.h>

#include "beat/core/file_rotator.h"
#include "beat/core/logging.h"
#include "outputs/common/codec.h"

namespace sipbeat::outputs::console {

namespace {

const core::logging::Logger kLog("console");

class ConsoleClient final : public Client {
public:
    ConsoleClient(CodecSettings codec, monitoring::Registry* metrics) : codec_(std::move(codec)) {
        if (metrics != nullptr) {
            write_bytes_ = &metrics->counter("libbeat.output.write.bytes");
            write_errors_ = &metrics->counter("libbeat.output.write.errors");
        }
    }

    core::Status connect() override { return core::Status::ok(); }

    core::Status publish(BatchPtr batch) override {
        buffer_.clear();
        for (const encode::EncodedEvent& ev : batch->events()) {
            buffer_.append(codec_.apply(ev, scratch_));
            buffer_.push_back('\n');
        }
        if (core::Status st = core::writeFully(STDOUT_FILENO, buffer_, "stdout"); !st) {
            kLog.error(st.message());
            if (write_errors_ != nullptr) {
                write_errors_->add();
            }
            batch->retry();
            return st;
        }
        if (write_bytes_ != nullptr) {
            write_bytes_->add(buffer_.size());
        }
        batch->ack();
        return core::Status::ok();
    }

    void close() override {}
    std::string describe() const override { return "console(stdout)"; }

private:
    Codec codec_;
    std::string buffer_;
    std::string scratch_;
    monitoring::Counter* write_bytes_ = nullptr;
    monitoring::Counter* write_errors_ = nullptr;
};

}  // namespace

config::Spec ConsoleFactory::schema() const {
    return config::object({
        {"pretty", config::boolean(false)},
        {"codec", codecSchema()},
        {"bulk_max_size", config::integer(2048)},
    });
}

core::Result<Group> ConsoleFactory::create(const OutputContext& ctx, const config::Config& cfg,
                                           const std::string& prefix) const {
    CodecSettings codec = readCodec(cfg, prefix);
    // `pretty` is the console's shorthand for codec.json.pretty.
    codec.pretty = codec.pretty || cfg.getBool(prefix + ".pretty");
    Group g;
    g.clients.push_back(std::make_unique<ConsoleClient>(std::move(codec), ctx.metrics));
    g.bulk_max_size = cfg.getInt(prefix + ".bulk_max_size");
    g.max_retries = 3;
    return g;
}

}  // namespace sipbeat::outputs::console
