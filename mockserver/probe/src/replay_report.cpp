// replay_report.cpp — a replay as the report model (smtpkit/mock/probe/replay.hpp).
#include "smtpkit/mock/probe/replay.hpp"

namespace smtpkit::mock {

conformance::report make_replay_report(driver_result r, const client_target& target, const replay_report_options& o) {
  r.report.transcript = r.transcript;
  r.report.elapsed = r.elapsed;
  conformance::report out = conformance::dialogues_report({std::move(r.report)}, "smtpkit replay");
  out.target.name = target.describe();
  out.target.greeting = r.greeting;
  out.target.ehlo = r.ehlo;
  out.target.tls = r.tls;

  conformance::report_case c;
  c.kind = conformance::case_kind::replies;
  c.id = "replay.replies";
  c.classname = "smtpkit.replay";
  c.file = o.recording;
  c.reason = r.reason;
  switch (r.status) {
    case run_status::completed: c.result = conformance::outcome::pass; break;
    case run_status::failed: c.result = conformance::outcome::fail; break;
    case run_status::not_applicable: c.result = conformance::outcome::not_applicable; break;
    case run_status::error: c.result = conformance::outcome::error; break;
  }
  for (const auto& e : r.expectations)
    if (!e.ok) c.mismatches.push_back({e.line, e.expected, e.received, e.recorded});
  c.dialogue = 0;
  c.compared = r.expectations.size();
  c.exact = o.exact;
  c.saved = o.saved;
  c.elapsed = r.elapsed;

  conformance::report_suite replies;
  replies.name = o.recording + " (replies)";
  replies.elapsed = r.elapsed;
  replies.cases.push_back(std::move(c));
  out.suites.push_back(std::move(replies));
  return out;
}

}  // namespace smtpkit::mock
