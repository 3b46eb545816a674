// smtpkit/mock/probe/probe.hpp — `smtpkit probe server`: a suite of scenario
// scripts (conformance/server/, and users' own folders) played one by one
// against a server by the client driver, each on its own connection.
//
// A scenario is the client side of one test dialogue with metadata:
//   @scenario ID  @title TEXT  @group NAME  @checks RULE-ID...
//   @requires KEYWORD|KEYWORD:PARAM|!KEYWORD...  @level must|should|may
//   @rfc SECTION  @timeout D  @on-close pass
// and it may send these values as {name}: helo, from, rcpt, rcpt2,
// rcpt_domain, relay (the scenario then runs once per --relay-domain),
// scenario (its ID), auth_user, auth_pass, auth_plain, auth_user_b64,
// auth_pass_b64 (need --auth), size_limit and size_over (from the EHLO
// response's SIZE).
//
// Verdicts: pass; fail (an expectation not met, a @smuggle outcome of
// "accepted-as-end-of-data", or a finding of a rule the scenario @checks);
// not applicable (@requires not met, a value it needs is missing); error
// (no connection, timeout, TLS failure). A failure has a level: the
// scenario's @level (or the strictest level of its @checks rules) for a
// mismatch, the rule's level for a finding. Findings of rules a scenario
// does not @check are kept as notes: every scenario says EHLO, and a
// problem with the EHLO response is the EHLO scenario's verdict.
//
// Limits: `jobs` scenarios run at once (a server limiting connections per
// client may refuse some: use --jobs 1); the first scenario runs alone, and
// if it cannot connect the suite stops (the target is unreachable).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "smtpkit/conformance/policy.hpp"
#include "smtpkit/conformance/report.hpp"
#include "smtpkit/conformance/rules.hpp"
#include "smtpkit/mock/client/driver.hpp"
#include "smtpkit/mock/script/script.hpp"

namespace smtpkit::mock {

struct scenario {
  std::string file;
  script s;
  conformance::level level = conformance::level::must;
  std::string rfc;  ///< @rfc, or the RFC sections of the @checks rules
};

struct suite {
  std::vector<scenario> scenarios;
  std::vector<std::string> errors;  ///< "file:line:col: message"
};

/// Every *.smtp under each folder (or each file named), sorted by path.
/// Checks the metadata: @scenario, @title and @group present, IDs unique,
/// @checks naming rules of the catalogue that bind `judged`, @level or
/// @checks present. Server scenarios (judged: the server) are played from
/// the client side and need a dialogue; client scenarios (judged: the
/// client) are played from the server side and may be @rule blocks alone.
suite load_suite(const std::vector<std::string>& paths, side judged = side::server);

/// "basics", "basics.greeting", "security.smuggling" (an ID prefix up to a dot).
bool selected(const scenario& sc, const std::vector<std::string>& only);

struct probe_options {
  driver_options base;  ///< target, timeouts, --starttls, helo
  std::string from = "probe@example.test";
  std::vector<std::string> rcpts{"rcpt@example.test"};
  std::vector<std::string> relay_domains{"example.net", "example.org"};
  std::optional<std::pair<std::string, std::string>> auth;  ///< user, password
  std::vector<std::string> only;
  /// Scenarios at once, each on its own connection (the first runs alone).
  std::size_t jobs = 4;
  std::function<void(const struct scenario_result&)> on_result;  ///< progress, as each ends (any order)
  conformance::policy policy;  ///< waivers and levels (--ignore, --level, .smtpkit.yaml)
};

struct scenario_result {
  std::string group;
  /// The scenario as reports show it: id ("[domain]" per relay instance),
  /// title, file, level, its verdict settled from its expectations and the
  /// findings of its @checks rules (indexes into run.report.findings), with
  /// the policy's waivers and levels applied.
  conformance::report_case verdict;
  driver_result run;
};

struct probe_result {
  std::string target;
  std::string greeting;
  std::vector<std::string> ehlo;
  std::string tls;
  std::vector<scenario_result> results;
  std::chrono::milliseconds elapsed{0};
  bool unreachable = false;
  std::string unreachable_reason;
};

probe_result run_probe(const suite& s, const probe_options& o);

/// The report of a probe run (conformance/report.hpp): one suite per
/// group, one case per scenario, each with its dialogue.
[[nodiscard]] conformance::report make_report(probe_result r, std::string tool = "smtpkit probe server");

}  // namespace smtpkit::mock
