// probe_report.cpp — a probe run as the report model (conformance/report.hpp):
// one suite per scenario group, in the order its first scenario appears;
// one case per scenario (judged in probe.cpp: its verdict, the findings of
// its @checks rules, the replies that differed, the end-of-data outcome of
// @smuggle) with its dialogue. The writers of the model render it.
#include <algorithm>

#include "smtpkit/mock/probe/probe.hpp"

namespace smtpkit::mock {

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
    s.verdict.dialogue = out.dialogues.size() - 1;
    suite->cases.push_back(std::move(s.verdict));
  }
  return out;
}

}  // namespace smtpkit::mock
