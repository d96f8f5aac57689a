// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "beat/event/document.h"

namespace sipbeat::processors {

/// Where conditions, processors and format strings read event fields: an event::Document
/// before encoding (processors), or an encoded JSON event (output selector rules, which
/// run after the queue). Names are dotted (`sip.method`); `[a][b]` is normalised by callers.
class FieldSource {
public:
    virtual ~FieldSource() = default;
    /// The value of a leaf field, or nullptr. The pointer is valid until the next call.
    virtual const event::Field* lookup(std::string_view dotted) const = 0;
    /// True when `dotted` is a leaf field or an object with at least one field below it
    /// (`has_fields: [sip]`).
    virtual bool has(std::string_view dotted) const = 0;
};

/// Fields of a Document (flat dotted keys).
class DocumentFieldSource final : public FieldSource {
public:
    explicit DocumentFieldSource(const event::Document& doc) : doc_(doc) {}
    const event::Field* lookup(std::string_view dotted) const override;
    bool has(std::string_view dotted) const override;

private:
    const event::Document& doc_;
};

/// Fields of an encoded JSON event (`@timestamp`, `@metadata.*`, nested objects). The JSON
/// is parsed at the first lookup only, so a rule that never looks at a field costs nothing.
/// Invalid JSON has no fields.
class JsonFieldSource final : public FieldSource {
public:
    explicit JsonFieldSource(std::string_view json);
    ~JsonFieldSource() override;
    JsonFieldSource(const JsonFieldSource&) = delete;
    JsonFieldSource& operator=(const JsonFieldSource&) = delete;
    const event::Field* lookup(std::string_view dotted) const override;
    bool has(std::string_view dotted) const override;

private:
    struct Parsed;
    const Parsed& parsed() const;
    std::string_view json_;
    mutable std::unique_ptr<Parsed> parsed_;
};

}  // namespace sipbeat::processors
