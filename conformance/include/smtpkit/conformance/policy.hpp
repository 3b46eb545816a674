// smtpkit/conformance/policy.hpp — waivers and level overrides: what a team
// decided about rules it knowingly does not follow, the way linters let
// a project silence a check with a reason.
//
// A policy comes from the command line (`--ignore RULE`, `--level
// RULE=LEVEL`) and from a config file, `.smtpkit.yaml`, found by walking up
// from the working directory (the way .clang-tidy is found):
//
//   ignore:
//     - rule: client.domain.unqualified      # a rule id, a scenario id, or a glob
//       reason: the app runs in a container and says EHLO with its short name
//       dialogues: ["recordings/app-*.smtp"] # optional: only these sources
//   level:
//     - rule: server.ehlo.keyword-unregistered
//       level: advice                        # must, should, may or advice
//       reason: PIPECONNECT is Exim's own and harmless here
//
// A policy never drops anything: a waived finding stays in every report,
// marked waived with its reason and where the waiver was given, and counted
// apart; it just no longer counts under --fail-on. An overridden level is
// shown beside the rule's own. Patterns match ids whole, `*` any run of
// characters, `?` one.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/conformance/rules.hpp"

namespace smtpkit::conformance {

struct report;
struct report_case;
struct session_report;

/// The name of the config file searched for.
inline constexpr std::string_view policy_file_name = ".smtpkit.yaml";

struct waiver {
  std::string pattern;  ///< rule or scenario id, or a glob of ids
  std::string reason;
  std::string origin;                ///< ".smtpkit.yaml:3", "--ignore"
  std::vector<std::string> sources;  ///< globs of dialogue sources; empty: every dialogue
};

struct level_override {
  std::string pattern;
  level lvl = level::advice;
  std::string reason;
  std::string origin;
};

/// A config file that cannot be used: "FILE:LINE: what was expected".
struct policy_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct policy {
  std::vector<waiver> waivers;
  std::vector<level_override> levels;
  std::string file;  ///< the config file read, "" when none

  [[nodiscard]] bool empty() const noexcept { return waivers.empty() && levels.empty(); }
  /// The waiver covering `id` (a rule or scenario) in dialogue `source`, or nullptr.
  [[nodiscard]] const waiver* waived(std::string_view id, std::string_view source) const;
  /// The last override whose pattern matches `id`, or nullptr.
  [[nodiscard]] const level_override* level_for(std::string_view id) const;

  /// `--ignore PATTERN`.
  void ignore(std::string pattern);
  /// `--level PATTERN=LEVEL`; false (and why) when malformed.
  bool set_level(std::string_view spec, std::string& why);
};

/// `*` any run of characters, `?` one character; the whole id must match.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text) noexcept;

/// Reads a config file; throws policy_error.
[[nodiscard]] policy load_policy_file(const std::string& path);

/// The nearest .smtpkit.yaml in `start` or a folder above it; "" when none.
[[nodiscard]] std::string find_policy_file(const std::filesystem::path& start);

/// Marks the findings of one dialogue that the policy waives or re-levels.
void apply(const policy& p, session_report& d);
/// Marks a scenario the policy waives (by its id, or its id without the
/// "[instance]" suffix) and settles its verdict again with its dialogue.
void apply(const policy& p, report_case& c, const session_report& d);
/// Both, over a whole report.
void apply(const policy& p, report& r);

}  // namespace smtpkit::conformance
