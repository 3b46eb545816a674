// cli/report_io.hpp — shared report options of the verbs that judge
// (check, replay, probe, serve): --format, --output, --fail-on, colour.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "smtpkit/conformance/policy.hpp"
#include "smtpkit/conformance/report.hpp"

namespace smtpkit::cli {

/// Waivers and levels (conformance/policy.hpp): every verb that judges.
struct policy_flags {
  std::vector<std::string> ignore;  ///< --ignore RULE (globs)
  std::vector<std::string> levels;  ///< --level RULE=LEVEL
  std::string config;               ///< --config FILE; "" finds .smtpkit.yaml upwards
  bool no_config = false;
};

struct report_flags {
  std::string format = "text";
  std::string output = "-";
  std::string fail_on = "must";
  std::string color = "auto";
  policy_flags policy;
};

/// Adds --ignore, --level, --config and --no-config to a subcommand.
void add_policy_flags(CLI::App* sub, policy_flags& f);

/// Adds --format, --output, --fail-on, --color and the policy flags.
/// `fuzz`: --fail-on also takes crash and hang (the fuzzers' oracles), and
/// the policy flags are left out (a fuzzer's findings are its own files).
void add_report_flags(CLI::App* sub, report_flags& f, bool fuzz = false);

/// The policy of --ignore, --level and the config file (--config, or the
/// nearest .smtpkit.yaml above the working directory, unless --no-config).
/// False, with one line on stderr ("TOOL: FILE:LINE: ..."), when it cannot be used.
bool load_policy(const policy_flags& f, const std::string& tool, conformance::policy& out);

/// Opens --output (standard output for "-"), lets `write` render into it and
/// checks that everything was written; false, with one line on stderr
/// ("TOOL: cannot write FILE"), when it could not be.
bool write_output(const report_flags& f, const std::string& tool, const std::function<void(std::ostream&)>& write);

/// Colour for this report: text reports only, per --color and NO_COLOR.
bool report_color(const report_flags& f);

/// Writes the report in --format where --output says; returns false
/// (message on stderr) when the output cannot be written.
bool emit_report(const report_flags& f, const conformance::report& r);

conformance::level fail_level(const report_flags& f);

/// Colour only on a terminal, never with NO_COLOR set (no-color.org).
bool want_color(const std::string& mode, bool to_stdout);

}  // namespace smtpkit::cli
