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
    used_ = 0;
    meta_used_ = 0;
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

Field& Document::slot(std::vector<Field>& list, size_t& used, std::string_view key) {
    for (size_t i = 0; i < used; ++i) {
        if (list[i].key == key) {
            list[i].list.clear();
            list[i].ints.clear();
            return list[i];
        }
    }
    if (used == list.size()) {
        list.emplace_back();
    }
    Field& f = list[used++];
    f.key = intern(key);
    f.list.clear();
    f.ints.clear();
    return f;
}

Field& Document::appendSlot(std::string_view key, bool copy_key) {
    if (used_ == fields_.size()) {
        fields_.emplace_back();
    }
    Field& f = fields_[used_++];
    f.key = copy_key ? intern(key) : key;
    f.list.clear();
    f.ints.clear();
    return f;
}

void Document::addString(std::string_view key, std::string_view v, bool copy_key) {
    const std::string_view copy = intern(v);
    Field& f = appendSlot(key, copy_key);
    f.kind = ValueKind::String;
    f.s = copy;
}

void Document::addInt(std::string_view key, int64_t v) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::Int;
    f.i = v;
}

void Document::addUint(std::string_view key, uint64_t v) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::Uint;
    f.u = v;
}

void Document::addBool(std::string_view key, bool v) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::Bool;
    f.b = v;
}

Field* Document::find(std::string_view key) {
    for (size_t i = 0; i < used_; ++i) {
        if (fields_[i].key == key) {
            return &fields_[i];
        }
    }
    return nullptr;
}

std::string_view Document::internLower(std::string_view s) {
    std::string_view copy = intern(s);
    // The arena owns these bytes; lower-case them in place (ASCII only, as Go's
    // strings.ToLower does for these header values).
    char* p = const_cast<char*>(copy.data());
    for (size_t i = 0; i < copy.size(); ++i) {
        if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = static_cast<char>(p[i] - 'A' + 'a');
        }
    }
    return copy;
}

void Document::setBool(std::string_view key, bool v) {
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::Bool;
    f.b = v;
}

void Document::setInt(std::string_view key, int64_t v) {
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::Int;
    f.i = v;
}

void Document::setUint(std::string_view key, uint64_t v) {
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::Uint;
    f.u = v;
}

void Document::setDouble(std::string_view key, double v) {
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::Double;
    f.d = v;
}

void Document::setString(std::string_view key, std::string_view v) {
    const std::string_view copy = intern(v);
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::String;
    f.s = copy;
}

void Document::setStringList(std::string_view key, const std::vector<std::string_view>& v) {
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::StringList;
    for (std::string_view item : v) {
        f.list.push_back(intern(item));
    }
}

void Document::addDouble(std::string_view key, double v) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::Double;
    f.d = v;
}

void Document::addIntList(std::string_view key, std::initializer_list<int64_t> values) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::IntList;
    f.ints.assign(values);
}

void Document::addStringList(std::string_view key, std::initializer_list<std::string_view> values) {
    Field& f = appendSlot(key, false);
    f.kind = ValueKind::StringList;
    for (std::string_view v : values) {
        f.list.push_back(intern(v));
    }
}

Field* Document::findForAppend(std::string_view key) {
    // Lists are mostly built by consecutive appends: try the last field before searching.
    if (used_ > 0 && fields_[used_ - 1].key == key) {
        return &fields_[used_ - 1];
    }
    return find(key);
}

void Document::appendToList(std::string_view key, std::string_view v) {
    const std::string_view copy = intern(v);
    Field* f = findForAppend(key);
    if (f == nullptr || f->kind != ValueKind::StringList) {
        f = &slot(fields_, used_, key);
        f->kind = ValueKind::StringList;
    }
    f->list.push_back(copy);
}

void Document::appendToListLower(std::string_view key, std::string_view v) {
    const std::string_view copy = internLower(v);
    Field* f = find(key);
    if (f == nullptr || f->kind != ValueKind::StringList) {
        f = &slot(fields_, used_, key);
        f->kind = ValueKind::StringList;
    }
    f->list.push_back(copy);
}

void Document::appendToIntList(std::string_view key, int64_t v) {
    Field* f = findForAppend(key);
    if (f == nullptr || f->kind != ValueKind::IntList) {
        f = &slot(fields_, used_, key);
        f->kind = ValueKind::IntList;
    }
    f->ints.push_back(v);
}

void Document::setStringLower(std::string_view key, std::string_view v) {
    const std::string_view copy = internLower(v);
    Field& f = slot(fields_, used_, key);
    f.kind = ValueKind::String;
    f.s = copy;
}

void Document::setMeta(std::string_view key, std::string_view v) {
    const std::string_view copy = intern(v);
    Field& f = slot(meta_, meta_used_, key);
    f.kind = ValueKind::String;
    f.s = copy;
}

const Field* Document::get(std::string_view key) const {
    for (size_t i = 0; i < used_; ++i) {
        if (fields_[i].key == key) {
            return &fields_[i];
        }
    }
    return nullptr;
}

bool Document::remove(std::string_view key) {
    for (size_t i = 0; i < used_; ++i) {
        if (fields_[i].key == key) {
            // Keep the removed slot (and its capacity) past the end for reuse.
            std::rotate(fields_.begin() + static_cast<std::ptrdiff_t>(i),
                        fields_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        fields_.begin() + static_cast<std::ptrdiff_t>(used_));
            --used_;
            return true;
        }
    }
    return false;
}

bool Document::rename(std::string_view from, std::string_view to) {
    if (find(from) == nullptr) {
        return false;
    }
    remove(to);
    find(from)->key = intern(to);
    return true;
}

}  // namespace sipbeat::event
