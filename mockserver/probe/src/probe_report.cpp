// probe_report.cpp — a probe run (server or client) as the report model (conformance/report.hpp):
// one suite per scenario group, in the order its first scenario appears;
// one case per scenario (judged in probe.cpp or client_probe.cpp: its verdict, the findings of
// its @checks rules, the replies that differed, the end-of-data outcome of
// @smuggle) with its dialogue. The writers of the model render it.
#include <algorithm>

#include "smtpkit/mock/probe/client_probe.hpp"
#include "smtpkit/mock/probe/probe.hpp"

namespace smtpkit::mock {
namespace {

// One scenario's case under its group's suite (made in the order the
// groups first appear), with its dialogue. Scenarios run side by side: a
// group's time is the sum of its scenarios'.
void add_scenario(conformance::report& out, const std::string& group, conformance::report_case verdict,
                  conformance::session_report dialogue, std::chrono::milliseconds elapsed) {
  auto suite = std::find_if(out.suites.begin(), out.suites.end(), [&](const auto& g) { return g.name == group; });
  if (suite == out.suites.end()) {
    out.suites.push_back({});
    suite = out.suites.end() - 1;
    suite->name = group;
  }
  suite->elapsed += elapsed;
  out.dialogues.push_back(std::move(dialogue));
  verdict.dialogue = out.dialogues.size() - 1;
  suite->cases.push_back(std::move(verdict));
}

conformance::report scenario_report(std::string tool, std::chrono::milliseconds elapsed) {
  conformance::report out;
  out.kind = conformance::report_kind::scenarios;
  out.tool = std::move(tool);
  out.elapsed = elapsed;
  return out;
}

}  // namespace

conformance::report make_report(probe_result r, std::string tool) {
  conformance::report out = scenario_report(std::move(tool), r.elapsed);
  out.target = {r.target, r.greeting, r.ehlo, r.tls, r.unreachable, r.unreachable_reason};
  for (auto& s : r.results) {
    s.run.report.transcript = std::move(s.run.transcript);
    add_scenario(out, s.group, std::move(s.verdict), std::move(s.run.report), s.run.elapsed);
  }
  return out;
}

conformance::report make_report(client_probe_result r, std::string tool) {
  conformance::report out = scenario_report(std::move(tool), r.elapsed);
  out.target.name = r.target;
  out.target.unreachable = r.setup_failed;
  out.target.unreachable_reason = r.setup_error;
  for (auto& s : r.results) add_scenario(out, s.group, std::move(s.verdict), std::move(s.dialogue), s.elapsed);
  return out;
}

}  // namespace smtpkit::mock
