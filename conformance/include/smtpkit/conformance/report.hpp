// smtpkit/conformance/report.hpp — the one report model, and its writers.
//
// Every verb that gives a verdict (check, replay, probe) builds a `report`:
// suites of cases, each case with an outcome, the findings it rests on, the
// mismatches and the dialogue that show why, its level and its timing. The
// writers render that model and nothing else:
//
//   text   one line per finding ("file:line: side LEVEL rule-id: message
//          (RFC ...)") or per scenario, colour on a terminal, a summary line;
//   json   one document (schemas in docs/reports.md and docs/probe.md);
//   junit  JUnit XML: one <testsuite> per suite, one <testcase> per case,
//          <failure> at or above --fail-on, <skipped>, <error>;
//   sarif  SARIF 2.1.0 for code-scanning tools: the rules, and a result per
//          finding located at its transcript file and line;
//   html   one self-contained page: summary, filters, every failing
//          dialogue drawn as a ladder with its findings pinned.
//
// A new verb adds a producer (something that fills a report); a new format
// adds a writer. Neither copies the other's formatting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/conformance/check.hpp"

namespace smtpkit::conformance {

/// not_done: an optional behaviour (MAY) the implementation does not have;
/// never a failure.
enum class outcome : std::uint8_t { pass, fail, not_applicable, error, not_done };
std::string_view to_string(outcome o) noexcept;  // "pass", "fail", "not-applicable", "error", "not-done"

/// What produced the report, and so how its cases read.
enum class report_kind : std::uint8_t {
  dialogues,  ///< check, replay: dialogues judged rule by rule
  scenarios,  ///< probe: scenarios played against an implementation
};

/// A reply (or close) that was not what the script or recording expected.
struct mismatch {
  std::size_t line = 0;       ///< the expectation's line in the script or recording
  std::string expected;       ///< as written ("S~ 250 {*}", "reply 250", "close")
  std::string received;       ///< the reply lines, escaped and "\n"-joined, or "(connection closed)"
  std::string recorded = {};  ///< the recorded reply's lines, escaped and "\n"-joined ("" when not a reply)
};

/// What a server did with mail data holding an end-of-data variant (SMTP smuggling).
struct eod_result {
  std::string variant;  ///< the octets probed, escaped
  std::string result;   ///< "accepted-as-end-of-data", "kept-in-message", "rejected"
  std::vector<std::uint16_t> codes;
  std::string detail;
};

enum class case_kind : std::uint8_t {
  rule,      ///< one rule (or a side's grammar) over one dialogue
  scenario,  ///< a scripted scenario played against an implementation
  replies,   ///< a recording's replies compared with a live server's
};

inline constexpr std::size_t no_dialogue = static_cast<std::size_t>(-1);

struct report_case {
  case_kind kind = case_kind::rule;
  std::string id;  ///< rule id, scenario id ("[domain]" per instance), "replay.replies"
  std::string title;
  std::string classname;  ///< "smtpkit.client", "smtpkit.probe.basics", "smtpkit.replay"
  std::string file;       ///< the scenario or recording the case comes from
  std::string rfc;
  std::vector<std::string> checks;  ///< scenario: the rules its verdict rests on
  level lvl = level::must;          ///< scenario: what a failure weighs
  outcome result = outcome::pass;
  level failed_level = level::must;  ///< of what failed
  std::string reason;
  /// scenario: how its expectations alone came out (and why), before the
  /// findings it checks were weighed; settle() gives result and reason.
  outcome played = outcome::pass;
  std::string played_reason;
  std::string waived;     ///< scenario: why it does not count (a waiver); empty: it counts
  std::string waived_by;  ///< where that waiver was given
  std::vector<mismatch> mismatches;
  std::optional<eod_result> eod;
  /// The dialogue (index into report::dialogues) and the findings of it
  /// that decide this case; the dialogue's other findings are notes.
  std::size_t dialogue = no_dialogue;
  std::vector<std::size_t> findings;
  std::string tls;           ///< "TLSv1.3 TLS_AES_256_GCM_SHA384" when the case ran over TLS
  std::size_t compared = 0;  ///< replies: how many replies were compared
  bool exact = false;        ///< replies: line by line, not by code
  bool saved = false;        ///< replies: the live dialogue was saved to the file its findings name
  std::chrono::milliseconds elapsed{0};
  /// probe client: how the client under test ended ("exit 0", "killed at the
  /// deadline") and the end of what it printed; empty for other producers.
  std::string process_status;
  std::string process_output;
  std::vector<std::string> notes;  ///< more that a reader should know ("the client opened 2 sessions")
};

struct report_suite {
  std::string name;
  std::size_t dialogue = no_dialogue;  ///< dialogues: the dialogue this suite judges
  std::vector<report_case> cases;
  std::chrono::microseconds elapsed{0};
};

/// What the implementation under test said of itself (probe, replay).
struct target_info {
  std::string name;  ///< "127.0.0.1:2525", "exec: exim -bs"
  std::string greeting;
  std::vector<std::string> ehlo;  ///< keyword lines of its EHLO response
  std::string tls;
  bool unreachable = false;
  std::string unreachable_reason;
};

struct report {
  report_kind kind = report_kind::dialogues;
  std::string tool = "smtpkit check";
  target_info target;
  std::vector<session_report> dialogues;
  std::vector<report_suite> suites;
  std::chrono::microseconds elapsed{0};
  std::string policy_file;  ///< the .smtpkit.yaml whose waivers and levels were applied, "" none
};

/// The report of dialogues judged offline or live: one suite per dialogue,
/// one case per rule that applied (a side's grammar rules fold into one).
[[nodiscard]] report dialogues_report(std::vector<session_report> sessions, std::string tool = "smtpkit check");

/// A scenario's verdict: how its expectations came out, then the findings
/// of the rules it checks (waived ones and advice do not fail it). A MAY
/// that fails is "not done".
void settle(report_case& c, const session_report& d);

struct report_options {
  level fail_on = level::must;
  bool color = false;
};

/// True when something counts under `fail_on`: a finding (dialogues), a
/// failure at that level or an error (scenarios), a difference (replies),
/// an unreadable dialogue, an unreachable target.
[[nodiscard]] bool failed(const report& r, level fail_on);

void write_text(std::ostream& out, const report& r, const report_options& o);
void write_json(std::ostream& out, const report& r, const report_options& o);
void write_junit(std::ostream& out, const report& r, const report_options& o);
void write_sarif(std::ostream& out, const report& r, const report_options& o);
void write_html(std::ostream& out, const report& r, const report_options& o);

/// XML text escaping (attribute-safe), for XML written from the model.
std::string xml_escape(std::string_view s);

}  // namespace smtpkit::conformance
