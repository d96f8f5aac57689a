// SPDX-License-Identifier: Apache-2.0
#include "beat/config/node.h"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace sipbeat::config {

std::string keyErrorMessage(const std::string& what, std::string_view path, const Origin& origin) {
    return what + " accessing '" + std::string(path) + "' " + origin.describe();
}

std::string Origin::describe() const {
    std::string out = "(source:'" + source + "'";
    // A -E value is one line: its "line 1" would only confuse.
    if (line > 0 && source != "command line flag -E") {
        out += ", line " + std::to_string(line);
    }
    out += ")";
    return out;
}

Node Node::scalar(std::string text, Origin origin, bool quoted) {
    Node n;
    n.kind_ = Kind::Scalar;
    n.text_ = std::move(text);
    n.quoted_ = quoted;
    n.origin_ = std::move(origin);
    return n;
}

Node Node::map(Origin origin) {
    Node n;
    n.kind_ = Kind::Map;
    n.origin_ = std::move(origin);
    return n;
}

Node Node::sequence(Origin origin) {
    Node n;
    n.kind_ = Kind::Sequence;
    n.origin_ = std::move(origin);
    return n;
}

std::string_view Node::kindName() const {
    switch (kind_) {
        case Kind::Null:
            return "null";
        case Kind::Scalar:
            return "value";
        case Kind::Sequence:
            return "list";
        case Kind::Map:
            return "object";
    }
    return "value";
}

const Node* Node::child(std::string_view key) const {
    if (kind_ != Kind::Map) {
        return nullptr;
    }
    for (const auto& [k, v] : entries_) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

Node* Node::child(std::string_view key) {
    return const_cast<Node*>(static_cast<const Node*>(this)->child(key));
}

const Node* Node::find(std::string_view dotted_path) const {
    const Node* cur = this;
    while (cur != nullptr && !dotted_path.empty()) {
        const size_t dot = dotted_path.find('.');
        cur = cur->child(dotted_path.substr(0, dot));
        dotted_path =
            dot == std::string_view::npos ? std::string_view{} : dotted_path.substr(dot + 1);
    }
    return cur;
}

Node* Node::find(std::string_view dotted_path) {
    return const_cast<Node*>(static_cast<const Node*>(this)->find(dotted_path));
}

bool Node::erase(std::string_view key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first == key) {
            entries_.erase(it);
            return true;
        }
    }
    return false;
}

void Node::set(std::string_view dotted_path, Node value) {
    Node* cur = this;
    while (true) {
        if (cur->kind_ != Kind::Map) {
            // A scalar or list in the way: the later, more specific setting wins.
            Origin o = value.origin_;
            *cur = Node::map(std::move(o));
        }
        const size_t dot = dotted_path.find('.');
        const std::string_view key = dotted_path.substr(0, dot);
        Node* next = cur->child(key);
        if (next == nullptr) {
            cur->entries_.emplace_back(std::string(key), Node());
            next = &cur->entries_.back().second;
        }
        if (dot == std::string_view::npos) {
            if (next->isMap() && value.isMap()) {
                next->merge(value);
            } else {
                *next = std::move(value);
            }
            return;
        }
        cur = next;
        dotted_path = dotted_path.substr(dot + 1);
    }
}

void Node::merge(const Node& other) {
    if (kind_ == Kind::Map && other.kind_ == Kind::Map) {
        for (const auto& [k, v] : other.entries_) {
            Node* mine = child(k);
            if (mine == nullptr) {
                entries_.emplace_back(k, v);
            } else {
                mine->merge(v);
            }
        }
        return;
    }
    *this = other;
}

namespace {

// Bounds on what one YAML document may expand to: an alias may refer to its own anchor
// (`x: &a [*a]`) or anchors may nest into billions of nodes ("billion laughs").
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 1'000'000;

struct Budget {
    size_t nodes = 0;
};

Node fromYaml(const YAML::Node& y, const std::string& source, int depth, Budget& budget) {
    Origin origin{source, y.Mark().line >= 0 ? y.Mark().line + 1 : 0};
    if (depth > kMaxDepth) {
        throw ConfigError("configuration nested deeper than " + std::to_string(kMaxDepth) +
                          " levels (recursive YAML alias?) " + origin.describe());
    }
    if (++budget.nodes > kMaxNodes) {
        throw ConfigError("configuration expands to more than " + std::to_string(kMaxNodes) +
                          " values (YAML aliases?) " + origin.describe());
    }
    switch (y.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            return Node();
        case YAML::NodeType::Scalar:
            // yaml-cpp tags plain scalars "?" and quoted ones "!".
            return Node::scalar(y.Scalar(), origin, y.Tag() == "!");
        case YAML::NodeType::Sequence: {
            Node n = Node::sequence(origin);
            for (const auto& item : y) {
                n.items().push_back(fromYaml(item, source, depth + 1, budget));
            }
            return n;
        }
        case YAML::NodeType::Map: {
            Node n = Node::map(origin);
            for (const auto& kv : y) {
                if (!kv.first.IsScalar()) {
                    throw ConfigError("config keys must be plain names " + origin.describe());
                }
                // Dotted keys are paths: `output.file.path: x` is nested (go-ucfg
                // PathSep(".")), and two spellings of one key in a file merge.
                n.set(kv.first.Scalar(), fromYaml(kv.second, source, depth + 1, budget));
            }
            return n;
        }
    }
    return Node();
}

}  // namespace

Node parseYaml(std::string_view text, const std::string& source) {
    try {
        YAML::Node y = YAML::Load(std::string(text));
        Budget budget;
        Node n = fromYaml(y, source, 0, budget);
        if (n.isNull()) {
            return Node::map(Origin{source, 0});
        }
        return n;
    } catch (const YAML::Exception& e) {
        Origin o{source, e.mark.line >= 0 ? e.mark.line + 1 : 0};
        throw ConfigError("YAML syntax error: " + e.msg + " " + o.describe());
    }
}

Node loadYamlFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("error loading config file: open " + path +
                          ": no such file or directory");
    }
    std::stringstream buf;
    buf << in.rdbuf();
    Node n = parseYaml(buf.str(), path);
    if (!n.isMap()) {
        throw ConfigError("error loading config file: the top level must be a mapping " +
                          Origin{path, 0}.describe());
    }
    return n;
}

bool parseOverride(std::string_view flag, std::string& key, Node& value) {
    static const std::string kSource = "command line flag -E";
    const size_t eq = flag.find('=');
    key = std::string(flag.substr(0, eq));
    if (key.empty()) {
        throw ConfigError("invalid -E flag '" + std::string(flag) + "': missing key");
    }
    if (eq == std::string_view::npos) {
        value = Node::scalar("true", Origin{kSource, 0});
        return true;
    }
    const std::string_view text = flag.substr(eq + 1);
    if (text.empty()) {
        return false;
    }
    value = parseYaml(text, kSource);
    if (value.isNull()) {
        value = Node::scalar("", Origin{kSource, 0});
    }
    return true;
}

namespace {

void emit(YAML::Emitter& out, const Node& n) {
    switch (n.kind()) {
        case Node::Kind::Null:
            out << YAML::Null;
            break;
        case Node::Kind::Scalar:
            if (n.quoted()) {
                out << YAML::DoubleQuoted << n.text();
            } else {
                out << n.text();
            }
            break;
        case Node::Kind::Sequence:
            out << YAML::BeginSeq;
            for (const auto& item : n.items()) {
                emit(out, item);
            }
            out << YAML::EndSeq;
            break;
        case Node::Kind::Map:
            out << YAML::BeginMap;
            for (const auto& [k, v] : n.entries()) {
                out << YAML::Key << k << YAML::Value;
                emit(out, v);
            }
            out << YAML::EndMap;
            break;
    }
}

}  // namespace

std::string toYaml(const Node& node) {
    YAML::Emitter out;
    emit(out, node);
    std::string s = out.c_str();
    s.push_back('\n');
    return s;
}

}  // namespace sipbeat::config
