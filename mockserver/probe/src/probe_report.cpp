// probe_report.cpp — a probe run as the report model (conformance/report.hpp):
// one suite per scenario group, in the order its first scenario appears;
// one case per scenario with its verdict, the findings of its @checks
// rules, the replies that differed, the end-of-data outcome of @smuggle,
// and its dialogue. The writers of the model render it.
#include <algorithm>

#include "smtpkit/mock/probe/probe.hpp"

namespace smtpkit::mock {
namespace {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

conformance::report_case scenario_case(scenario_result& s, std::size_t dialogue) {
  conformance::report_case c;
  c.kind = conformance::case_kind::scenario;
  c.id = s.id;
  c.title = s.title;
  c.classname = "smtpkit.probe." + lower(s.group);
  c.file = s.file;
  c.rfc = s.rfc;
  c.checks = s.checks;
  c.lvl = s.level;
  c.result = s.v;
  c.failed_level = s.failed_level;
  c.reason = s.reason;
  for (const auto& e : s.run.expectations)
    if (!e.ok) c.mismatches.push_back({e.line, e.expected, e.received});
  if (const auto& sm = s.run.smuggle)
    c.eod = conformance::eod_result{sm->variant, std::string(to_string(sm->outcome)), sm->codes, sm->detail};
  c.dialogue = dialogue;
  c.findings = s.checked;
  c.tls = s.run.tls;
  c.elapsed = s.run.elapsed;
  return c;
}

}  // namespace

conformance::report make_report(probe_result r, std::string tool) {
  conformance::report out;
  out.kind = conformance::report_kind::scenarios;
  out.tool = std::move(tool);
  out.target = {r.target, r.greeting, r.ehlo, r.tls, r.unreachable, r.unreachable_reason};
  out.elapsed = r.elapsed;
  for (auto& s : r.results) {
    auto suite = std::find_if(out.suites.begin(), out.suites.end(), [&](const auto& g) { return g.name == s.group; });
    if (suite == out.suites.end()) {
      out.suites.push_back({});
      suite = out.suites.end() - 1;
      suite->name = s.group;
    }
    // Scenarios run side by side: a group's time is the sum of its scenarios'.
    suite->elapsed += s.run.elapsed;
    s.run.report.transcript = std::move(s.run.transcript);
    out.dialogues.push_back(std::move(s.run.report));
    suite->cases.push_back(scenario_case(s, out.dialogues.size() - 1));
  }
  return out;
}

}  // namespace smtpkit::mock
