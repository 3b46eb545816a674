// cli/verbs.hpp — each verb of the smtpkit binary registers itself here.
// A verb adds its subcommand, its flags, and the function to run once the
// command line parsed. Exit status: 0 holds, 1 violations, 2 usage/setup.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace smtpkit::cli {

using runner = std::function<int()>;

/// Registers a verb; `run` is set to the verb's action when it is chosen.
using verb_setup = void (*)(CLI::App& app, runner& run);

void add_parse(CLI::App& app, runner& run);
void add_check(CLI::App& app, runner& run);
void add_rules(CLI::App& app, runner& run);
void add_serve(CLI::App& app, runner& run);
void add_record(CLI::App& app, runner& run);
void add_replay(CLI::App& app, runner& run);
void add_probe(CLI::App& app, runner& run);
void add_report(CLI::App& app, runner& run);
void add_script(CLI::App& app, runner& run);
void add_fuzz(CLI::App& app, runner& run);

/// Data that ships with smtpkit: SOURCE_REL below the source tree (a build
/// tree's binary), else INSTALLED_REL below the installed data folder;
/// "" when neither exists. Relative to the working directory when below it.
std::string builtin_data(const std::string& source_rel, const std::string& installed_rel);

/// Exit statuses shared by every verb.
enum exit_code : int { exit_ok = 0, exit_violations = 1, exit_usage = 2 };

}  // namespace smtpkit::cli
