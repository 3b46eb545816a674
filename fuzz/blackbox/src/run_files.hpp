// run_files.hpp — what the fuzzers of fuzz/blackbox share about the files
// they leave and the features they count: stable names from hashes, files
// that appear whole (written aside, then renamed, so a reader of DIR never
// sees half a reproducer), and the hash of a matched reply.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "smtpkit/conformance/engine.hpp"

namespace smtpkit::fuzz {

inline std::string hex64(std::uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

/// FNV-1a: names and keys, not security.
inline std::uint64_t fnv(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

/// splitmix64 of the pair: features are hashes, collisions only cost coverage.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A reply matched with what it answered, in the state it came in: the
/// unit of state coverage both fuzzers count (and pairs of them).
inline std::uint64_t exchange_feature(const conformance::exchange& x) {
  return mix(mix(static_cast<std::uint64_t>(x.what), static_cast<std::uint64_t>(x.v)),
             (static_cast<std::uint64_t>(x.code) << 8) | x.state);
}

inline bool write_file(const std::filesystem::path& p, const std::string& text) {
  const std::filesystem::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  return !ec;
}

}  // namespace smtpkit::fuzz
