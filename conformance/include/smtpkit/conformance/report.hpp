// smtpkit/conformance/report.hpp — reports for people and for CI.
//
//   text   one line per finding, "file:line: side LEVEL rule-id: message (RFC ...)",
//          its excerpt indented below, colour on a terminal, a summary line;
//   json   one document (schema in docs/reports.md);
//   junit  JUnit XML: one <testsuite> per dialogue, one <testcase> per rule
//          that applied, a <failure> per finding at or above --fail-on.
// The same writers serve `check`, `replay`, `serve` and `probe`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "smtpkit/conformance/check.hpp"

namespace smtpkit::conformance {

struct report_options {
  level fail_on = level::must;
  bool color = false;
  std::string tool = "smtpkit check";
};

/// True when some finding counts under `fail_on`.
[[nodiscard]] bool failed(const std::vector<session_report>& sessions, level fail_on);

void write_text(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o);
void write_json(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o);
void write_junit(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o);

/// XML text escaping (attribute-safe), also used by other JUnit writers.
std::string xml_escape(std::string_view s);

}  // namespace smtpkit::conformance
