// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/status.h"

// The Elasticsearch wire format as sipbeat speaks it (reference/beats.md §3.2, §5.1):
// building `_bulk` bodies and reading the answers. Pure functions without I/O, so they
// are unit-tested and fuzzed on their own.
namespace sipbeat::outputs::elasticsearch {

/// An Elasticsearch version ("8.15.0", "7.17.3-SNAPSHOT").
struct EsVersion {
    int major = 0;
    int minor = 0;
    int patch = 0;

    static std::optional<EsVersion> parse(std::string_view text);
    bool lessThan(const EsVersion& other) const;
    std::string toString() const;
};

/// Reads `version.number` from the answer of `GET /`; an error says what is wrong.
core::Result<std::string> parseRootResponse(std::string_view body);

/// What the pipeline's event JSON carries in `@metadata` that decides the bulk action
/// (libbeat `createEventBulkMeta`), and the document without `@metadata`.
struct EventMeta {
    /// The `_source` document is `source_head` followed by `source_tail`: the event JSON
    /// with the `@metadata` member cut out, without copying.
    std::string_view source_head;
    std::string_view source_tail;
    std::string index;      ///< `@metadata.index` (lower-cased by libbeat)
    std::string raw_index;  ///< `@metadata.raw_index` (used as is)
    std::string pipeline;   ///< `@metadata.pipeline`
    std::string id;         ///< `@metadata._id`
    std::string op_type;    ///< `@metadata.op_type`: "create", "index" or "delete"
};

/// Splits `json` (one object) into its `@metadata` fields and the rest. False when the
/// text is not a JSON object; an object without `@metadata` is its own source.
bool splitMetadata(std::string_view json, EventMeta& out);

enum class BulkOp : uint8_t { Create, Index, Delete };

std::string_view opName(BulkOp op);

/// The action of one event: `create` for ES >= 7.5 or when an `_id` is set, unless
/// `op_type: index`; `delete` when `op_type: delete` with an `_id` (libbeat bulkapi.go).
BulkOp chooseOp(const EsVersion& es, std::string_view op_type, std::string_view id);

/// Appends `{"<op>":{"_index":..,"_type":"doc"(ES<7),"pipeline":..,"_id":..}}\n`.
void appendActionLine(std::string& body, BulkOp op, std::string_view index,
                      std::string_view pipeline, std::string_view id, bool with_type);

/// Appends `text` as a JSON string literal (quoted, escaped).
void appendJsonString(std::string& out, std::string_view text);

/// Appends the dead-letter document that replaces a rejected event (libbeat
/// `non_indexable_policy.dead_letter_index`): `{"@timestamp":..,"message":<source as a
/// string>,"error.type":<status>,"error.message":<ES error JSON>}`.
void appendDeadLetterSource(std::string& body, std::string_view timestamp, std::string_view source,
                            int status, std::string_view error_json);

/// The `@timestamp` string of an event document, empty when absent.
std::string_view findTimestamp(std::string_view source_head);

/// One item of a bulk answer.
struct BulkItem {
    int status = 0;
    std::string error;  ///< The `error` value as JSON, empty when none.
};

/// A bulk answer (with `filter_path=errors,items.*.error,items.*.status`).
struct BulkResponse {
    bool errors = false;
    std::vector<BulkItem> items;
};

/// Parses a bulk answer into `out` (its vector is reused). Fails on anything that is not
/// a JSON object of that shape; never throws.
core::Status parseBulkResponse(std::string_view body, BulkResponse& out);

/// What happens to one sent event (libbeat `bulkCollectPublishFails`).
enum class ItemOutcome : uint8_t {
    Acked,         ///< < 300
    Duplicate,     ///< 409: already indexed, not retried
    TooMany,       ///< 429: retried
    NonIndexable,  ///< other 4xx: dropped or sent to the dead-letter index
    ServerError,   ///< >= 500 (or no status): retried
};

ItemOutcome classifyItem(int status);

/// The outcome of `count` sent items from a parsed answer. `errors: false` acks every
/// item; items the answer does not mention are retried (never lost, never assumed done).
void classifyItems(const BulkResponse& response, size_t count, std::vector<ItemOutcome>& out);

}  // namespace sipbeat::outputs::elasticsearch
