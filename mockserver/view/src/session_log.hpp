// session_log.hpp — the recent SMTP sessions of a running server, as the web
// view draws them: every octet each side sent (RFC 5321 dialogue, the
// STARTTLS of RFC 3207, who closed), when, and the findings pinned to the
// octets they are about. Rendered on request into the dialogue format
// (docs/dialogue-format.md), with each finding and each record's time
// mapped to its transcript line.
//
// Limits (bounded whatever the clients do): at most `max_sessions` records
// (the oldest closed ones go first), `max_session_octets` kept per session
// and `max_total_octets` in all; octets beyond are counted, not kept, and
// the transcript says so. At most 1000 findings and 65,536 pieces a session.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "smtpkit/transcript.hpp"

namespace smtpkit::mock::view {

using json = nlohmann::ordered_json;

struct session_limits {
  std::size_t max_sessions = 2000;
  std::size_t max_session_octets = 256u << 10;
  std::size_t max_total_octets = 16u << 20;
};

struct session_record {
  enum class kind : std::uint8_t { octets, tls, close };
  struct piece {
    kind what = kind::octets;
    side who = side::client;
    std::int64_t at_us = 0;             ///< microseconds since the session opened
    std::uint64_t side_offset = 0;      ///< where it starts in that side's stream
    std::size_t begin = 0, length = 0;  ///< in `wire` (octets kept)
  };

  std::string id;
  std::string peer;
  bool implicit_tls = false;
  bool tls = false;
  bool open = true;
  std::int64_t opened_unix_us = 0;
  std::int64_t closed_unix_us = 0;
  std::chrono::steady_clock::time_point started;
  std::string wire;
  std::vector<piece> pieces;
  std::uint64_t octets[2] = {0, 0};             ///< sent by client, server
  std::uint64_t dropped = 0;                    ///< octets not kept (limits)
  std::vector<std::pair<json, side>> findings;  ///< "finding" events, anchor
  std::size_t finding_count = 0;
  std::vector<std::string> messages;  ///< queue ids
  std::uint64_t changed = 0;          ///< log generation of the last change
};

class session_log {
 public:
  explicit session_log(session_limits l = {}) : lim_(l) {}

  std::shared_ptr<session_record> open(const std::string& id, const std::string& peer, bool tls);
  void octets(session_record& s, side who, std::string_view bytes);
  void tls(session_record& s);
  void closed(session_record& s, side who);
  void finding(session_record& s, const json& event, side anchor);
  void ended(session_record& s, std::size_t findings);
  void message(const std::string& session, const std::string& id);

  [[nodiscard]] std::shared_ptr<session_record> find(const std::string& id) const;
  /// Newest first.
  [[nodiscard]] std::vector<std::shared_ptr<session_record>> list() const;
  [[nodiscard]] std::size_t size() const { return order_.size(); }
  /// Sessions changed since generation `since` (for live updates); the
  /// current generation.
  [[nodiscard]] std::uint64_t generation() const { return gen_; }

  /// The list entry of a session: id, peer, times, state, counts.
  [[nodiscard]] static json summary(const session_record& s);
  /// summary() plus "transcript" (dialogue format), "findings" (each with
  /// its transcript "line") and "times" (line → milliseconds since open).
  [[nodiscard]] static json detail(const session_record& s);
  /// The dialogue format text of what was kept.
  [[nodiscard]] static std::string transcript(const session_record& s);

 private:
  void touch(session_record& s) { s.changed = ++gen_; }
  void evict();

  session_limits lim_;
  std::deque<std::shared_ptr<session_record>> order_;  // oldest first
  std::unordered_map<std::string, std::shared_ptr<session_record>> by_id_;
  std::size_t total_ = 0;
  std::uint64_t gen_ = 0;
};

/// RFC 3339 UTC with microseconds: "2026-01-01T00:00:00.000000Z".
std::string rfc3339(std::int64_t unix_us);
std::int64_t now_unix_us();

}  // namespace smtpkit::mock::view
