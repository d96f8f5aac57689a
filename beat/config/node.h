// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipbeat::config {

/// Where a value came from, so every error can name the file (and line) to fix.
struct Origin {
    std::string source;  ///< File path, or "command line flag -E".
    int line = 0;        ///< 1-based; 0 when unknown.

    /// `(source:'/etc/sipbeat/sipbeat.yml', line 12)` — go-ucfg's shape plus the line.
    std::string describe() const;
};

/// A bad configuration: one message that names the key and where it was set. Only the
/// control plane throws it; `main` turns it into `Exiting: <message>` and exit 1.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// go-ucfg's shape of every configuration error: "<what> accessing '<path>' (source:'…')".
std::string keyErrorMessage(const std::string& what, std::string_view path, const Origin& origin);

/// One node of a configuration tree, as YAML gives it but with dotted keys expanded
/// (`a.b: 1` is `a: {b: 1}`, go-ucfg's PathSep(".")) and each value's origin kept.
/// Scalars keep their text; their type is decided by the schema that reads them.
class Node {
public:
    enum class Kind : uint8_t { Null, Scalar, Sequence, Map };

    Node() = default;
    static Node scalar(std::string text, Origin origin, bool quoted = false);
    static Node map(Origin origin);
    static Node sequence(Origin origin);

    Kind kind() const { return kind_; }
    bool isNull() const { return kind_ == Kind::Null; }
    bool isScalar() const { return kind_ == Kind::Scalar; }
    bool isMap() const { return kind_ == Kind::Map; }
    bool isSequence() const { return kind_ == Kind::Sequence; }
    /// The JSON-ish name of the kind, for error messages.
    std::string_view kindName() const;

    const std::string& text() const { return text_; }
    std::string& mutableText() { return text_; }
    bool quoted() const { return quoted_; }
    /// The whole value came from one `${VAR}` reference. go-ucfg parses such a value, so
    /// `hosts: '${ES_HOSTS}'` with ES_HOSTS=a,b is a list of two where a list is read.
    bool fromVariable() const { return from_variable_; }
    void setFromVariable(bool v) { from_variable_ = v; }
    const Origin& origin() const { return origin_; }

    const std::vector<Node>& items() const { return items_; }
    std::vector<Node>& items() { return items_; }
    const std::vector<std::pair<std::string, Node>>& entries() const { return entries_; }
    std::vector<std::pair<std::string, Node>>& entries() { return entries_; }

    /// Direct child of a map, or nullptr.
    const Node* child(std::string_view key) const;
    Node* child(std::string_view key);
    /// Node at a dotted path (`output.file.path`), or nullptr.
    const Node* find(std::string_view dotted_path) const;
    Node* find(std::string_view dotted_path);
    /// Removes a direct child of a map; true if there was one.
    bool erase(std::string_view key);

    /// Sets the value at a dotted path, creating maps on the way; a non-map in the way
    /// is replaced (a later setting wins).
    void set(std::string_view dotted_path, Node value);

    /// Merges `other` over this node: maps merge key by key, anything else replaces
    /// (lists included: `-E hosts=[a]` replaces a file's hosts, it does not append).
    void merge(const Node& other);

private:
    Kind kind_ = Kind::Null;
    std::string text_;
    bool quoted_ = false;
    bool from_variable_ = false;
    Origin origin_;
    std::vector<Node> items_;
    std::vector<std::pair<std::string, Node>> entries_;
};

/// Parses YAML text into a tree; `source` names it in errors.
Node parseYaml(std::string_view text, const std::string& source);
/// Reads and parses a YAML file.
Node loadYamlFile(const std::string& path);
/// Parses one `-E key=value` flag. The value is YAML (numbers, bools, `[a,b]`,
/// `{k: v}`, quoted strings); `-E key` alone means true; `-E key=` is ignored.
/// Returns false when the flag is to be ignored.
bool parseOverride(std::string_view flag, std::string& key, Node& value);

/// Renders a tree as YAML (for `export config`).
std::string toYaml(const Node& node);

}  // namespace sipbeat::config
