// SPDX-License-Identifier: Apache-2.0
#include "beat/event/document.h"

#include <algorithm>
#include <cstring>

namespace sipbeat::event {

namespace {
constexpr size_t kChunkSize = 8192;
}

void Document::clear() {
    timestamp = 0;
    fields_.clear();
    meta_.clear();
    chunk_index_ = 0;
    chunk_used_ = 0;
}

std::string_view Document::intern(std::string_view s) {
    if (s.empty()) {
        return {};
    }
    while (true) {
        if (chunk_index_ < chunks_.size()) {
            const size_t cap = chunk_sizes_[chunk_index_];
            if (cap - chunk_used_ >= s.size()) {
                char* dst = chunks_[chunk_index_].get() + chunk_used_;
                std::memcpy(dst, s.data(), s.size());
                chunk_used_ += s.size();
                return {dst, s.size()};
            }
            ++chunk_index_;
            chunk_used_ = 0;
            continue;
        }
        const size_t size = std::max(kChunkSize, s.size());
        chunks_.push_back(std::make_unique<char[]>(size));
        chunk_sizes_.push_back(size);
    }
}

Field& Document::slot(std::vector<Field>& list, std::string_view key) {
    for (Field& f : list) {
        if (f.key == key) {
            f.list.clear();
            return f;
        }
    }
    list.emplace_back();
    list.back().key = intern(key);
    return list.back();
}

void Document::setBool(std::string_view key, bool v) {
    Field& f = slot(fields_, key);
    f.kind = ValueKind::Bool;
    f.b = v;
}

void Document::setInt(std::string_view key, int64_t v) {
    Field& f = slot(fields_, key);
    f.kind = ValueKind::Int;
    f.i = v;
}

void Document::setUint(std::string_view key, uint64_t v) {
    Field& f = slot(fields_, key);
    f.kind = ValueKind::Uint;
    f.u = v;
}

void Document::setDouble(std::string_view key, double v) {
    Field& f = slot(fields_, key);
    f.kind = ValueKind::Double;
    f.d = v;
}

void Document::setString(std::string_view key, std::string_view v) {
    const std::string_view copy = intern(v);
    Field& f = slot(fields_, key);
    f.kind = ValueKind::String;
    f.s = copy;
}

void Document::setStringList(std::string_view key, const std::vector<std::string_view>& v) {
    Field& f = slot(fields_, key);
    f.kind = ValueKind::StringList;
    for (std::string_view item : v) {
        f.list.push_back(intern(item));
    }
}

void Document::appendToList(std::string_view key, std::string_view v) {
    for (Field& f : fields_) {
        if (f.key == key && f.kind == ValueKind::StringList) {
            f.list.push_back(intern(v));
            return;
        }
    }
    setStringList(key, {v});
}

void Document::setMeta(std::string_view key, std::string_view v) {
    const std::string_view copy = intern(v);
    Field& f = slot(meta_, key);
    f.kind = ValueKind::String;
    f.s = copy;
}

const Field* Document::get(std::string_view key) const {
    for (const Field& f : fields_) {
        if (f.key == key) {
            return &f;
        }
    }
    return nullptr;
}

bool Document::remove(std::string_view key) {
    auto it =
        std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return f.key == key; });
    if (it == fields_.end()) {
        return false;
    }
    fields_.erase(it);
    return true;
}

bool Document::rename(std::string_view from, std::string_view to) {
    for (Field& f : fields_) {
        if (f.key == from) {
            remove(to);
            // `remove` may have moved elements; look the field up again.
            for (Field& g : fields_) {
                if (g.key == from) {
                    g.key = intern(to);
                    return true;
                }
            }
        }
    }
    return false;
}

}  // namespace sipbeat::event
