// command_fast.hpp — the fast paths of parse_command: MAIL/RCPT lines
// (RFC 5321 §4.1.1.2-3, paths §4.1.2-4.1.3, esmtp-params §4.1.2) and
// EHLO/HELO domains (§4.1.1.1), one set per instruction set, and the
// choice among the sets, made once at run time.
//
// A fast path only ever accepts. It takes the lines of everyday traffic
// and returns false on anything else — every error, the rarer and the
// lenient forms — which the general parser in command.cpp then parses from
// the start and diagnoses. Where it accepts, it fills `command` exactly as
// the general parser does: parser tests and fuzz_command compare the two
// on every input (test_support.hpp).
//
// The library is built for the x86-64 baseline; each set is compiled for
// its instruction set per function, in a file of its own
// (command_fast_<isa>.cpp) that keeps its intrinsics and its #if for
// compilers and targets to itself. The paths are written once, over class
// masks (command_fast_masks.hpp); a set gives the one function that
// classifies a window of octets. A new set is that file, its function
// declared below, and an entry in command_fast_path_sets.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "smtpkit/command.hpp"
#include "smtpkit/path.hpp"

namespace smtpkit::detail {

struct command_fast_paths {
  /// The instruction set: "avx512", "avx2".
  const char* name;
  /// "MAIL FROM:<" or "RCPT TO:<" in any case (`mail` says which the
  /// caller's verb lookup found), a path and parameters: c.argument,
  /// c.address, c.params and c.typed filled as the general parser fills
  /// them. On false, c.address and c.typed may hold part of a parse, and
  /// the caller clears them.
  bool (*mail_rcpt)(std::string_view line, bool mail, command& c) noexcept;
  /// EHLO/HELO whose argument from `pos` is a Domain that ends the line:
  /// `out` as scan_host gives it. Writes nothing on false.
  bool (*hello_domain)(std::string_view line, std::size_t pos, host& out) noexcept;
};

/// The AVX-512 VBMI set (command_fast_avx512.cpp), or nullptr when the
/// compiler could not build it or this CPU cannot run it.
[[nodiscard]] const command_fast_paths* avx512_fast_paths() noexcept;
/// The AVX2 set (command_fast_avx2.cpp), likewise.
[[nodiscard]] const command_fast_paths* avx2_fast_paths() noexcept;

/// Every set, most capable first; an entry is nullptr where the set does
/// not run.
[[nodiscard]] inline std::array<const command_fast_paths*, 2> command_fast_path_sets() noexcept {
  return {avx512_fast_paths(), avx2_fast_paths()};
}

/// The set parse_command uses: the most capable one this CPU runs, or
/// nullptr for none (the general parser alone).
[[nodiscard]] inline const command_fast_paths* choose_command_fast_paths() noexcept {
  for (const command_fast_paths* p : command_fast_path_sets())
    if (p) return p;
  return nullptr;
}

}  // namespace smtpkit::detail
