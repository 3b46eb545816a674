// smtpkit/conformance/check.hpp — judging recorded dialogues: a transcript
// is replayed into the engine record by record, and each finding is mapped
// back to the transcript line that carried the octets it points at.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::conformance {

/// The result of one dialogue: what report writers need.
struct session_report {
  std::string source;
  std::vector<finding> findings;
  std::vector<int> applied;                             ///< rule indexes whose check ran
  std::vector<std::pair<int, std::size_t>> suppressed;  ///< rule index, occurrences not stored
  std::size_t records = 0;
  std::uint64_t client_bytes = 0;
  std::uint64_t server_bytes = 0;
  bool unreadable = false;  ///< the transcript could not be read: `error` says why
  transcript_error error;
  /// The dialogue's text when it was played live (client driver); empty
  /// when it was judged from a file, which the findings' lines then name.
  std::string transcript;
  std::chrono::microseconds elapsed{0};  ///< judging it (offline) or playing it (live)
};

/// How the octets of a transcript reach the engine.
enum class feed_mode {
  coalesce,  ///< consecutive records of one side as one piece
  record,    ///< one piece per record
  bytes,     ///< one octet at a time
};

[[nodiscard]] session_report check_transcript(const transcript& t, const engine_options& opts = {},
                                              feed_mode mode = feed_mode::record);

/// Snapshot of an engine's results (live use: mock server, client driver).
[[nodiscard]] session_report make_report(const engine& e, std::string source);

}  // namespace smtpkit::conformance
