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

std::string open_case(const report_case& c) {
  return fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", xml_escape(c.id), xml_escape(c.classname),
                     detail::seconds(c.elapsed));
}

// A rule over a dialogue: a failure lists every finding that counts, the
// others are notes.
std::string rule_case(const report_case& c, const session_report& d, const report_options& o, counters& n) {
  std::string failures, notes;
  const finding* first = nullptr;
  for (std::size_t i : c.findings) {
    const finding& f = d.findings[i];
    const std::string where = fmt::format("{}:{}", d.source, f.line);
    if (counts(f.r().lvl, o.fail_on)) {
      if (first == nullptr) first = &f;
      failures += xml_escape(detail::finding_line(where, f) + (f.excerpt.empty() ? "" : "\n    " + f.excerpt)) + "\n";
    } else {
      notes += xml_escape(fmt::format("{}: {} {}: {}", where, to_string(f.r().lvl), f.r().id, f.message)) + "\n";
    }
  }
  std::string out = open_case(c);
  if (c.findings.empty()) return out + "/>\n";
  out += ">\n";
  if (first != nullptr) {
    ++n.failures;
    out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                       xml_escape(fmt::format("{}:{}: {}: {}", d.source, first->line, first->r().id, first->message)),
                       to_string(first->r().lvl), failures);
  }
  if (!notes.empty()) out += "      <system-out>" + notes + "</system-out>\n";
  return out + "    </testcase>\n";
}

// A scenario: why it failed (title, reason, mismatches, the findings it
// checks), with its dialogue in <system-out>.
std::string scenario_case(const report& r, const report_case& c, const report_options& o, counters& n) {
  std::string out = open_case(c);
  if (c.result == outcome::pass) return out + "/>\n";
  out += ">\n";
  std::string detail = c.title + "\n" + c.reason + "\n";
  for (const auto& m : c.mismatches)
    detail += fmt::format("{}:{}: expected {}, received {}\n", c.file, m.line, m.expected, m.received);
  const session_report* d = c.dialogue == no_dialogue ? nullptr : &r.dialogues[c.dialogue];
  if (d != nullptr)
    for (std::size_t i : c.findings)
      detail += detail::finding_line(fmt::format("dialogue:{}", d->findings[i].line), d->findings[i]) + "\n";
  const std::string dialogue = d != nullptr ? xml_escape(d->transcript) : std::string();
  if (c.result == outcome::not_applicable) {
    ++n.skipped;
    out += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(c.reason));
  } else if (c.result == outcome::error) {
    ++n.errors;
    out += fmt::format("      <error message=\"{}\" type=\"error\">{}</error>\n", xml_escape(c.reason), xml_escape(detail));
    out += "      <system-out>" + dialogue + "</system-out>\n";
  } else if (detail::counted(c, o.fail_on)) {
    ++n.failures;
    out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xml_escape(c.reason),
                       to_string(c.failed_level), xml_escape(detail));
    out += "      <system-out>" + dialogue + "</system-out>\n";
  } else {
    // A failure below --fail-on: reported, not failing the build.
    out += "      <system-out>" +
           xml_escape(fmt::format("FAIL ({}, below --fail-on): {}", to_string(c.failed_level), detail)) + dialogue +
           "</system-out>\n";
  }
  return out + "    </testcase>\n";
}

// A replay's replies compared with the recording's.
std::string replies_case(const report_case& c, counters& n) {
  std::string out = open_case(c);
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
  return fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n{}  </testsuite>\n",
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
  out << fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\"", xml_escape(name), total.tests,
                     total.failures, total.errors);
  if (scenarios) out << fmt::format(" skipped=\"{}\"", total.skipped);
  out << fmt::format(" time=\"{}\">\n", detail::seconds(r.elapsed)) << body << "</testsuites>\n";
}

}  // namespace smtpkit::conformance
