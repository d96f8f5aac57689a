// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace sipbeat::test {

/// A fresh directory under $TMPDIR, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    /// Writes `content` to `<dir>/<name>` and returns the full path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::string path_;
};

std::string readFile(const std::string& path);
/// Lines of a file, without the newlines.
std::vector<std::string> readLines(const std::string& path);
/// Names (not paths) of the files in `dir`, sorted.
std::vector<std::string> listDir(const std::string& dir);

}  // namespace sipbeat::test
