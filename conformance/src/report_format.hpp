// report_format.hpp — what the report writers share (report.hpp): counting
// findings and verdicts against --fail-on, text safe for UTF-8 formats,
// colour on a terminal, and the one way a finding is written in a line.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/conformance/report.hpp"

namespace smtpkit::conformance::detail {

/// Text as valid UTF-8: octets of an ill-formed sequence become '?'.
std::string safe(std::string_view s);

/// Findings per level of one dialogue, and how many count under fail_on.
struct tally {
  std::size_t by_level[4] = {0, 0, 0, 0};  ///< not waived, at the level they count at
  std::size_t counted = 0;
  std::size_t waived = 0;
  void add(level l, level fail_on) noexcept {
    ++by_level[static_cast<int>(l)];
    if (counts(l, fail_on)) ++counted;
  }
};
tally count(const session_report& s, level fail_on);

/// Cases per outcome (scenarios), failures also per level.
struct case_tally {
  std::size_t pass = 0, fail = 0, na = 0, error = 0, not_done = 0, waived = 0;
  std::size_t fail_by_level[4] = {0, 0, 0, 0};
  void add(const report_case& c) noexcept;
  [[nodiscard]] std::size_t total() const noexcept { return pass + fail + na + error + not_done; }
};

/// A scenario's failure at or above fail_on.
[[nodiscard]] bool counted(const report_case& c, level fail_on) noexcept;

/// The replies case of a replay report, or nullptr.
const report_case* replies_case(const report& r) noexcept;

/// ANSI colour of a level's name.
const char* colour_of(level l) noexcept;

/// `s` painted with an ANSI colour when `on`.
std::string paint(bool on, std::string_view colour, std::string_view s);

/// "WHERE: LEVEL rule-id: message (RFC ...)" — a finding as the writers
/// show it in a line of text (`where` is "file:line" or "dialogue:line");
/// `level_text` replaces the level's name (to colour it).
std::string finding_line(std::string_view where, const finding& f, std::string_view level_text = {});

/// A finding's level as reports show it: "SHOULD", or "ADVICE (MUST, level
/// set by .smtpkit.yaml:7)" when a policy changed it.
std::string level_text(const finding& f);

/// " [waived: REASON — ORIGIN]", or "" when `reason` is empty.
std::string waiver_text(std::string_view reason, std::string_view origin);

/// A reply as one line ("\n" between its lines becomes "/").
std::string one_line(std::string s);

/// Seconds with millisecond precision, as JUnit's `time` attributes have them.
std::string seconds(std::chrono::microseconds t);

}  // namespace smtpkit::conformance::detail
