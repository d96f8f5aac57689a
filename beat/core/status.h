// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace sipbeat::core {

/// Success or an error message. Used on every path where exceptions are not wanted
/// (the data plane, and control-plane helpers that the data plane also calls).
class [[nodiscard]] Status {
public:
    Status() = default;
    static Status ok() { return {}; }
    static Status error(std::string message) { return Status(std::move(message)); }

    bool isOk() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    const std::string& message() const noexcept { return message_; }

private:
    explicit Status(std::string message) : message_(std::move(message)), failed_(true) {}
    std::string message_;
    bool failed_ = false;
};

/// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
    Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

    bool isOk() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return value_.has_value(); }
    const Status& status() const noexcept { return status_; }
    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    T&& value() && { return std::move(*value_); }
    T& operator*() & { return *value_; }
    const T& operator*() const& { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }

private:
    std::optional<T> value_;
    Status status_;
};

}  // namespace sipbeat::core
