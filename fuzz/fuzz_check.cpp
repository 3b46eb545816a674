// fuzz/fuzz_check.cpp — libFuzzer target for the conformance engine
// (conformance/engine.hpp, check.hpp) over a transcript: every rule of the
// catalogue, RFC 5321 §3–§4.5 and the extension RFCs it cites.
//
// Input: a transcript in the dialogue format v1 (docs/dialogue-format.md),
// as it stands, so recorded dialogues and the rule corpus are seeds. Text
// that does not read as a transcript ends the input (the transcript reader
// has its own target).
// Invariants: the same dialogue fed to the engine one record at a time, each
// side's turn in one piece, and one octet at a time gives the same findings
// (rule, side, offset, message, excerpt, transcript line) and the same
// counts of suppressed occurrences; every finding names a rule of the
// catalogue, an offset within its side's stream (the end included) and a
// line of the transcript (0 for findings made at the end); judging only the
// client (or only the server) gives exactly the findings of the rules that
// bind that side.
// Limits: engine options other than which side is judged keep their
// defaults; inputs over 64 KiB are skipped (five checks of each, one of them
// octet by octet, are slow under the sanitizers).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/conformance/check.hpp"
#include "smtpkit/transcript.hpp"

namespace {

using namespace smtpkit;
using namespace smtpkit::conformance;

using key = std::tuple<int, side, std::uint64_t, std::string, std::string, std::size_t>;

std::vector<key> keys(const session_report& r) {
  std::vector<key> out;
  out.reserve(r.findings.size());
  for (const finding& f : r.findings) out.emplace_back(f.rule, f.anchor, f.offset, f.message, f.excerpt, f.line);
  return out;
}

std::vector<key> only(const std::vector<key>& all, side binds) {
  std::vector<key> out;
  for (const key& k : all)
    if (catalogue()[static_cast<std::size_t>(std::get<0>(k))].binds == binds) out.push_back(k);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;
  const smtpkit::fuzz::owned_input in(data, size);
  const read_result rr = read_transcript(in.view(), "fuzz.smtp");
  if (!rr.ok()) return 0;
  const transcript& t = *rr.value;

  const session_report by_record = check_transcript(t, {}, feed_mode::record);
  const session_report by_turn = check_transcript(t, {}, feed_mode::coalesce);
  const session_report by_octet = check_transcript(t, {}, feed_mode::bytes);
  const std::vector<key> k = keys(by_record);
  SMTPKIT_FUZZ_CHECK(keys(by_turn) == k);
  SMTPKIT_FUZZ_CHECK(keys(by_octet) == k);
  SMTPKIT_FUZZ_CHECK(by_turn.suppressed == by_record.suppressed);
  SMTPKIT_FUZZ_CHECK(by_octet.suppressed == by_record.suppressed);
  SMTPKIT_FUZZ_CHECK(by_record.client_bytes == t.bytes(side::client).size());
  SMTPKIT_FUZZ_CHECK(by_record.server_bytes == t.bytes(side::server).size());

  std::size_t lines = 1;
  for (char c : in.view()) lines += c == '\n';
  for (const finding& f : by_record.findings) {
    SMTPKIT_FUZZ_CHECK(f.rule >= 0 && static_cast<std::size_t>(f.rule) < catalogue().size());
    SMTPKIT_FUZZ_CHECK(f.offset <= (f.anchor == side::client ? by_record.client_bytes : by_record.server_bytes));
    SMTPKIT_FUZZ_CHECK(f.line <= lines);
    SMTPKIT_FUZZ_CHECK(!f.message.empty());
  }

  // Judging one side alone drops the other side's rules and nothing else.
  engine_options client_only;
  client_only.judge_server = false;
  engine_options server_only;
  server_only.judge_client = false;
  SMTPKIT_FUZZ_CHECK(keys(check_transcript(t, client_only)) == only(k, side::client));
  SMTPKIT_FUZZ_CHECK(keys(check_transcript(t, server_only)) == only(k, side::server));
  return 0;
}
