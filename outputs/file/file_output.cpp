// SPDX-License-Identifier: Apache-2.0
#include "outputs/file/file_output.h"

#include "beat/core/file_rotator.h"
#include "beat/core/logging.h"
#include "outputs/common/codec.h"

namespace sipbeat::outputs::file {

namespace {

const core::logging::Logger kLog("file");

class FileClient final : public Client {
public:
    FileClient(core::RotatorOptions options, CodecSettings codec, monitoring::Registry* metrics)
        : options_(std::move(options)), codec_(std::move(codec)) {
        if (metrics != nullptr) {
            write_bytes_ = &metrics->counter("libbeat.output.write.bytes");
            write_errors_ = &metrics->counter("libbeat.output.write.errors");
        }
    }

    core::Status connect() override {
        auto opened = core::FileRotator::open(options_);
        if (!opened) {
            return opened.status();
        }
        rotator_ = std::move(opened).value();
        kLog.info("Initialized file output. path=" + options_.directory +
                  " max_size_bytes=" + std::to_string(options_.max_size_bytes) +
                  " max_backups=" + std::to_string(options_.max_backups) + " permissions=0" +
                  toOctal(options_.permissions));
        return core::Status::ok();
    }

    core::Status publish(BatchPtr batch) override {
        if (!rotator_) {
            if (core::Status st = connect(); !st) {
                batch->cancel();
                return st;
            }
        }
        uint64_t bytes = 0;
        for (const encode::EncodedEvent& ev : batch->events()) {
            line_ = codec_.apply(ev, scratch_);
            line_.push_back('\n');
            bytes += line_.size();
            if (core::Status st = rotator_->write(line_); !st) {
                return fail(st, std::move(batch));
            }
        }
        if (core::Status st = rotator_->flush(); !st) {
            return fail(st, std::move(batch));
        }
        if (write_bytes_ != nullptr) {
            write_bytes_->add(bytes);
        }
        batch->ack();
        return core::Status::ok();
    }

    void close() override {
        if (rotator_) {
            (void)rotator_->sync();
            rotator_.reset();
        }
    }

    std::string describe() const override { return "file(" + options_.directory + ")"; }

private:
    static std::string toOctal(mode_t m) {
        std::string s;
        do {
            s.insert(s.begin(), static_cast<char>('0' + (m & 7)));
            m >>= 3;
        } while (m != 0);
        return s;
    }

    core::Status fail(const core::Status& st, BatchPtr batch) {
        // The whole batch is retried: events already written may be written twice
        // (at-least-once), none are lost.
        kLog.error("Error writing event to file: " + st.message());
        if (write_errors_ != nullptr) {
            write_errors_->add();
        }
        rotator_.reset();
        batch->retry();
        return st;
    }

    core::RotatorOptions options_;
    Codec codec_;
    std::unique_ptr<core::FileRotator> rotator_;
    std::string scratch_;
    std::string line_;
    monitoring::Counter* write_bytes_ = nullptr;
    monitoring::Counter* write_errors_ = nullptr;
};

}  // namespace

config::Spec FileFactory::schema() const {
    return config::object({
        {"path", config::required(config::stringNoDefault())},
        {"filename", config::string("sipbeat")},
        {"rotate_every_kb", config::integer(10240, 1)},
        {"number_of_files", config::integer(7, 2, 1024)},
        {"permissions", config::integer(0600, 0, 0777)},
        {"rotate_on_startup", config::boolean(true)},
        {"codec", codecSchema()},
        {"bulk_max_size", config::integer(-1)},
    });
}

core::Result<Group> FileFactory::create(const OutputContext& ctx, const config::Config& cfg,
                                        const std::string& prefix) const {
    core::RotatorOptions opts;
    opts.directory = cfg.getString(prefix + ".path");
    if (opts.directory.empty()) {
        return core::Status::error("missing required field accessing '" + prefix + ".path' " +
                                   cfg.originOf(prefix + ".path").describe());
    }
    opts.filename = cfg.getString(prefix + ".filename");
    opts.max_size_bytes = static_cast<uint64_t>(cfg.getInt(prefix + ".rotate_every_kb")) * 1024;
    // number_of_files counts the active file too (libbeat: MaxBackups(n - 1)).
    opts.max_backups = static_cast<uint32_t>(cfg.getInt(prefix + ".number_of_files") - 1);
    opts.permissions = static_cast<mode_t>(cfg.getInt(prefix + ".permissions"));
    opts.rotate_on_startup = cfg.getBool(prefix + ".rotate_on_startup");
    opts.clock = ctx.clock;
    opts.buffered = true;
    Group g;
    g.clients.push_back(
        std::make_unique<FileClient>(std::move(opts), readCodec(cfg, prefix), ctx.metrics));
    g.bulk_max_size = cfg.getInt(prefix + ".bulk_max_size");
    g.max_retries = -1;  // a file that cannot be written is retried, never given up on
    return g;
}

}  // namespace sipbeat::outputs::file
