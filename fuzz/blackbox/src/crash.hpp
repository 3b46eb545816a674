// crash.hpp — telling a crash from an exit, for the black-box fuzzers of
// servers (`--exec`) and clients: a death by a signal a program sends
// itself when it breaks (SIGSEGV, SIGABRT, ...; a shell says 128+N), or a
// sanitizer report on its stderr. A signal from outside (SIGKILL, SIGTERM)
// or a plain non-zero exit is not a crash.
#pragma once

#include <optional>
#include <string>

namespace smtpkit::fuzz {

/// The crash's signature — "SIGSEGV", "sanitizer: SUMMARY: AddressSanitizer:
/// heap-buffer-overflow ... in f g h", or the signal and the program's last
/// words with digits folded — which deduplicates it; nullopt when `signo`
/// (0: none) and `err` (the end of its stderr) show no crash.
[[nodiscard]] std::optional<std::string> crash_signature(int signo, const std::string& err);

/// The last `n` octets of `s`.
[[nodiscard]] std::string tail(const std::string& s, std::size_t n);

}  // namespace smtpkit::fuzz
