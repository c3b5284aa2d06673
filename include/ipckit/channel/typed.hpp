// SPDX-License-Identifier: Apache-2.0
/// @file
/// Channel\<T\>: the SPSC channel carrying one trivially copyable T per message.
///
/// The channel's header records a hash of T's name, size and alignment; opening a channel created
/// for another type is an Error (kInvalidArgument naming both hashes). The name is taken from the
/// compiler's function signature with the spelling normalised to "T = name", so g++ and clang agree
/// for ordinary types; exotic types (lambdas, anonymous namespaces) may hash differently across
/// compilers.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>

#include "ipckit/channel/spsc.hpp"

namespace ipckit {

namespace detail {
template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view f = __PRETTY_FUNCTION__;
  const auto at = f.find("T = ");
  if (at == std::string_view::npos) return f;
  f.remove_prefix(at + 4);
  const auto end = f.find_first_of(";]");
  return end == std::string_view::npos ? f : f.substr(0, end);
}

constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace detail

/// The SPSC channel carrying one trivially copyable T per message (alignof(T) at most 8); see
/// the file's description for the type check.
template <class T>
  requires std::is_trivially_copyable_v<T>
class Channel {
 public:
  // Records are 8-byte aligned; the payload of a record starts 8 bytes after it.
  static_assert(alignof(T) <= channel_layout::kRecordAlign, "Channel<T> needs alignof(T) <= 8");

  /// The hash of T's name, size and alignment recorded in the header. Never 0 (0 marks byte channels).
  static constexpr std::uint64_t type_hash() noexcept {
    std::uint64_t h = detail::fnv1a(detail::type_name<T>());
    h = (h ^ sizeof(T)) * 0x100000001b3ULL;
    h = (h ^ alignof(T)) * 0x100000001b3ULL;
    return h == 0 ? 1 : h;
  }

  /// Options for a channel of T: max_message = sizeof(T); capacity is kept if it is large enough,
  /// else raised to the smallest allowed power of two.
  static ChannelOptions options(ChannelOptions o = {}) noexcept {
    o.max_message = sizeof(T);
    std::size_t need = channel_layout::min_capacity(sizeof(T));
    std::size_t cap = 64;
    while (cap < need) cap <<= 1;
    if (o.capacity < cap) o.capacity = cap;
    return o;
  }

  /// The typed producer: an SpscProducer sending one T per message.
  class Producer {
   public:
    /// An invalid producer; assign one from Channel::producer().
    Producer() = default;
    /// Wraps an open SpscProducer (its type hash should be type_hash()).
    explicit Producer(SpscProducer raw) : raw_(std::move(raw)) {}
    /// As SpscProducer::try_send with sizeof(T) bytes: never blocks.
    [[nodiscard]] Result<ChannelStatus> try_send(const T& v, bool publish = true) { return raw_.try_send(bytes(v), publish); }
    /// As SpscProducer::send with sizeof(T) bytes: waits while the ring is full.
    [[nodiscard]] Result<ChannelStatus> send(const T& v, bool publish = true) { return raw_.send(bytes(v), publish); }
    /// As SpscProducer::send_until with sizeof(T) bytes: waits at most until `d`.
    [[nodiscard]] Result<ChannelStatus> send_until(const T& v, Deadline d, bool publish = true) {
      return raw_.send_until(bytes(v), d, publish);
    }
    /// As SpscProducer::flush.
    void flush() noexcept { raw_.flush(); }
    /// As SpscProducer::close.
    [[nodiscard]] Result<void> close() noexcept { return raw_.close(); }
    /// The underlying byte producer.
    [[nodiscard]] SpscProducer& raw() noexcept { return raw_; }

   private:
    static std::span<const std::byte> bytes(const T& v) noexcept {
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(&v), sizeof(T));
    }
    SpscProducer raw_;
  };

  /// What the typed consumer hands out: a copy of T when status is kOk.
  struct Received {
    ChannelStatus status = ChannelStatus::kWouldBlock;  ///< the outcome; value is meaningful only when kOk
    T value{};                                          ///< the received T
    bool redelivered = false;                           ///< a previous consumer died holding this record
    /// True when status is kOk.
    explicit operator bool() const noexcept { return status == ChannelStatus::kOk; }
  };

  /// The typed consumer: an SpscConsumer receiving one T per message (copied out and released).
  class Consumer {
   public:
    /// An invalid consumer; assign one from Channel::consumer().
    Consumer() = default;
    /// Wraps an open SpscConsumer (its type hash should be type_hash()).
    explicit Consumer(SpscConsumer raw) : raw_(std::move(raw)) {}
    /// As SpscConsumer::try_receive/receive/receive_until, copying one T out. A record of another
    /// size is kCorrupt. try_receive() never blocks.
    [[nodiscard]] Result<Received> try_receive() { return take(raw_.try_receive()); }
    /// As SpscConsumer::receive, copying one T out: waits while the ring is empty.
    [[nodiscard]] Result<Received> receive() { return take(raw_.receive()); }
    /// As SpscConsumer::receive_until, copying one T out: waits at most until `d`.
    [[nodiscard]] Result<Received> receive_until(Deadline d) { return take(raw_.receive_until(d)); }
    /// As SpscConsumer::close.
    [[nodiscard]] Result<void> close() noexcept { return raw_.close(); }
    /// The underlying byte consumer.
    [[nodiscard]] SpscConsumer& raw() noexcept { return raw_; }

   private:
    Result<Received> take(Result<ReceivedView> v) {
      if (!v) return fail(v.error());
      Received out;
      out.status = v->status;
      if (!*v) return out;
      if (v->data.size() != sizeof(T)) {
        (void)raw_.release();
        return fail_library(LibraryCode::kCorrupt, "channel_receive", ::ipckit::quoted(raw_.name()),
                            "record size differs from sizeof(T)");
      }
      std::memcpy(&out.value, v->data.data(), sizeof(T));
      out.redelivered = v->redelivered;
      if (auto r = raw_.release(); !r) return fail(r.error());
      return out;
    }
    SpscConsumer raw_;
  };

  /// Open or create `name` for T and claim the producer role. Errors: as SpscProducer::open.
  [[nodiscard]] static Result<Producer> producer(std::string_view name, OpenMode mode, ChannelOptions o = {}) {
    auto p = SpscProducer::open(name, mode, options(o), type_hash());
    if (!p) return fail(p.error());
    return Producer(std::move(*p));
  }
  /// Open or create `name` for T and claim the consumer role. Errors: as SpscConsumer::open.
  [[nodiscard]] static Result<Consumer> consumer(std::string_view name, OpenMode mode, ChannelOptions o = {}) {
    auto c = SpscConsumer::open(name, mode, options(o), type_hash());
    if (!c) return fail(c.error());
    return Consumer(std::move(*c));
  }
};

}  // namespace ipckit
