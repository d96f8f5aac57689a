// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "beat/config/node.h"
#include "beat/pipeline/pipeline.h"
#include "outputs/common/codec.h"
#include "outputs/output.h"
#include "unit/test_util.h"

namespace sipbeat::outputs {
namespace {

using test::TempDir;

// 2026-11-23T12:00:00Z
constexpr core::TimestampNs kDay = 1795435200LL * core::kNsPerSecond;

/// Builds output.file from YAML, runs events through a real pipeline.
struct FileRun {
    FileRun(const std::string& yaml, const core::Clock& clock) {
        Registry reg;
        registerBuiltinOutputs(reg);
        const Factory* f = reg.find("file");
        auto spec = std::make_shared<config::Spec>(config::object({{"output", reg.schema()}}));
        config::Node root = config::parseYaml(yaml, "test.yml");
        config::validate(root, *spec);
        config::Config cfg(std::move(root), spec);
        OutputContext ctx;
        ctx.clock = &clock;
        ctx.metrics = &metrics;
        auto group = f->create(ctx, cfg, "output.file");
        EXPECT_TRUE(group) << group.status().message();
        pipeline::QueueSettings q;
        q.flush_timeout_ns = 1'000'000;
        pipe = std::make_unique<pipeline::Pipeline>(std::move(group).value(), q, metrics);
        pipe->start();
    }
    void publish(const std::string& json) {
        encode::EncodedEvent e;
        e.json = json;
        pipe->publish(std::move(e));
    }
    monitoring::Registry metrics;
    std::unique_ptr<pipeline::Pipeline> pipe;
};

TEST(FileOutputTest, WritesOneJsonDocumentPerLine) {
    TempDir dir;
    core::ManualClock clock(kDay);
    FileRun run("output.file: {path: " + dir.path() + "/ev, filename: sb}\n", clock);
    run.publish("{\"a\":1}");
    run.publish("{\"a\":2}");
    run.pipe->close();
    EXPECT_EQ(test::readFile(dir.path() + "/ev/sb-20261123.ndjson"), "{\"a\":1}\n{\"a\":2}\n");
    EXPECT_EQ(run.pipe->acked(), 2u);
    EXPECT_EQ(run.metrics.counter("libbeat.output.write.bytes").get(), 16u);
}

TEST(FileOutputTest, RotationKeepsNumberOfFiles) {
    TempDir dir;
    core::ManualClock clock(kDay);
    const std::string event = "{\"pad\":\"" + std::string(1000, 'p') + "\"}";
    {
        FileRun run("output.file:\n  path: " + dir.path() +
                        "\n  rotate_every_kb: 2\n  number_of_files: 3\n",
                    clock);
        for (int i = 0; i < 20; ++i) {
            run.publish(event);
        }
        run.pipe->close();
        EXPECT_EQ(run.pipe->acked(), 20u);
    }
    const auto files = test::listDir(dir.path());
    ASSERT_EQ(files.size(), 3u);
    // Each line is 1012 bytes, so two fit in a 2 KiB file: 20 events make ten files
    // (base, -1 … -9) of which the newest three survive.
    EXPECT_EQ(files.back(), "sipbeat-20261123-9.ndjson");
    for (const auto& f : files) {
        EXPECT_EQ(test::readLines(dir.path() + "/" + f).size(), 2u) << f;
    }
}

TEST(FileOutputTest, PrettyAndFormatCodecs) {
    TempDir dir;
    core::ManualClock clock(kDay);
    {
        FileRun run(
            "output.file: {path: " + dir.path() + "/p, codec.json.pretty: true, filename: p}\n",
            clock);
        run.publish("{\"a\":{\"b\":1}}");
        run.pipe->close();
    }
    EXPECT_EQ(test::readFile(dir.path() + "/p/p-20261123.ndjson"),
              "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
    {
        FileRun run("output.file: {path: " + dir.path() +
                        "/f, filename: f, codec.format.string: '%{[@timestamp]} %{[sip.method]} "
                        "%{[missing]:none} %{[x]}'}\n",
                    clock);
        run.publish("{\"@timestamp\":\"T\",\"sip\":{\"method\":\"INVITE\"},\"x\":{\"y\":2}}");
        run.pipe->close();
    }
    EXPECT_EQ(test::readFile(dir.path() + "/f/f-20261123.ndjson"), "T INVITE none {\"y\":2}\n");
}

TEST(CodecTest, FormatStringFieldForms) {
    const std::string json = "{\"log.level\":\"info\",\"a\":{\"b\":\"c\"},\"n\":5}";
    EXPECT_EQ(formatEvent("%{[a.b]}|%{[a][b]}|%{[log.level]}|%{[n]}|100%", json),
              "c|c|info|5|100%");
}

}  // namespace
}  // namespace sipbeat::outputs
