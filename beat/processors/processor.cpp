// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/processor.h"

#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "beat/config/schema.h"
#include "beat/processors/condition.h"
#include "beat/processors/field_source.h"

namespace sipbeat::processors {

bool ProcessorList::run(event::Document& doc) const {
    for (const ProcessorPtr& p : list_) {
        if (!p->run(doc)) {
            return false;
        }
    }
    return true;
}

namespace {

using config::ConfigError;
using config::Node;
using config::Origin;
using event::Document;
using event::Field;
using event::ValueKind;

// ---------------------------------------------------------------------------------------
// Document helpers: a Document is flat, so "the field `sip`" is every key `sip` or `sip.*`.

bool coveredBy(std::string_view key, std::string_view prefix) {
    return key.size() >= prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
           (key.size() == prefix.size() || key[prefix.size()] == '.');
}

bool hasPath(const Document& doc, std::string_view path) {
    for (const Field& f : doc.fields()) {
        if (coveredBy(f.key, path)) {
            return true;
        }
    }
    return false;
}

/// Removes `path` and everything below it; returns how many fields went.
size_t removeTree(Document& doc, std::string_view path) {
    size_t removed = 0;
    // Backwards: remove() shifts the fields after the removed one.
    for (size_t i = doc.fields().size(); i-- > 0;) {
        const std::string_view key = doc.fields()[i].key;
        if (coveredBy(key, path)) {
            doc.remove(key);
            ++removed;
        }
    }
    return removed;
}

/// Before setting a leaf at `key`: a leaf at a parent path (`a` for `a.b`) or fields below
/// `key` would make the event impossible to write as JSON. The new value replaces them, as
/// libbeat's DeepUpdate does.
void clearConflicts(Document& doc, std::string_view key) {
    for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
        doc.remove(key.substr(0, dot));
    }
    for (size_t i = doc.fields().size(); i-- > 0;) {
        const std::string_view k = doc.fields()[i].key;
        if (k.size() > key.size() && coveredBy(k, key)) {
            doc.remove(k);
        }
    }
}

/// A value from the configuration, typed as libbeat types YAML (see publisher.cpp
/// `flatten`): plain integers and floats are numbers, `true`/`false` booleans, quoted or
/// other text strings; a list of plain integers is a list of ints, other lists strings.
struct Value {
    ValueKind kind = ValueKind::String;
    bool b = false;
    int64_t i = 0;
    double d = 0;
    std::string s;
    std::vector<std::string> list;
    std::vector<int64_t> ints;
};

bool plainInt(const Node& n, int64_t& out) {
    const std::string& t = n.text();
    return !n.quoted() && !t.empty() && config::parseInt(t, out) &&
           (t.size() == 1 || t[0] != '0') && t.find_first_of("xX") == std::string::npos;
}

Value typedScalar(const Node& n) {
    Value v;
    const std::string& t = n.text();
    if (plainInt(n, v.i)) {
        v.kind = ValueKind::Int;
    } else if (!n.quoted() && t.find_first_of(".eE") != std::string::npos &&
               config::parseFloat(t, v.d)) {
        v.kind = ValueKind::Double;
    } else if (!n.quoted() && (t == "true" || t == "false")) {
        v.kind = ValueKind::Bool;
        v.b = t == "true";
    } else {
        v.kind = ValueKind::String;
        v.s = t;
    }
    return v;
}

/// Writes `v` at `key` (copies into the document's arena; no allocation once warm).
void put(Document& doc, std::string_view key, const Value& v) {
    clearConflicts(doc, key);
    switch (v.kind) {
        case ValueKind::Bool:
            doc.setBool(key, v.b);
            break;
        case ValueKind::Int:
            doc.setInt(key, v.i);
            break;
        case ValueKind::Uint:
            doc.setUint(key, static_cast<uint64_t>(v.i));
            break;
        case ValueKind::Double:
            doc.setDouble(key, v.d);
            break;
        case ValueKind::String:
            doc.setString(key, v.s);
            break;
        case ValueKind::StringList:
            doc.remove(key);
            if (v.list.empty()) {
                doc.setStringList(key, {});
            }
            for (const std::string& s : v.list) {
                doc.appendToList(key, s);
            }
            break;
        case ValueKind::IntList:
            doc.remove(key);
            for (const int64_t x : v.ints) {
                doc.appendToIntList(key, x);
            }
            break;
    }
}

// Per-thread scratch so that per-event work does not allocate once warm.
thread_local std::vector<size_t> t_indices;
thread_local std::vector<std::string_view> t_views;
thread_local std::vector<int64_t> t_ints;
thread_local std::string t_key;
struct Undo {
    std::string_view from;  ///< key before (arena or static: stays valid)
    std::string_view to;    ///< key after; empty when the field was created
};
thread_local std::vector<Undo> t_undo;

/// Copies the field at index `idx` to `to` (which does not exist). List values are
/// copied through scratch first: setting may grow the field vector and move the source.
void copyField(Document& doc, size_t idx, std::string_view to) {
    const Field& f = doc.fields()[idx];
    switch (f.kind) {
        case ValueKind::Bool:
            doc.setBool(to, f.b);
            break;
        case ValueKind::Int:
            doc.setInt(to, f.i);
            break;
        case ValueKind::Uint:
            doc.setUint(to, f.u);
            break;
        case ValueKind::Double:
            doc.setDouble(to, f.d);
            break;
        case ValueKind::String: {
            const std::string_view s = f.s;  // arena bytes never move
            doc.setString(to, s);
            break;
        }
        case ValueKind::StringList:
            t_views.assign(f.list.begin(), f.list.end());
            doc.setStringList(to, {});
            for (const std::string_view s : t_views) {
                doc.appendToList(to, s);
            }
            break;
        case ValueKind::IntList:
            t_ints.assign(f.ints.begin(), f.ints.end());
            doc.remove(to);
            for (const int64_t x : t_ints) {
                doc.appendToIntList(to, x);
            }
            break;
    }
}

// ---------------------------------------------------------------------------------------
// Configuration helpers

[[noreturn]] void fail(const std::string& what, const std::string& path, const Origin& origin) {
    throw ConfigError(what + " accessing '" + path + "' " + origin.describe());
}

const Origin& originOf(const Node& node, const Origin& fallback) {
    return node.origin().source.empty() ? fallback : node.origin();
}

/// Compact one-line rendering of a config node, for describe().
void render(const Node& n, std::string& out) {
    if (n.isMap()) {
        out += '{';
        bool first = true;
        for (const auto& [k, v] : n.entries()) {
            if (!first) {
                out += ", ";
            }
            first = false;
            out += k;
            out += ": ";
            render(v, out);
        }
        out += '}';
    } else if (n.isSequence()) {
        out += '[';
        for (size_t i = 0; i < n.items().size(); ++i) {
            if (i > 0) {
                out += ", ";
            }
            render(n.items()[i], out);
        }
        out += ']';
    } else if (n.isScalar()) {
        out += n.text();
    } else {
        out += "null";
    }
}

/// A processor's parameters (`drop_fields: {fields: [a], when: …}`), read with the key
/// and file named in every error. A null node (`add_host_metadata: ~`) has no parameters.
class Params {
public:
    Params(const Node& node, std::string path, const Origin& fallback)
        : node_(node), path_(std::move(path)), origin_(originOf(node, fallback)) {
        if (!node.isNull() && !node.isMap()) {
            fail("required 'object', but found '" + std::string(node.kindName()) + "'", path_,
                 origin_);
        }
    }

    /// Unknown keys are errors (a typo must not silently do nothing); `when` is always
    /// allowed.
    void allow(std::initializer_list<std::string_view> keys) const {
        if (!node_.isMap()) {
            return;
        }
        for (const auto& [k, v] : node_.entries()) {
            bool known = k == "when";
            for (std::string_view allowed : keys) {
                known = known || k == allowed;
            }
            if (!known) {
                fail("unknown config key", sub(k), originOf(v, origin_));
            }
        }
    }

    const Node* get(std::string_view key) const {
        if (!node_.isMap()) {
            return nullptr;
        }
        const Node* n = node_.child(key);
        return n == nullptr || n->isNull() ? nullptr : n;
    }

    /// Nested keys (`netinfo.enabled`).
    const Node* find(std::string_view dotted) const {
        if (!node_.isMap()) {
            return nullptr;
        }
        const Node* n = node_.find(dotted);
        return n == nullptr || n->isNull() ? nullptr : n;
    }

    bool getBool(std::string_view key, bool def) const {
        const Node* n = find(key);
        if (n == nullptr) {
            return def;
        }
        bool b = def;
        if (!n->isScalar() || !config::parseBool(n->text(), b)) {
            fail("required 'bool', but found '" +
                     (n->isScalar() ? n->text() : std::string(n->kindName())) + "'",
                 sub(key), originOf(*n, origin_));
        }
        return b;
    }

    std::string getString(std::string_view key, const std::string& def) const {
        const Node* n = find(key);
        if (n == nullptr) {
            // `target: ~` is not the same as absent for add_fields; callers ask has().
            return def;
        }
        if (!n->isScalar()) {
            fail("required 'string', but found '" + std::string(n->kindName()) + "'", sub(key),
                 originOf(*n, origin_));
        }
        return n->text();
    }

    /// A list of strings, or a single string as a one-element list.
    std::vector<std::string> getStringList(std::string_view key, bool required) const {
        const Node* n = get(key);
        std::vector<std::string> out;
        if (n == nullptr) {
            if (required) {
                fail("missing required field", sub(key), origin_);
            }
            return out;
        }
        if (n->isScalar()) {
            out.push_back(n->text());
        } else if (n->isSequence()) {
            for (size_t i = 0; i < n->items().size(); ++i) {
                const Node& item = n->items()[i];
                if (!item.isScalar()) {
                    fail("required 'string', but found '" + std::string(item.kindName()) + "'",
                         sub(key) + "." + std::to_string(i), originOf(item, originOf(*n, origin_)));
                }
                out.push_back(item.text());
            }
        } else {
            fail("required 'array of strings', but found '" + std::string(n->kindName()) + "'",
                 sub(key), originOf(*n, origin_));
        }
        if (required && out.empty()) {
            fail("empty field", sub(key), originOf(*n, origin_));
        }
        return out;
    }

    /// `{from, to}` pairs of rename and copy_fields.
    std::vector<std::pair<std::string, std::string>> getFromTo(std::string_view key) const {
        const Node* n = get(key);
        if (n == nullptr) {
            fail("missing required field", sub(key), origin_);
        }
        const Origin& o = originOf(*n, origin_);
        if (!n->isSequence() || n->items().empty()) {
            fail("required a non-empty list of {from, to}", sub(key), o);
        }
        std::vector<std::pair<std::string, std::string>> out;
        for (size_t i = 0; i < n->items().size(); ++i) {
            const Node& item = n->items()[i];
            const std::string item_path = sub(key) + "." + std::to_string(i);
            const Origin& io = originOf(item, o);
            if (!item.isMap()) {
                fail("required 'object' with from and to, but found '" +
                         std::string(item.kindName()) + "'",
                     item_path, io);
            }
            for (const auto& [k, v] : item.entries()) {
                if (k != "from" && k != "to") {
                    fail("unknown config key", item_path + "." + k, originOf(v, io));
                }
            }
            const Node* from = item.child("from");
            const Node* to = item.child("to");
            if (from == nullptr || !from->isScalar() || from->text().empty()) {
                fail("missing required field", item_path + ".from", io);
            }
            if (to == nullptr || !to->isScalar() || to->text().empty()) {
                fail("missing required field", item_path + ".to", io);
            }
            out.emplace_back(from->text(), to->text());
        }
        return out;
    }

    std::string sub(std::string_view key) const { return path_ + "." + std::string(key); }
    const std::string& path() const { return path_; }
    const Origin& origin() const { return origin_; }
    const Node& node() const { return node_; }

private:
    const Node& node_;
    std::string path_;
    Origin origin_;
};

/// Flattens a map of values into `prefix.key` entries; `index_lists` flattens lists too
/// (`a: [1, {b: 2}]` → `a.0`, `a.1.b`, as add_labels does), otherwise a list is one value.
void flattenValues(const Node& n, const std::string& prefix, bool index_lists,
                   std::vector<std::pair<std::string, Value>>& out) {
    if (n.isMap()) {
        for (const auto& [k, v] : n.entries()) {
            flattenValues(v, prefix.empty() ? k : prefix + "." + k, index_lists, out);
        }
        return;
    }
    if (n.isSequence()) {
        bool scalars = true;
        for (const Node& item : n.items()) {
            scalars = scalars && item.isScalar();
        }
        if (index_lists || !scalars) {
            for (size_t i = 0; i < n.items().size(); ++i) {
                flattenValues(n.items()[i], prefix + "." + std::to_string(i), index_lists, out);
            }
            return;
        }
        Value v;
        bool ints = !n.items().empty();
        for (const Node& item : n.items()) {
            int64_t x = 0;
            ints = ints && plainInt(item, x);
        }
        if (ints) {
            v.kind = ValueKind::IntList;
            for (const Node& item : n.items()) {
                int64_t x = 0;
                plainInt(item, x);
                v.ints.push_back(x);
            }
        } else {
            v.kind = ValueKind::StringList;
            for (const Node& item : n.items()) {
                v.list.push_back(item.text());
            }
        }
        out.emplace_back(prefix, std::move(v));
        return;
    }
    if (n.isScalar()) {
        out.emplace_back(prefix, typedScalar(n));
    }
    // null: libbeat would write a JSON null; a Document has no null, so nothing is set.
}

// ---------------------------------------------------------------------------------------
// Processors

/// Common part: the optional `when` condition and the description.
class Base : public Processor {
public:
    bool run(Document& doc) const final {
        if (when_) {
            const DocumentFieldSource src(doc);
            if (!when_->check(src)) {
                return true;
            }
        }
        return apply(doc);
    }
    std::string describe() const override { return description_; }

    void setup(ConditionPtr when, std::string description) {
        when_ = std::move(when);
        description_ = std::move(description);
    }

protected:
    virtual bool apply(Document& doc) const = 0;

private:
    ConditionPtr when_;
    std::string description_;
};

/// add_fields, add_labels and the static part of add_host_metadata: set fixed values.
class SetFields final : public Base {
public:
    explicit SetFields(std::vector<std::pair<std::string, Value>> fields)
        : fields_(std::move(fields)) {}

protected:
    bool apply(Document& doc) const override {
        for (const auto& [key, value] : fields_) {
            put(doc, key, value);
        }
        return true;
    }

private:
    std::vector<std::pair<std::string, Value>> fields_;
};

class AddTags final : public Base {
public:
    AddTags(std::vector<std::string> tags, std::string target)
        : tags_(std::move(tags)), target_(std::move(target)) {}

protected:
    bool apply(Document& doc) const override {
        const Field* existing = doc.get(target_);
        // libbeat refuses to add tags to something that is not a list of strings.
        if ((existing != nullptr && existing->kind != ValueKind::StringList) ||
            (existing == nullptr && hasPath(doc, target_))) {
            return true;
        }
        clearConflicts(doc, target_);
        for (const std::string& t : tags_) {
            doc.appendToList(target_, t);
        }
        return true;
    }

private:
    std::vector<std::string> tags_;
    std::string target_;
};

class DropEvent final : public Base {
protected:
    bool apply(Document&) const override { return false; }
};

class DropFields final : public Base {
public:
    explicit DropFields(std::vector<std::string> fields) : fields_(std::move(fields)) {}

protected:
    bool apply(Document& doc) const override {
        // A missing field is no error worth stopping for; libbeat only logs it
        // (`ignore_missing` silences that log).
        for (const std::string& f : fields_) {
            removeTree(doc, f);
        }
        return true;
    }

private:
    std::vector<std::string> fields_;
};

class IncludeFields final : public Base {
public:
    explicit IncludeFields(std::vector<std::string> fields) : fields_(std::move(fields)) {}

protected:
    bool apply(Document& doc) const override {
        for (size_t i = doc.fields().size(); i-- > 0;) {
            const std::string_view key = doc.fields()[i].key;
            bool keep = false;
            for (const std::string& f : fields_) {
                if (coveredBy(key, f)) {
                    keep = true;
                    break;
                }
            }
            if (!keep) {
                doc.remove(key);
            }
        }
        return true;
    }

private:
    std::vector<std::string> fields_;  ///< includes `type` (and `@timestamp`, not a field)
};

/// rename and copy_fields: libbeat's semantics, including the undo on failure.
class MoveFields final : public Base {
public:
    MoveFields(bool copy, std::vector<std::pair<std::string, std::string>> pairs,
               bool ignore_missing, bool fail_on_error)
        : copy_(copy),
          pairs_(std::move(pairs)),
          ignore_missing_(ignore_missing),
          fail_on_error_(fail_on_error) {}

protected:
    bool apply(Document& doc) const override {
        t_undo.clear();
        for (const auto& [from, to] : pairs_) {
            const Outcome outcome = one(doc, from, to);
            if (outcome == Outcome::Ok || !fail_on_error_) {
                continue;  // without fail_on_error libbeat only logs and goes on
            }
            // libbeat restores the event as it was and says why in error.message.
            undo(doc);
            const char* verb = copy_ ? "copy" : "rename";
            char msg[640];
            switch (outcome) {
                case Outcome::Exists:
                    std::snprintf(msg, sizeof(msg),
                                  "Failed to %s fields in processor: target field %s already "
                                  "exists, drop or rename this field first",
                                  verb, to.c_str());
                    break;
                case Outcome::Missing:
                    std::snprintf(msg, sizeof(msg),
                                  "Failed to %s fields in processor: could not fetch value for "
                                  "key: %s, Error: key not found",
                                  verb, from.c_str());
                    break;
                default:
                    std::snprintf(msg, sizeof(msg),
                                  "Failed to %s fields in processor: could not put value: %s: "
                                  "a parent of it is not an object",
                                  verb, to.c_str());
                    break;
            }
            clearConflicts(doc, "error.message");
            doc.setString("error.message", msg);
            return true;
        }
        return true;
    }

private:
    enum class Outcome : uint8_t { Ok, Exists, Missing, Blocked };

    Outcome one(Document& doc, const std::string& from, const std::string& to) const {
        // Fields are not overwritten: the target must be dropped or renamed first.
        if (hasPath(doc, to)) {
            return Outcome::Exists;
        }
        t_indices.clear();
        const auto fields = doc.fields();
        for (size_t i = 0; i < fields.size(); ++i) {
            if (coveredBy(fields[i].key, from)) {
                t_indices.push_back(i);
            }
        }
        if (t_indices.empty()) {
            return ignore_missing_ ? Outcome::Ok : Outcome::Missing;
        }
        // A leaf where `to` needs an object (`to: a.b` with a string `a`) that stays.
        for (size_t dot = to.find('.'); dot != std::string::npos; dot = to.find('.', dot + 1)) {
            const std::string_view parent(to.data(), dot);
            if (doc.get(parent) != nullptr && (copy_ || !coveredBy(parent, from))) {
                return Outcome::Blocked;
            }
        }
        for (const size_t idx : t_indices) {
            // Indices stay valid: nothing is removed, and renames keep positions.
            const std::string_view key = doc.fields()[idx].key;
            t_key.assign(to);
            t_key.append(key.substr(from.size()));
            if (copy_) {
                copyField(doc, idx, t_key);
                if (const Field* created = doc.get(t_key)) {
                    t_undo.push_back(Undo{created->key, {}});
                }
            } else {
                doc.rename(key, t_key);
                t_undo.push_back(Undo{key, doc.fields()[idx].key});
            }
        }
        return Outcome::Ok;
    }

    void undo(Document& doc) const {
        for (size_t i = t_undo.size(); i-- > 0;) {
            const Undo& u = t_undo[i];
            if (u.to.empty()) {
                doc.remove(u.from);  // a copy: remove what was created
            } else {
                doc.rename(u.to, u.from);
            }
        }
        t_undo.clear();
    }

    bool copy_;
    std::vector<std::pair<std::string, std::string>> pairs_;
    bool ignore_missing_;
    bool fail_on_error_;
};

class AddHostMetadata final : public Base {
public:
    AddHostMetadata(std::vector<std::pair<std::string, Value>> fields, bool replace)
        : fields_(std::move(fields)), replace_(replace) {}

protected:
    bool apply(Document& doc) const override {
        if (!replace_) {
            // libbeat: with replace_fields false, host fields already there (beyond the
            // host.name every event has) are kept and nothing is added.
            for (const Field& f : doc.fields()) {
                if (coveredBy(f.key, "host") && f.key != "host.name") {
                    return true;
                }
            }
        }
        for (const auto& [key, value] : fields_) {
            put(doc, key, value);
        }
        return true;
    }

private:
    std::vector<std::pair<std::string, Value>> fields_;
    bool replace_;
};

class IfThenElse final : public Processor {
public:
    IfThenElse(ConditionPtr cond, ProcessorList then, ProcessorList otherwise,
               std::string description)
        : cond_(std::move(cond)),
          then_(std::move(then)),
          else_(std::move(otherwise)),
          description_(std::move(description)) {}

    bool run(Document& doc) const override {
        const DocumentFieldSource src(doc);
        return cond_->check(src) ? then_.run(doc) : else_.run(doc);
    }
    std::string describe() const override { return description_; }

private:
    ConditionPtr cond_;
    ProcessorList then_;
    ProcessorList else_;
    std::string description_;
};

// ---------------------------------------------------------------------------------------
// Compilation

ProcessorList compileList(const Node& list, const std::string& path, const Origin& fallback,
                          const HostInfo& host);

ProcessorList compileBranch(const Node& n, const std::string& path, const Origin& fallback,
                            const HostInfo& host) {
    // `then: [...]`, or a single processor as `then: {drop_event: {}}`.
    if (n.isMap()) {
        Node seq = Node::sequence(n.origin());
        seq.items().push_back(n);
        return compileList(seq, path, fallback, host);
    }
    return compileList(n, path, fallback, host);
}

ConditionPtr compileWhen(const Params& p) {
    const Node* when = p.node().isMap() ? p.node().child("when") : nullptr;
    if (when == nullptr) {
        return nullptr;
    }
    core::Result<ConditionPtr> c = compileCondition(*when, p.sub("when"));
    if (!c) {
        throw ConfigError(c.status().message());
    }
    return std::move(*c);
}

std::string describe(std::string_view name, const Node& params) {
    std::string out(name);
    out += '=';
    render(params, out);
    return out;
}

std::vector<std::pair<std::string, Value>> hostFields(const HostInfo& h, const Params& p) {
    std::vector<std::pair<std::string, Value>> out;
    auto str = [&out](const char* key, const std::string& v) {
        if (!v.empty()) {
            Value x;
            x.s = v;
            out.emplace_back(key, std::move(x));
        }
    };
    str("host.hostname", h.hostname);
    str("host.architecture", h.architecture);
    str("host.os.type", h.os_type);
    str("host.os.platform", h.os_platform);
    str("host.os.name", h.os_name);
    str("host.os.family", h.os_family);
    str("host.os.version", h.os_version);
    str("host.os.kernel", h.os_kernel);
    str("host.os.codename", h.os_codename);
    str("host.id", h.id);
    // libbeat sets host.name to the hostname unless the processor is given a `name`.
    str("host.name", p.getString("name", h.hostname));
    if (p.getBool("netinfo.enabled", true)) {
        if (!h.ips.empty()) {
            Value ips;
            ips.kind = ValueKind::StringList;
            ips.list = h.ips;
            out.emplace_back("host.ip", std::move(ips));
        }
        if (!h.macs.empty()) {
            Value macs;
            macs.kind = ValueKind::StringList;
            macs.list = h.macs;
            out.emplace_back("host.mac", std::move(macs));
        }
    }
    // `geo.*`: where the host stands, as configured.
    if (const Node* geo = p.get("geo")) {
        if (!geo->isMap()) {
            fail("required 'object', but found '" + std::string(geo->kindName()) + "'",
                 p.sub("geo"), originOf(*geo, p.origin()));
        }
        for (const auto& [k, v] : geo->entries()) {
            const std::string key_path = p.sub("geo") + "." + k;
            if (!v.isScalar()) {
                fail("required 'string'", key_path, originOf(v, p.origin()));
            }
            if (k == "location") {
                // "lat, lon"
                double lat = 0;
                double lon = 0;
                const size_t comma = v.text().find(',');
                std::string a = v.text().substr(0, comma);
                std::string b = comma == std::string::npos ? "" : v.text().substr(comma + 1);
                while (!b.empty() && b.front() == ' ') {
                    b.erase(0, 1);
                }
                if (comma == std::string::npos || !config::parseFloat(a, lat) ||
                    !config::parseFloat(b, lon) || lat < -90 || lat > 90 || lon < -180 ||
                    lon > 180) {
                    fail("geo.location must be 'lat, lon'", key_path, originOf(v, p.origin()));
                }
                Value la;
                la.kind = ValueKind::Double;
                la.d = lat;
                Value lo;
                lo.kind = ValueKind::Double;
                lo.d = lon;
                out.emplace_back("host.geo.location.lat", la);
                out.emplace_back("host.geo.location.lon", lo);
            } else if (k == "name" || k == "continent_name" || k == "country_iso_code" ||
                       k == "region_name" || k == "region_iso_code" || k == "city_name") {
                Value x;
                x.s = v.text();
                out.emplace_back("host.geo." + k, std::move(x));
            } else {
                fail("unknown config key", key_path, originOf(v, p.origin()));
            }
        }
    }
    return out;
}

ProcessorPtr compileOne(const std::string& name, const Node& params_node, const std::string& path,
                        const Origin& fallback, const HostInfo& host) {
    const Params p(params_node, path + "." + name, fallback);
    ConditionPtr when = compileWhen(p);
    std::unique_ptr<Base> proc;
    if (name == "add_fields") {
        p.allow({"fields", "target"});
        const Node* fields = p.get("fields");
        if (fields == nullptr) {
            fail("missing required field", p.sub("fields"), p.origin());
        }
        if (!fields->isMap()) {
            fail("required 'object', but found '" + std::string(fields->kindName()) + "'",
                 p.sub("fields"), originOf(*fields, p.origin()));
        }
        // `target: ""` (or `target: ~`) puts the fields at the root.
        const Node* target = p.node().isMap() ? p.node().child("target") : nullptr;
        std::string prefix = "fields";
        if (target != nullptr) {
            prefix = target->isScalar() ? target->text() : "";
        }
        std::vector<std::pair<std::string, Value>> values;
        flattenValues(*fields, prefix, false, values);
        proc = std::make_unique<SetFields>(std::move(values));
    } else if (name == "add_labels") {
        p.allow({"labels"});
        const Node* labels = p.get("labels");
        if (labels == nullptr) {
            fail("missing required field", p.sub("labels"), p.origin());
        }
        if (!labels->isMap()) {
            fail("required 'object', but found '" + std::string(labels->kindName()) + "'",
                 p.sub("labels"), originOf(*labels, p.origin()));
        }
        std::vector<std::pair<std::string, Value>> values;
        flattenValues(*labels, "labels", true, values);
        proc = std::make_unique<SetFields>(std::move(values));
    } else if (name == "add_tags") {
        p.allow({"tags", "target"});
        std::string target = p.getString("target", "tags");
        if (target.empty()) {
            target = "tags";
        }
        proc = std::make_unique<AddTags>(p.getStringList("tags", true), std::move(target));
    } else if (name == "drop_event") {
        p.allow({});
        proc = std::make_unique<DropEvent>();
    } else if (name == "drop_fields" || name == "include_fields") {
        if (name == "drop_fields") {
            p.allow({"fields", "ignore_missing"});
            (void)p.getBool("ignore_missing", false);
        } else {
            p.allow({"fields"});
        }
        std::vector<std::string> fields;
        for (std::string& f : p.getStringList("fields", true)) {
            if (f.size() > 1 && f.front() == '/' && f.back() == '/') {
                fail("regular expressions in " + name + " are not supported: '" + f + "'",
                     p.sub("fields"), p.origin());
            }
            // @timestamp and type are never dropped (libbeat's mandatory fields);
            // include_fields always keeps them.
            if (f == "@timestamp" || f == "type") {
                continue;
            }
            fields.push_back(std::move(f));
        }
        if (name == "drop_fields") {
            proc = std::make_unique<DropFields>(std::move(fields));
        } else {
            fields.emplace_back("type");
            proc = std::make_unique<IncludeFields>(std::move(fields));
        }
    } else if (name == "rename" || name == "copy_fields") {
        p.allow({"fields", "ignore_missing", "fail_on_error"});
        proc = std::make_unique<MoveFields>(name == "copy_fields", p.getFromTo("fields"),
                                            p.getBool("ignore_missing", false),
                                            p.getBool("fail_on_error", true));
    } else if (name == "add_host_metadata") {
        p.allow({"netinfo", "replace_fields", "cache", "geo", "name"});
        if (const Node* cache = p.get("cache")) {
            if (!cache->isMap()) {
                fail("required 'object'", p.sub("cache"), originOf(*cache, p.origin()));
            }
            for (const auto& [k, v] : cache->entries()) {
                if (k != "ttl") {
                    fail("unknown config key", p.sub("cache") + "." + k, originOf(v, p.origin()));
                }
            }
        }
        if (const Node* netinfo = p.get("netinfo"); netinfo != nullptr && netinfo->isMap()) {
            for (const auto& [k, v] : netinfo->entries()) {
                if (k != "enabled") {
                    fail("unknown config key", p.sub("netinfo") + "." + k, originOf(v, p.origin()));
                }
            }
        }
        proc = std::make_unique<AddHostMetadata>(hostFields(host, p),
                                                 p.getBool("replace_fields", true));
    } else if (name == "add_locale") {
        p.allow({"format"});
        const std::string format = p.getString("format", "offset");
        Value v;
        if (format == "offset") {
            // Go's "%+03d:%02d": +01:00, -05:30, +00:00.
            const long off = host.utc_offset_seconds;
            const long abs_min = (off < 0 ? -off : off) / 60;
            char buf[32];
            std::snprintf(buf, sizeof(buf), "%c%02ld:%02ld", off < 0 ? '-' : '+', abs_min / 60,
                          abs_min % 60);
            v.s = buf;
        } else if (format == "abbreviation") {
            v.s = host.timezone_abbreviation;
        } else {
            fail("invalid timezone format '" + format + "' (offset or abbreviation)",
                 p.sub("format"), p.origin());
        }
        std::vector<std::pair<std::string, Value>> values;
        values.emplace_back("event.timezone", std::move(v));
        proc = std::make_unique<SetFields>(std::move(values));
    } else {
        fail("the processor action '" + name +
                 "' does not exist (add_fields, add_tags, add_labels, drop_event, drop_fields, "
                 "include_fields, rename, copy_fields, add_host_metadata, add_locale, if)",
             path + "." + name, originOf(params_node, fallback));
    }
    proc->setup(std::move(when), describe(name, params_node));
    return proc;
}

ProcessorPtr compileItem(const Node& item, const std::string& path, const Origin& fallback,
                         const HostInfo& host) {
    const Origin& origin = originOf(item, fallback);
    if (!item.isMap() || item.entries().empty()) {
        fail("each processor must be a map of one action to its settings, found '" +
                 std::string(item.kindName()) + "'",
             path, origin);
    }
    if (item.child("if") != nullptr) {
        for (const auto& [k, v] : item.entries()) {
            if (k != "if" && k != "then" && k != "else") {
                fail("unknown config key in if/then/else", path + "." + k, originOf(v, origin));
            }
        }
        const Node* then = item.child("then");
        if (then == nullptr || then->isNull()) {
            fail("missing required field", path + ".then", origin);
        }
        core::Result<ConditionPtr> cond = compileCondition(*item.child("if"), path + ".if");
        if (!cond) {
            throw ConfigError(cond.status().message());
        }
        ProcessorList then_list = compileBranch(*then, path + ".then", origin, host);
        ProcessorList else_list;
        if (const Node* otherwise = item.child("else");
            otherwise != nullptr && !otherwise->isNull()) {
            else_list = compileBranch(*otherwise, path + ".else", origin, host);
        }
        std::string description = "if=";
        render(item, description);
        return std::make_unique<IfThenElse>(std::move(*cond), std::move(then_list),
                                            std::move(else_list), std::move(description));
    }
    if (item.entries().size() != 1) {
        std::string names;
        for (const auto& [k, v] : item.entries()) {
            names += names.empty() ? k : ", " + k;
        }
        fail("each processor must have exactly one action, but found " +
                 std::to_string(item.entries().size()) + " actions (" + names + ")",
             path, origin);
    }
    const auto& [name, params] = item.entries().front();
    return compileOne(name, params, path, origin, host);
}

ProcessorList compileList(const Node& list, const std::string& path, const Origin& fallback,
                          const HostInfo& host) {
    ProcessorList out;
    if (list.isNull()) {
        return out;
    }
    const Origin& origin = originOf(list, fallback);
    if (!list.isSequence()) {
        fail("required 'array', but found '" + std::string(list.kindName()) + "'", path, origin);
    }
    for (size_t i = 0; i < list.items().size(); ++i) {
        out.add(compileItem(list.items()[i], path + "." + std::to_string(i), origin, host));
    }
    return out;
}

}  // namespace

core::Result<ProcessorList> compileProcessors(const config::Node& list, const std::string& path,
                                              const HostInfo& host) {
    try {
        return compileList(list, path, list.origin(), host);
    } catch (const ConfigError& e) {
        return core::Status::error(e.what());
    }
}

}  // namespace sipbeat::processors
