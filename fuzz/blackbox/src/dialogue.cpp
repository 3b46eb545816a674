// dialogue.cpp — a dialogue from the client side of a transcript, and back
// (smtpkit/fuzz/dialogue.hpp).

#include "smtpkit/fuzz/dialogue.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {

dialogue from_transcript(const transcript& t) {
  dialogue d;
  bool open = false;           // the last write may take the next client record
  std::uint32_t pause_ms = 0;  // to put on the next write
  for (const record& r : t.records) {
    if (r.kind == record_kind::directive) {
      if (r.name == "tls") break;
      if (r.name == "pause") {
        auto ms = mock::parse_duration(r.args);
        std::uint64_t v = ms ? static_cast<std::uint64_t>(ms->count()) : 0;
        pause_ms = static_cast<std::uint32_t>(v > 60000 ? 60000 : v);
        open = false;
      }
      continue;
    }
    if (r.who == side::server) {
      open = false;  // the client waited for this reply
      continue;
    }
    if (!r.sends()) continue;  // C~: a pattern is what a client is expected to send
    std::string b = r.bytes();
    if (b.empty()) continue;
    if (open && !d.writes.empty()) {
      d.writes.back().bytes += b;
    } else {
      d.writes.push_back({std::move(b), pause_ms});
      pause_ms = 0;
      open = true;
    }
  }
  return d;
}

std::string to_transcript_text(const dialogue& d) {
  std::string out;
  bool first = true;
  for (const write& w : d.writes) {
    // Two writes in a row are two sends only when something stands
    // between them: a pause, however short.
    if (!first || w.pause_ms != 0) out += "@pause " + std::to_string(w.pause_ms) + "ms\n";
    first = false;
    transcript_writer tw;
    tw.sent(side::client, w.bytes);
    tw.flush();
    out += tw.str();
  }
  return out;
}

}  // namespace smtpkit::fuzz
