// SPDX-License-Identifier: Apache-2.0
#include "beat/config/loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sipbeat::config {

namespace {

std::string permString(mode_t mode) {
    std::string s = "-";
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i) {
        s.push_back((mode & (1u << (8 - i))) != 0 ? rwx[i] : '-');
    }
    return s;
}

std::string absolute(const std::string& path) {
    if (!path.empty() && path[0] == '/') {
        return path;
    }
    char buf[4096];
    if (::getcwd(buf, sizeof buf) == nullptr) {
        return path;
    }
    return std::string(buf) + "/" + path;
}

// sipcmbeat's section is an alias of ours; where both set a key, `sipbeat:` wins. Folded
// separately for the files and for the -E flags, so that an -E flag for either name
// still wins over every file.
void foldAlias(Node& root) {
    if (Node* legacy = root.child("sipcmbeat")) {
        Node folded = *legacy;
        if (const Node* ours = root.child("sipbeat")) {
            folded.merge(*ours);
        }
        root.erase("sipcmbeat");
        root.set("sipbeat", std::move(folded));
    }
}

}  // namespace

std::string resolveConfigPath(const std::string& file, const std::string& config_dir) {
    if (file.empty() || file[0] == '/' || config_dir.empty()) {
        return file;
    }
    return config_dir + "/" + file;
}

void checkFilePermissions(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw ConfigError("error loading config file: stat " + path + ": " + std::strerror(errno));
    }
    const uid_t euid = ::geteuid();
    if (st.st_uid != 0 && st.st_uid != euid) {
        throw ConfigError("error loading config file: config file (\"" + path +
                          "\") must be owned by the user identifier (uid=" + std::to_string(euid) +
                          ") or root");
    }
    if ((st.st_mode & 0022) != 0) {
        throw ConfigError("error loading config file: config file (\"" + path +
                          "\") can only be writable by the owner but the permissions are \"" +
                          permString(st.st_mode) + "\" (to fix the permissions use: 'chmod go-w " +
                          absolute(path) + "')");
    }
}

Node load(const LoadOptions& options) {
    const Origin def{"default", 0};
    Node root = Node::map(def);
    // libbeat's cfgfile defaults: everything hangs off path.home.
    root.set("path.home", Node::scalar(options.home, def));
    root.set("path.config", Node::scalar("${path.home}", def));
    root.set("path.data", Node::scalar("${path.home}/data", def));
    root.set("path.logs", Node::scalar("${path.home}/logs", def));

    Node overrides = Node::map(Origin{"command line flag -E", 0});
    for (const std::string& flag : options.overrides) {
        std::string key;
        Node value;
        if (parseOverride(flag, key, value)) {
            overrides.set(key, std::move(value));
        }
    }

    // `-c` paths are relative to path.config, which only the defaults and the command
    // line can set (a file cannot say where files are).
    Node early = root;
    early.merge(overrides);
    const Node* pc = early.find("path.config");
    const std::string config_dir =
        expandString(pc->text(), early, options.resolvers, "path.config", pc->origin());

    std::vector<std::string> files = options.files;
    if (files.empty()) {
        files.push_back("sipbeat.yml");
    }
    for (const std::string& f : files) {
        const std::string path = resolveConfigPath(f, config_dir);
        if (::access(path.c_str(), F_OK) != 0) {
            throw ConfigError("error loading config file: stat " + path + ": " +
                              std::strerror(errno));
        }
        if (options.strict_perms) {
            checkFilePermissions(path);
        }
        root.merge(loadYamlFile(path));
    }
    foldAlias(root);
    foldAlias(overrides);
    root.merge(overrides);

    expandVariables(root, options.resolvers);
    return root;
}

}  // namespace sipbeat::config
