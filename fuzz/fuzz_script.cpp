// fuzz/fuzz_script.cpp — libFuzzer target for the script loader
// (mockserver/script/: script.hpp, pattern.hpp): the dialogue
// format's records, pattern records (C~/S~ with {*}, {name}, {re:...}) and
// @ directives, as `smtpkit serve --script` and `smtpkit probe` read them.
//
// Input: byte 0 bit 0 says which side the script plays (0 server, 1
// client); the rest is the script text.
// Invariants: loading is deterministic (twice gives the same verdict, line,
// column and message); an error names a line that exists (or the one just
// after the last, for a block left open) and a column within it or just
// after it, and never an empty message; a loaded script's steps and rules
// name lines that exist; every pattern it holds matches or refuses any line
// without failing (tried on its own text, on the input's first line and on
// the empty line), and substitute() on its text with the captures of a match
// gives a string. Generalising a server script gives one that loads
// (generalize.hpp); a line matches itself as a C: record, and whether two
// lines match does not depend on their order (command_match.hpp); the
// input's lines, as the records of a message, compare equal to themselves
// sent as mail data, with nothing noted as varied (message_match.hpp).
// Limits: nothing is sent or received (the server's use of a script has its
// tests in mockserver/script/test and scripts/tests); inputs over 64 KiB are
// skipped.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/mock/script/command_match.hpp"
#include "smtpkit/mock/script/generalize.hpp"
#include "smtpkit/mock/script/message_match.hpp"
#include "smtpkit/mock/script/script.hpp"

namespace {

using namespace smtpkit;
using namespace smtpkit::mock;

struct verdict {
  bool ok;
  std::size_t line;
  std::size_t column;
  std::string message;
  bool operator==(const verdict&) const = default;
};

verdict verdict_of(const load_result& r) {
  if (const auto* e = std::get_if<script_error>(&r)) return {false, e->line, e->column, e->message};
  return {true, 0, 0, {}};
}

void exercise(const pattern& p, std::string_view first_line, const std::vector<std::string>& names) {
  for (std::string_view line : {std::string_view(p.text()), first_line, std::string_view()}) {
    captures got;
    if (p.match(line, &got)) {
      for (const auto& [name, value] : got) SMTPKIT_FUZZ_CHECK(find_capture(got, name) != nullptr);
      (void)substitute(p.text(), got, names);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 65536) return 0;
  const smtpkit::fuzz::owned_input in(data, size);
  const side plays = (in.view()[0] & 1) ? side::client : side::server;
  const std::string_view text = in.view().substr(1);

  const load_result r = load_script(text, "fuzz.smtp", plays);
  SMTPKIT_FUZZ_CHECK(verdict_of(load_script(text, "fuzz.smtp", plays)) == verdict_of(r));

  // Lines as the loader counts them: split at LF; a last line without LF
  // counts too.
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(at));
      break;
    }
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  const std::string_view first = lines.empty() ? std::string_view() : lines.front();

  SMTPKIT_FUZZ_CHECK(match_command(first, first, true) == command_match::exact);
  if (lines.size() >= 2)
    for (bool sizes : {true, false})
      SMTPKIT_FUZZ_CHECK((match_command(lines[0], lines[1], sizes) == command_match::differ) ==
                         (match_command(lines[1], lines[0], sizes) == command_match::differ));
  {
    std::vector<expected_record> records;
    std::string message;
    for (std::size_t k = 0; k < lines.size() && k < 200; ++k) {
      records.push_back({std::string(lines[k]) + "\r\n", nullptr, k + 1});
      message += records.back().bytes;
    }
    for (bool strict : {false, true}) {
      message_rules rules;
      rules.strict = strict;
      const message_verdict v = compare_message(records, message, true, rules);
      SMTPKIT_FUZZ_CHECK(v.same && v.varied.empty());
    }
  }

  if (const auto* e = std::get_if<script_error>(&r)) {
    SMTPKIT_FUZZ_CHECK(!e->message.empty());
    SMTPKIT_FUZZ_CHECK(e->line <= lines.size() + 1);
    if (e->line >= 1 && e->line <= lines.size() && e->column > 0)
      SMTPKIT_FUZZ_CHECK(e->column <= lines[e->line - 1].size() + 1);
    SMTPKIT_FUZZ_CHECK(e->to_string().rfind("fuzz.smtp:", 0) == 0);
    return 0;
  }

  const script& s = std::get<script>(r);
  SMTPKIT_FUZZ_CHECK(s.plays == plays);
  if (plays == side::server) {
    const auto g = generalize(text, "fuzz.smtp");
    if (const auto* ok = std::get_if<generalized>(&g))
      SMTPKIT_FUZZ_CHECK(std::holds_alternative<script>(load_script(ok->text, "fuzz.smtp", side::server)));
  }
  auto check_steps = [&](const std::vector<step>& steps) {
    for (const step& st : steps) {
      SMTPKIT_FUZZ_CHECK(st.line <= lines.size());
      if (st.pat) exercise(*st.pat, first, s.capture_names);
    }
  };
  for (const auto& [session, steps] : s.dialogues) check_steps(steps);
  for (const rule_def& rule : s.rules) {
    SMTPKIT_FUZZ_CHECK(rule.line <= lines.size());
    if (rule.pat) exercise(*rule.pat, first, s.capture_names);
    check_steps(rule.body);
  }
  return 0;
}
