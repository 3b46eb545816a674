// fuzz/fuzz_support.hpp — what every smtpkit fuzz target shares: an owned
// copy of the input, invariant checks that stop the process, and the
// split-point scheme that cuts an input into pieces for streaming parsers.
//
// Targets are deterministic and keep no state between inputs. The input is
// copied into an allocation of exactly its size so AddressSanitizer reports
// any read past its end (libFuzzer's own buffer is also exact, but the replay
// main and other engines may not be).
//
// Split scheme (google/fuzzing split-inputs.md warns against TLV framing, so
// this stays a plain prefix): byte 0 holds target options, byte 1 the number
// of cuts (low 3 bits), then one byte per cut giving a piece length (0-255,
// an empty piece is legal), then the payload; the last piece is whatever is
// left. A short input simply has fewer cuts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/options.hpp"

namespace smtpkit::fuzz {

/// An invariant broke: stop so libFuzzer (or the replay main) reports it.
#define SMTPKIT_FUZZ_CHECK(cond)   \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

/// The fuzzer's bytes copied into a heap block of exactly `size` octets.
class owned_input {
 public:
  // memcpy, not a loop: coverage instrumentation would trace every compare.
  owned_input(const std::uint8_t* data, std::size_t size) : buf_(new char[size == 0 ? 1 : size]), size_(size) {
    if (size) std::memcpy(buf_.get(), data, size);
  }
  explicit owned_input(std::string_view s) : owned_input(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()) {}
  [[nodiscard]] std::string_view view() const noexcept { return {buf_.get(), size_}; }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t size_;
};

/// The usual input of a line-level target: byte 0 holds flags (bit 0
/// SMTPUTF8, bit 1 every lenient rule; a target may read more bits from
/// `flags`), the rest is the text, owned. Call only with size > 0.
struct flagged_input {
  flagged_input(const std::uint8_t* data, std::size_t size) : flags(data[0]), owned(data + 1, size - 1) {
    opts.smtputf8 = (flags & 1) != 0;
    if (flags & 2) opts.relax = lenient::all;
  }
  [[nodiscard]] std::string_view view() const noexcept { return owned.view(); }

  std::uint8_t flags;
  parse_options opts;
  owned_input owned;
};

/// True when `part` lies inside `whole`. An empty view may also be
/// default-constructed (nullptr) or sit right at the end of `whole`.
inline bool inside(std::string_view part, std::string_view whole) noexcept {
  if (part.empty() && part.data() == nullptr) return true;
  const char* b = whole.data();
  const char* e = b + whole.size();
  return part.data() >= b && part.data() <= e && part.size() <= static_cast<std::size_t>(e - part.data());
}

/// An input cut into pieces by the split scheme above.
struct split_input {
  std::uint8_t options = 0;
  std::string_view payload;
  std::vector<std::string_view> pieces;  ///< views into payload, in order
};

inline split_input split(std::string_view in) {
  split_input s;
  std::size_t pos = 0;
  if (pos < in.size()) s.options = static_cast<std::uint8_t>(in[pos++]);
  std::size_t cuts = 0;
  if (pos < in.size()) cuts = static_cast<std::uint8_t>(in[pos++]) & 7u;
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < cuts && pos < in.size(); ++i) lengths.push_back(static_cast<std::uint8_t>(in[pos++]));
  s.payload = in.substr(pos);
  std::size_t at = 0;
  for (std::size_t len : lengths) {
    std::size_t n = len < s.payload.size() - at ? len : s.payload.size() - at;
    s.pieces.push_back(s.payload.substr(at, n));
    at += n;
  }
  s.pieces.push_back(s.payload.substr(at));
  return s;
}

}  // namespace smtpkit::fuzz
