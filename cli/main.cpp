// cli/main.cpp — the smtpkit binary: verbs in the git style, --help on each.
// Only verbs that work are registered.
#include <cstdio>
#include <iostream>

#include "verbs.hpp"

int main(int argc, char** argv) {
  using namespace smtpkit::cli;
  CLI::App app{
      "smtpkit — SMTP protocol test harness and fuzzing suite (RFC 5321 and extensions).\n"
      "Exit status: 0 holds, 1 violations found, 2 usage or setup error.",
      "smtpkit"};
  app.set_version_flag("--version", "smtpkit 0.1.0");
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  runner run;
  for (verb_setup setup :
       {add_parse, add_check, add_rules, add_serve, add_record, add_replay, add_probe, add_fuzz, add_report, add_script})
    setup(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  if (!run) return exit_usage;
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << "smtpkit: " << e.what() << "\n";
    return exit_usage;
  }
}
