// SPDX-License-Identifier: Apache-2.0
// Fuzz target: what Elasticsearch (or anything on its port) answers. The input is read as a
// `_bulk` answer (parse, then the per-item outcomes for several batch sizes), as the answer
// of `GET /` (version check), and as an event document whose `@metadata` is cut out and
// whose dead-letter replacement is built.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/elasticsearch/bulk_protocol.h"

namespace {

// Keeps the results from being optimised away.
volatile uint64_t g_keep = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace es = sipbeat::outputs::elasticsearch;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    uint64_t sum = 0;

    es::BulkResponse response;
    std::vector<es::ItemOutcome> outcomes;
    if (es::parseBulkResponse(in, response)) {
        for (size_t count :
             {size_t{0}, size_t{1}, response.items.size(), response.items.size() + 3}) {
            es::classifyItems(response, count, outcomes);
            for (es::ItemOutcome o : outcomes) {
                sum += static_cast<uint64_t>(o);
            }
        }
        for (const es::BulkItem& item : response.items) {
            sum += static_cast<uint64_t>(es::classifyItem(item.status)) + item.error.size();
        }
    }

    if (auto number = es::parseRootResponse(in)) {
        // A version that parsed once must parse again and compare without trouble.
        const auto v = es::EsVersion::parse(*number);
        sum += v ? static_cast<uint64_t>(v->lessThan(es::EsVersion{7, 0, 0})) : 1000;
    }
    if (auto v = es::EsVersion::parse(in)) {
        sum += static_cast<uint64_t>(es::chooseOp(*v, "", "")) + v->toString().size();
    }

    es::EventMeta meta;
    if (es::splitMetadata(in, meta)) {
        std::string body;
        const es::BulkOp op = es::chooseOp(es::EsVersion{8, 15, 0}, meta.op_type, meta.id);
        es::appendActionLine(body, op, meta.index, meta.pipeline, meta.id, false);
        std::string source(meta.source_head);
        source += meta.source_tail;
        es::appendDeadLetterSource(body, es::findTimestamp(meta.source_head), source, 400,
                                   meta.raw_index);
        sum += body.size();
    }
    g_keep = g_keep + sum;
    return 0;
}
