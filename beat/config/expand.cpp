// SPDX-License-Identifier: Apache-2.0
#include "beat/config/expand.h"

#include <cstdlib>

namespace sipbeat::config {

namespace {

constexpr int kMaxDepth = 16;
// References may multiply (`a: ${b}${b}`, `b: ${c}${c}` …); no real value is this long.
constexpr size_t kMaxExpandedSize = 1 << 20;

struct Expander {
    const Node& root;
    const std::vector<Resolver>& resolvers;
    const std::string& key;
    const Origin& origin;

    [[noreturn]] void fail(const std::string& what) const {
        throw ConfigError(keyErrorMessage(what, key, origin));
    }

    std::optional<std::string> lookup(std::string_view name, int depth) const {
        if (const Node* n = root.find(name); n != nullptr && n->isScalar()) {
            return expand(n->text(), depth + 1);
        }
        for (const auto& resolve : resolvers) {
            if (auto v = resolve(name)) {
                return v;
            }
        }
        const std::string env_name(name);
        if (const char* env = std::getenv(env_name.c_str()); env != nullptr) {
            return std::string(env);
        }
        return std::nullopt;
    }

    // Finds the `}` that closes the `${` whose content starts at `start`.
    size_t closingBrace(std::string_view s, size_t start) const {
        int nesting = 0;
        for (size_t i = start; i < s.size(); ++i) {
            if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
                ++nesting;
                ++i;
            } else if (s[i] == '}') {
                if (nesting == 0) {
                    return i;
                }
                --nesting;
            }
        }
        return std::string_view::npos;
    }

    std::string expand(std::string_view s, int depth) const {
        if (depth > kMaxDepth) {
            fail("cyclic reference detected (or references nested more than " +
                 std::to_string(kMaxDepth) + " deep) while expanding '" + std::string(s) + "'");
        }
        std::string out;
        out.reserve(s.size());
        for (size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '$' && i + 2 < s.size() && s[i + 1] == '$' && s[i + 2] == '{') {
                out.append("${");
                i += 2;
                continue;
            }
            if (c == '$' && i + 1 < s.size() && s[i + 1] == '}') {
                out.push_back('}');
                ++i;
                continue;
            }
            if (c != '$' || i + 1 >= s.size() || s[i + 1] != '{') {
                out.push_back(c);
                continue;
            }
            const size_t end = closingBrace(s, i + 2);
            if (end == std::string_view::npos) {
                fail("unterminated variable reference in '" + std::string(s) + "'");
            }
            out.append(resolve(s.substr(i + 2, end - i - 2), depth));
            if (out.size() > kMaxExpandedSize) {
                fail("value expands to more than 1 MiB");
            }
            i = end;
        }
        return out;
    }

    std::string resolve(std::string_view body, int depth) const {
        const size_t colon = body.find(':');
        const std::string_view name = body.substr(0, colon);
        if (name.empty()) {
            fail("empty variable name in '${" + std::string(body) + "}'");
        }
        std::optional<std::string> value = lookup(name, depth);
        const bool set = value.has_value() && !value->empty();
        if (colon == std::string_view::npos) {
            return value.value_or("");
        }
        const std::string_view rest = body.substr(colon + 1);
        if (!rest.empty() && rest[0] == '?') {
            if (!set) {
                std::string msg = expand(rest.substr(1), depth + 1);
                if (msg.empty()) {
                    msg = "variable '" + std::string(name) + "' is not set";
                }
                fail(msg);
            }
            return *value;
        }
        if (!rest.empty() && rest[0] == '+') {
            return set ? expand(rest.substr(1), depth + 1) : std::string();
        }
        return set ? *value : expand(rest, depth + 1);
    }
};

void walk(Node& node, const Node& root, const std::vector<Resolver>& resolvers,
          const std::string& path) {
    switch (node.kind()) {
        case Node::Kind::Scalar:
            if (node.text().find('$') != std::string::npos) {
                const std::string& raw = node.text();
                // Exactly one reference, `${…}` with no text around it and no `$${`.
                const bool whole = raw.size() > 3 && raw.compare(0, 2, "${") == 0 &&
                                   raw.back() == '}' && raw.find("${", 2) == std::string::npos;
                node.mutableText() = expandString(raw, root, resolvers, path, node.origin());
                node.setFromVariable(whole);
            }
            break;
        case Node::Kind::Sequence: {
            size_t i = 0;
            for (Node& item : node.items()) {
                walk(item, root, resolvers, path + "." + std::to_string(i++));
            }
            break;
        }
        case Node::Kind::Map:
            for (auto& [k, v] : node.entries()) {
                walk(v, root, resolvers, path.empty() ? k : path + "." + k);
            }
            break;
        case Node::Kind::Null:
            break;
    }
}

}  // namespace

std::string expandString(std::string_view text, const Node& root,
                         const std::vector<Resolver>& resolvers, const std::string& key,
                         const Origin& origin) {
    Expander e{root, resolvers, key, origin};
    return e.expand(text, 0);
}

void expandVariables(Node& root, const std::vector<Resolver>& resolvers) {
    // References resolve against the tree as written, so `${path.home}` means the
    // configured home even when path.home itself is expanded later in the walk.
    const Node snapshot = root;
    walk(root, snapshot, resolvers, "");
}

}  // namespace sipbeat::config
