// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/clock.h"

namespace sipbeat::event {

enum class ValueKind : uint8_t { Bool, Int, Uint, Double, String, StringList, IntList };

/// One field of an event: a dotted ECS name and a value. Strings are views; the
/// Document's arena owns the bytes of everything set through it.
struct Field {
    std::string_view key;
    ValueKind kind = ValueKind::Int;
    bool b = false;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    std::string_view s;
    std::vector<std::string_view> list;
    std::vector<int64_t> ints;
};

/// An event as the tracker and processors see it: flat dotted fields, nested only when
/// encoded, so processors (add_fields, rename, drop_fields) work on names directly and
/// the encoder writes each event once. A Document is reused from event to event: clear()
/// keeps its memory, so building events does not allocate once warm.
class Document {
public:
    Document() = default;
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;
    Document(Document&&) noexcept = default;
    Document& operator=(Document&&) noexcept = default;

    /// Event time (`@timestamp`): packet time or timer time, never wall time.
    core::TimestampNs timestamp = 0;

    void clear();

    // Setters replace an existing field of the same key. Keys and string values are
    // copied into the arena unless noted.
    void setBool(std::string_view key, bool v);
    void setInt(std::string_view key, int64_t v);
    void setUint(std::string_view key, uint64_t v);
    void setDouble(std::string_view key, double v);
    void setString(std::string_view key, std::string_view v);
    void setStringList(std::string_view key, const std::vector<std::string_view>& v);
    /// Appends to a string list (creating it), e.g. `tags`, `related.ip`.
    void appendToList(std::string_view key, std::string_view v);
    /// Appends to a list of integers (creating it), e.g. `sip.sdp.media.port`.
    void appendToIntList(std::string_view key, int64_t v);
    /// Sets a string, lower-cased (packetbeat lower-cases content types, Allow, …).
    void setStringLower(std::string_view key, std::string_view v);
    /// Appends a lower-cased copy to a string list.
    void appendToListLower(std::string_view key, std::string_view v);

    // Builders that set each key once use these: no search for an existing field, and the
    // key is not copied unless `copy_key` (keys are normally the generated fields::k*
    // constants, which outlive every document). Values are copied into the arena.
    void addString(std::string_view key, std::string_view v, bool copy_key = false);
    void addInt(std::string_view key, int64_t v);
    void addUint(std::string_view key, uint64_t v);
    void addBool(std::string_view key, bool v);
    void addDouble(std::string_view key, double v);
    /// A whole list at once (keys set once per event, e.g. `dbg.cseq`, `event.category`).
    void addIntList(std::string_view key, std::initializer_list<int64_t> values);
    void addStringList(std::string_view key, std::initializer_list<std::string_view> values);

    /// `@metadata.<key>` entries (not indexed; outputs read them).
    void setMeta(std::string_view key, std::string_view v);

    const Field* get(std::string_view key) const;
    bool remove(std::string_view key);
    /// Renames a field; false when `from` is absent.
    bool rename(std::string_view from, std::string_view to);

    std::span<const Field> fields() const { return {fields_.data(), used_}; }
    std::span<const Field> meta() const { return {meta_.data(), meta_used_}; }

    /// Copies bytes into the arena; the view lives until clear().
    std::string_view intern(std::string_view s);

private:
    Field& slot(std::vector<Field>& list, size_t& used, std::string_view key);
    Field& appendSlot(std::string_view key, bool copy_key);
    Field* find(std::string_view key);
    Field* findForAppend(std::string_view key);
    std::string_view internLower(std::string_view s);

    // Fields past used_ are kept (with their list capacity) for the next event, so a
    // reused Document does not allocate.
    std::vector<Field> fields_;
    size_t used_ = 0;
    std::vector<Field> meta_;
    size_t meta_used_ = 0;
    // Arena: fixed chunks so interned views never move.
    std::vector<std::unique_ptr<char[]>> chunks_;
    std::vector<size_t> chunk_sizes_;
    size_t chunk_index_ = 0;
    size_t chunk_used_ = 0;
};

}  // namespace sipbeat::event
