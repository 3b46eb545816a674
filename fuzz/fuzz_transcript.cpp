// fuzz/fuzz_transcript.cpp — libFuzzer target for the dialogue format v1
// (docs/dialogue-format.md; transcript.hpp): read_transcript,
// transcript_writer and format_record.
//
// Byte 0: bit 0 accept pattern records, bit 1 accept other directives; the
// rest is the transcript text. Invariants: an error names a line that exists
// and a column within it (or just after it); a transcript that reads, written again from the
// octets each side sent (transcript_writer) and read back, gives the same
// octets per side in the same order, with the same directives between them;
// each record printed by format_record reads back as the same record;
// drain() after every record adds up to what take() gives at once.
// Limit: comments and line numbers are not compared (they do not round-trip
// by design).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/transcript.hpp"

namespace {

using namespace smtpkit;

// What a transcript means on the wire: each side's octets in order, with
// directives where they stand. Adjacent sends of one side merge, since the
// writer may cut them differently.
struct step {
  bool directive;
  side who;
  std::string bytes;  // octets sent, or the directive's text
  bool operator==(const step&) const = default;
};

std::vector<step> meaning(const transcript& t) {
  std::vector<step> out;
  for (const record& r : t.records) {
    if (r.kind == record_kind::pattern) continue;
    if (r.kind == record_kind::directive) {
      out.push_back({true, side::client, r.name + " " + r.args});
      continue;
    }
    std::string b = r.bytes();
    if (b.empty()) continue;
    if (!out.empty() && !out.back().directive && out.back().who == r.who) out.back().bytes += b;
    else out.push_back({false, r.who, std::move(b)});
  }
  return out;
}

// `text` is compared for patterns only: elsewhere it is the escaped form,
// which printing may spell differently ("\x41" becomes "A").
bool same_record(const record& a, const record& b) {
  return a.kind == b.kind && a.who == b.who && a.payload == b.payload && a.name == b.name && a.args == b.args &&
         (a.kind != record_kind::pattern || a.text == b.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::owned_input owned(data + 1, size - 1);
  const std::string_view in = owned.view();
  read_options opts;
  opts.patterns = (data[0] & 1) != 0;
  opts.extensions = (data[0] & 2) != 0;

  read_result r = read_transcript(in, "fuzz", opts);
  if (!r.ok()) {
    // The error names a line of the input and a column within it (or just
    // after its end).
    std::size_t start = 0;
    for (std::size_t n = 1; n < r.error.line; ++n) {
      start = in.find('\n', start);
      SMTPKIT_FUZZ_CHECK(r.error.line >= 1 && start != std::string_view::npos);
      ++start;
    }
    std::string_view line = in.substr(start, in.find('\n', start) - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    SMTPKIT_FUZZ_CHECK(r.error.column <= line.size() + 1);
    SMTPKIT_FUZZ_CHECK(!r.error.message.empty());
    const std::string where = r.error.to_string();
    SMTPKIT_FUZZ_CHECK(where.compare(0, 5, "fuzz:") == 0 && where.find(r.error.message) != std::string::npos);
    return 0;
  }
  const transcript& t = *r.value;

  // Written again from the octets each side sent, then read back.
  transcript_writer w;
  w.comment("written again");
  for (const record& rec : t.records) {
    SMTPKIT_FUZZ_CHECK(!to_string(rec.who).empty());
    if (rec.sends()) w.sent(rec.who, rec.bytes());
    else if (rec.kind != record_kind::directive) continue;
    else if (rec.name == "tls") w.tls();
    else if (rec.name == "close") w.close(rec.who);
    else w.directive(rec.name, rec.args);
  }
  SMTPKIT_FUZZ_CHECK(w.str().size() >= 16);  // the comment, at least
  const std::string written = w.take();
  // Drained record by record, a second writer writes the same text.
  transcript_writer w2;
  std::string drained;
  w2.comment("written again");
  for (const record& rec : t.records) {
    if (rec.sends()) w2.sent(rec.who, rec.bytes());
    else if (rec.kind == record_kind::directive) w2.directive(rec.name, rec.args);
    drained += w2.drain();
  }
  SMTPKIT_FUZZ_CHECK(drained + w2.take() == written);
  read_result again = read_transcript(written, "written", opts);
  SMTPKIT_FUZZ_CHECK(again.ok());
  SMTPKIT_FUZZ_CHECK(meaning(*again.value) == meaning(t));
  SMTPKIT_FUZZ_CHECK(again.value->bytes(side::client) == t.bytes(side::client));
  SMTPKIT_FUZZ_CHECK(again.value->bytes(side::server) == t.bytes(side::server));

  // Each record printed alone reads back as itself.
  std::string printed;
  for (const record& rec : t.records) printed.append(format_record(rec)).append("\n");
  read_result third = read_transcript(printed, "printed", opts);
  SMTPKIT_FUZZ_CHECK(third.ok() && third.value->records.size() == t.records.size());
  for (std::size_t i = 0; i < t.records.size(); ++i)
    SMTPKIT_FUZZ_CHECK(same_record(third.value->records[i], t.records[i]));
  return 0;
}
