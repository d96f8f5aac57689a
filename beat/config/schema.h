// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "beat/config/node.h"

namespace sipbeat::config {

/// What a configuration value may be. Scalars are typed by the schema, not by YAML, so
/// `"5066"` is a fine port and `${PORT}` works wherever a number is expected.
enum class Type : uint8_t {
    Any,   ///< Anything (free-form sections such as `fields`).
    Bool,  ///< true/false, yes/no, on/off.
    Int,   ///< Decimal, 0x hex or YAML 1.1 octal (`0600`).
    Float,
    String,
    Duration,  ///< `250ms`, `1m30s`, `5m`; a bare number is seconds (go-ucfg).
    Map,       ///< Fixed set of keys (unknown keys are errors) or open (any key).
    Sequence,
};

/// The declaration of one configuration value: type, default, limits, children. One tree
/// of these describes every key sipbeat accepts, so unknown keys, wrong types and
/// out-of-range values are found before anything starts, and defaults live in one place.
struct Spec {
    Type type = Type::Any;
    std::optional<std::string> default_text;  ///< Default as config text.
    std::optional<double> min;
    std::optional<double> max;
    std::vector<std::string> allowed;                  ///< For strings: the only accepted values.
    std::vector<std::pair<std::string, Spec>> fields;  ///< Map children.
    std::shared_ptr<Spec> element;  ///< Sequence items, or values of an open map.
    bool open = false;              ///< Map accepting any key.
    bool required = false;
    /// For a map: the child (a list of strings) naming unknown keys to tolerate
    /// (sipcmbeat's `cfg_ignore_unknown`; `all` tolerates every unknown key).
    std::string ignore_unknown_list;

    const Spec* field(std::string_view name) const;
    /// Spec at a dotted path below this one, or nullptr.
    const Spec* find(std::string_view dotted_path) const;
};

// Builders, so schema tables read like the reference tables they come from.
Spec boolean(bool def);
Spec integer(int64_t def, std::optional<int64_t> min = std::nullopt,
             std::optional<int64_t> max = std::nullopt);
Spec integerNoDefault(std::optional<int64_t> min = std::nullopt,
                      std::optional<int64_t> max = std::nullopt);
Spec floating(double def, std::optional<double> min = std::nullopt,
              std::optional<double> max = std::nullopt);
Spec string(std::string def);
Spec stringNoDefault();
Spec oneOf(std::string def, std::vector<std::string> allowed);
Spec duration(std::string def, std::optional<double> min_seconds = std::nullopt);
Spec listOf(Spec element, std::string def = "[]");
Spec object(std::vector<std::pair<std::string, Spec>> fields);
Spec openMap(Spec value = Spec{});
Spec any();
Spec required(Spec s);

/// Checks `node` against `spec`; throws ConfigError naming the first bad key and its
/// source. `path` is the dotted name of `node` ("" for the root).
void validate(const Node& node, const Spec& spec, const std::string& path = "");

// Scalar conversions shared by validation and typed access.
bool parseBool(std::string_view text, bool& out);
bool parseInt(std::string_view text, int64_t& out);
bool parseFloat(std::string_view text, double& out);
/// Duration in nanoseconds.
bool parseDuration(std::string_view text, int64_t& out_ns);

/// A validated configuration with typed access; absent keys read as the schema default.
class Config {
public:
    Config(Node root, std::shared_ptr<const Spec> schema);

    const Node& root() const { return root_; }
    const Spec& schema() const { return *schema_; }

    bool has(std::string_view path) const { return root_.find(path) != nullptr; }
    const Node* node(std::string_view path) const { return root_.find(path); }

    bool getBool(std::string_view path) const;
    int64_t getInt(std::string_view path) const;
    double getFloat(std::string_view path) const;
    std::string getString(std::string_view path) const;
    int64_t getDurationNs(std::string_view path) const;
    std::vector<std::string> getStringList(std::string_view path) const;

    /// Where `path` was set (or the default, for error messages).
    Origin originOf(std::string_view path) const;
    /// The error message for a bad value at `path`, naming it and where it was set.
    std::string errorAt(std::string_view path, const std::string& what) const {
        return keyErrorMessage(what, path, originOf(path));
    }

private:
    std::string textOf(std::string_view path) const;

    Node root_;
    std::shared_ptr<const Spec> schema_;
};

}  // namespace sipbeat::config
