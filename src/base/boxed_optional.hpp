// Internal: an optional value kept on the heap.
//
// Empty, it costs one pointer instead of sizeof(T). For the large fields an entity rarely has
// (http, sql): held inline as std::optional they made every entity about 900 bytes to construct
// and destroy, a request's largest fixed cost after the clock. Offers the part of std::optional's
// interface its users need; copies are deep.
// Thread safety: as for std::optional (none of its own).
#pragma once

#include <memory>
#include <utility>

namespace xray::detail {

template <typename T>
class BoxedOptional {
 public:
  BoxedOptional() noexcept = default;
  BoxedOptional(const BoxedOptional& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  BoxedOptional(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(const BoxedOptional& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  BoxedOptional& operator=(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(T value) {
    if (value_) {
      *value_ = std::move(value);
    } else {
      value_ = std::make_unique<T>(std::move(value));
    }
    return *this;
  }
  ~BoxedOptional() = default;

  T& emplace() {
    value_ = std::make_unique<T>();
    return *value_;
  }
  void reset() noexcept { value_.reset(); }

  bool has_value() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  T& operator*() noexcept { return *value_; }
  const T& operator*() const noexcept { return *value_; }
  T* operator->() noexcept { return value_.get(); }
  const T* operator->() const noexcept { return value_.get(); }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace xray::detail
