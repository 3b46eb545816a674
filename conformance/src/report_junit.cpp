// report_junit.cpp — the JUnit XML report (report.hpp) for CI servers:
// one <testsuite> per suite (a dialogue, a scenario group, a replay's
// replies), one <testcase> per case; <failure> when the case fails at or
// above --fail-on, <skipped> when it did not apply, <error> when it could
// not run; what fails below --fail-on stays visible in <system-out>.
// Every `time` is the case's or suite's own, in seconds.
#include <fmt/format.h>

#include "report_format.hpp"

namespace smtpkit::conformance {
namespace {

struct counters {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  void add(const counters& o) noexcept {
    tests += o.tests;
    failures += o.failures;
    errors += o.errors;
    skipped += o.skipped;
  }
};

std::string open_case(std::string_view name, const report_case& c) {
  return fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", xml_escape(name),
                     xml_escape(c.classname), detail::seconds(c.elapsed));
}

// What is not failing the case stays visible: CI servers that show a
// passing case's properties (Jenkins) list each one.
std::string properties(const std::vector<std::pair<std::string, std::string>>& props) {
  if (props.empty()) return {};
  std::string out = "      <properties>\n";
  for (const auto& [name, value] : props)
    out += fmt::format("        <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name), xml_escape(value));
  return out + "      </properties>\n";
}

// A rule over a dialogue, named by rule and dialogue so that every case of a
// run is told apart: a failure lists every finding that counts; the others
// (below --fail-on, or waived) are properties and lines of the case's output.
std::string rule_case(const report_case& c, const session_report& d, const report_options& o, counters& n) {
  std::string failures, notes;
  std::vector<std::pair<std::string, std::string>> props;
  const finding* first = nullptr;
  for (std::size_t i : c.findings) {
    const finding& f = d.findings[i];
    const std::string where = fmt::format("{}:{}", d.source, f.line);
    if (f.counts(o.fail_on)) {
      if (first == nullptr) first = &f;
      failures += xml_escape(detail::finding_line(where, f) + (f.excerpt.empty() ? "" : "\n    " + f.excerpt)) + "\n";
      continue;
    }
    const std::string line = fmt::format("{}: {} {}: {}{}", where, detail::level_text(f), f.r().id, f.message,
                                         detail::waiver_text(f.waived, f.waived_by));
    props.emplace_back(f.waived.empty() ? "smtpkit.below-fail-on" : "smtpkit.waived", line);
    notes += xml_escape(line) + "\n";
  }
  std::string out = open_case(fmt::format("{} [{}]", c.id, d.source), c);
  if (c.findings.empty()) return out + "/>\n";
  out += ">\n" + properties(props);
  if (first != nullptr) {
    ++n.failures;
    out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                       xml_escape(fmt::format("{}:{}: {}: {}", d.source, first->line, first->r().id, first->message)),
                       to_string(first->lvl()), failures);
  }
  if (!notes.empty()) out += "      <system-out>" + notes + "</system-out>\n";
  return out + "    </testcase>\n";
}

// A scenario: why it failed (title, reason, mismatches, the findings it
// checks), with its dialogue in <system-out>.
std::string scenario_case(const report& r, const report_case& c, const report_options& o, counters& n) {
  std::string out = open_case(c.id, c);
  if (c.result == outcome::pass) return out + "/>\n";
  std::string detail = c.title + "\n" + c.reason + "\n";
  for (const auto& m : c.mismatches)
    detail += fmt::format("{}:{}: expected {}, received {}\n", c.file, m.line, m.expected, m.received);
  const session_report* d = c.dialogue == no_dialogue ? nullptr : &r.dialogues[c.dialogue];
  if (d != nullptr)
    for (std::size_t i : c.findings)
      detail += detail::finding_line(fmt::format("dialogue:{}", d->findings[i].line), d->findings[i]) +
                detail::waiver_text(d->findings[i].waived, d->findings[i].waived_by) + "\n";
  for (const auto& note : c.notes) detail += "note: " + note + "\n";
  if (!c.process_status.empty()) detail += "client: " + c.process_status + "\n" + c.process_output;
  const std::string dialogue = d != nullptr ? xml_escape(d->transcript) : std::string();
  const std::string verdict =
      fmt::format("{} ({}", c.result == outcome::not_done ? "NOT DONE" : "FAIL", to_string(c.failed_level));
  out += ">\n";
  if (c.result == outcome::not_applicable) {
    ++n.skipped;
    out += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(c.reason));
  } else if (c.result == outcome::not_done) {
    // Optional behaviour the implementation does not have: not a failure.
    ++n.skipped;
    out += fmt::format("      <skipped message=\"{}\" type=\"not-done\">{}</skipped>\n",
                       xml_escape(verdict + ", optional): " + c.reason), xml_escape(detail));
    out += "      <system-out>" + dialogue + "</system-out>\n";
  } else if (c.result == outcome::error) {
    ++n.errors;
    out += fmt::format("      <error message=\"{}\" type=\"error\">{}</error>\n", xml_escape(c.reason),
                       xml_escape(detail));
    out += "      <system-out>" + dialogue + "</system-out>\n";
  } else if (detail::counted(c, o.fail_on)) {
    ++n.failures;
    out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xml_escape(c.reason),
                       to_string(c.failed_level), xml_escape(detail));
    out += "      <system-out>" + dialogue + "</system-out>\n";
  } else {
    // A failure below --fail-on, or waived: reported, not failing the build.
    const std::string why = c.waived.empty() ? verdict + ", below --fail-on)"
                                             : verdict + ", waived: " + c.waived + " — " + c.waived_by + ")";
    out = open_case(c.id, c) + ">\n" +
          properties({{c.waived.empty() ? "smtpkit.below-fail-on" : "smtpkit.waived", why + ": " + c.reason}});
    out += "      <system-out>" + xml_escape(why + ": " + detail) + dialogue + "</system-out>\n";
  }
  return out + "    </testcase>\n";
}

// A replay's replies compared with the recording's.
std::string replies_case(const report_case& c, counters& n) {
  std::string out = open_case(c.id, c);
  if (c.mismatches.empty()) return out + "/>\n";
  ++n.failures;
  std::string body;
  for (const auto& m : c.mismatches)
    body += xml_escape(fmt::format("{}:{}: reply differs: expected {}, received {}", c.file, m.line, m.expected,
                                   detail::one_line(m.received))) +
            "\n";
  return out + fmt::format(">\n      <failure message=\"{}\" type=\"replay\">{}</failure>\n    </testcase>\n",
                           xml_escape(c.reason), body);
}

std::string suite_xml(const report& r, const report_suite& s, const report_options& o, counters& total) {
  counters n;
  std::string cases;
  const session_report* d = s.dialogue == no_dialogue ? nullptr : &r.dialogues[s.dialogue];
  if (d != nullptr && d->unreadable) {
    n.tests = n.errors = 1;
    cases = fmt::format(
        "    <testcase name=\"read\" classname=\"smtpkit.transcript\" time=\"0\">\n"
        "      <error message=\"{}\" type=\"unreadable\"/>\n"
        "    </testcase>\n",
        xml_escape(d->error.to_string()));
  }
  for (const auto& c : s.cases) {
    ++n.tests;
    switch (c.kind) {
      case case_kind::rule: cases += rule_case(c, r.dialogues[c.dialogue], o, n); break;
      case case_kind::scenario: cases += scenario_case(r, c, o, n); break;
      case case_kind::replies: cases += replies_case(c, n); break;
    }
  }
  total.add(n);
  return fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n{}  "
      "</testsuite>\n",
      xml_escape(s.name), n.tests, n.failures, n.errors, n.skipped, detail::seconds(s.elapsed), cases);
}

}  // namespace

std::string xml_escape(std::string_view in) {
  const std::string s = detail::safe(in);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters.
    if (c == '\xEF' && i + 2 < s.size() && s[i + 1] == '\xBF' && (s[i + 2] == '\xBE' || s[i + 2] == '\xBF')) {
      out += '?';
      i += 2;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most C0 controls even as references.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

void write_junit(std::ostream& out, const report& r, const report_options& o) {
  counters total;
  std::string body;
  for (const auto& s : r.suites) body += suite_xml(r, s, o, total);
  const bool scenarios = r.kind == report_kind::scenarios;
  const std::string name = scenarios ? r.tool + " " + r.target.name : r.tool;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\"", xml_escape(name),
                     total.tests, total.failures, total.errors);
  if (scenarios) out << fmt::format(" skipped=\"{}\"", total.skipped);
  out << fmt::format(" time=\"{}\">\n", detail::seconds(r.elapsed)) << body << "</testsuites>\n";
}

}  // namespace smtpkit::conformance
