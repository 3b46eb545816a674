// dialogues_test.cpp — the recorded dialogues of corpus/dialogues (RFC 5321
// Appendix D and real sessions of curl, swaks, msmtp, s-nail and smtplib
// against aiosmtpd and exim) check clean: nothing at MUST or SHOULD level.
//
// The exceptions are real software that really breaks a rule; each is
// listed with exactly the rules it breaks and why, and the same list is in
// docs/reports.md ("Known findings on real software"). A new finding on a
// recorded dialogue fails here until someone decides whether the peer or the
// engine is wrong. ADVICE findings (what a dialogue alone cannot judge) are
// allowed everywhere.
#include "smtpkit/conformance/check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace smtpkit::conformance {
namespace {

namespace fs = std::filesystem;

struct known {
  const char* file;
  std::set<std::string> rules;
  const char* why;
};

const known known_findings[] = {
    {"real-curl-exim.smtp",
     {"server.ehlo.keyword-unregistered"},
     "Exim 4.96 advertises PIPECONNECT, defined only by the expired draft-harris-early-pipe and not registered "
     "(RFC 5321 §2.2.2: a keyword without X- MUST be a registered extension)"},
    {"real-msmtp-exim.smtp", {"server.ehlo.keyword-unregistered"}, "Exim 4.96 advertises PIPECONNECT (as above)"},
    {"real-smtplib-exim.smtp", {"server.ehlo.keyword-unregistered"}, "Exim 4.96 advertises PIPECONNECT (as above)"},
    {"real-swaks-exim.smtp", {"server.ehlo.keyword-unregistered"}, "Exim 4.96 advertises PIPECONNECT (as above)"},
    {"real-curl-exim-lf.smtp",
     {"server.ehlo.keyword-unregistered", "client.data.bare-lf"},
     "PIPECONNECT as above; curl 7.88 sends a message file with LF line ends as it is, bare LF in the mail data "
     "(RFC 5321 §2.3.8: a client MUST send line ends only as CRLF)"},
    // Recorded for the audit of the catalogue; corpus/dialogues/README.md quotes the RFC for each.
    {"real-curl-exim-expn.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-curl-exim-help.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-curl-exim-starttls.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-msmtp-exim-starttls.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-smtplib-exim-bdat.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-smtplib-exim-starttls-auth.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-smtplib-exim-vrfy-expn-help.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-swaks-exim-auth-cram-md5.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-swaks-exim-auth-login.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-swaks-exim-pipelining.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-swaks-exim-starttls.smtp", {"server.ehlo.keyword-unregistered"}, "PIPECONNECT (as above)"},
    {"real-s-nail-exim-starttls.smtp",
     {"server.ehlo.keyword-unregistered", "client.starttls.ehlo-first"},
     "PIPECONNECT as above; s-nail 14.9 says HELO, not EHLO, as its first command inside TLS (RFC 3207 §4.2: "
     "\"The client SHOULD send an EHLO command as the first command after a successful TLS negotiation.\")"},
    {"real-smtplib-aiosmtpd-vrfy-expn-help.smtp",
     {"server.reply.unexpected-code"},
     "aiosmtpd 1.4.3 answers HELP with 250, a code §4.3.2 does not list for HELP (211, 214; §4.3.1: \"These SHOULD "
     "be strictly adhered to.\")"},
    {"real-curl-smtp-sink.smtp",
     {"server.reply.text", "server.esc.missing"},
     "smtp-sink ends its EHLO response with \"250 \" and nothing after the SP: textstring = 1*(%d09 / %d32-126) "
     "and ehlo-line needs a keyword (RFC 5321 §4.2, §4.1.1.1); it advertises ENHANCEDSTATUSCODES there and answers "
     "QUIT \"221 Bye\" without a status code (RFC 2034 §4)"},
    {"real-swaks-smtp-sink.smtp",
     {"server.reply.text", "server.esc.missing"},
     "smtp-sink's empty last EHLO line and its 221 without a status code (as above)"},
    {"real-curl-smtpkit-helo-fallback.smtp",
     {"server.ehlo.unsupported"},
     "the recording's smtpkit serve script answers EHLO 502 on purpose, to record the client's HELO fallback "
     "(RFC 5321 §2.2.1: \"servers MUST support the EHLO command\")"},
    {"real-smtplib-smtpkit-helo-fallback.smtp", {"server.ehlo.unsupported"}, "EHLO 502 by the script (as above)"},
    {"real-swaks-smtpkit-helo-fallback.smtp", {"server.ehlo.unsupported"}, "EHLO 502 by the script (as above)"},
};

const known* known_for(const std::string& name) {
  for (const auto& k : known_findings)
    if (name == k.file) return &k;
  return nullptr;
}

TEST(recorded_dialogues, check_clean_or_as_known) {
  const fs::path dir = fs::path(SMTPKIT_SOURCE_DIR) / "corpus" / "dialogues";
  std::set<std::string> seen_files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".smtp") continue;
    const std::string name = e.path().filename().string();
    seen_files.insert(name);
    auto t = read_transcript_file(e.path().string());
    if (!t.ok()) {
      ADD_FAILURE_AT(e.path().c_str(), static_cast<int>(t.error.line)) << t.error.to_string();
      continue;
    }
    const session_report r = check_transcript(*t.value);
    const known* k = known_for(name);
    std::set<std::string> found;
    for (const auto& f : r.findings) {
      if (f.r().lvl == level::advice || f.r().lvl == level::may) continue;
      found.insert(f.r().id);
      if (!k || !k->rules.count(f.r().id))
        ADD_FAILURE_AT(e.path().c_str(), static_cast<int>(f.line))
            << to_string(f.r().lvl) << " " << f.r().id << ": " << f.message
            << " — a recorded dialogue must check clean: fix the engine, or list the file in known_findings and "
               "docs/reports.md if the peer really breaks the rule";
    }
    if (k)
      for (const auto& id : k->rules)
        EXPECT_TRUE(found.count(id)) << name << " is listed as breaking " << id << " (" << k->why
                                     << ") but no longer does: update known_findings and docs/reports.md";
  }
  for (const auto& k : known_findings)
    EXPECT_TRUE(seen_files.count(k.file)) << k.file << " is listed but not in " << dir;
}

// The server findings kept in corpus/findings (transcripts, replayed with
// `smtpkit replay`) each still give the rule their "# finding:" line names:
// a change to the engine that drops one must say why in the file.
TEST(kept_findings, still_found) {
  const fs::path dir = fs::path(SMTPKIT_SOURCE_DIR) / "corpus" / "findings";
  int transcripts = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".smtp") continue;
    std::ifstream in(e.path());
    std::string line, rule;
    bool replay = false;
    while (std::getline(in, line) && line.rfind("#", 0) == 0) {
      if (line.rfind("# finding: ", 0) == 0) rule = line.substr(11);
      if (line.rfind("# replay: smtpkit replay", 0) == 0) replay = true;
    }
    if (!replay) continue;  // a client finding: a server script, not a dialogue
    ++transcripts;
    ASSERT_FALSE(rule.empty()) << e.path() << " names no \"# finding:\" rule";
    auto t = read_transcript_file(e.path().string());
    ASSERT_TRUE(t.ok()) << t.error.to_string();
    bool found = false;
    for (const auto& f : check_transcript(*t.value).findings) found = found || f.r().id == rule;
    EXPECT_TRUE(found) << e.path() << " no longer gives " << rule;
  }
  EXPECT_GE(transcripts, 1);
}

}  // namespace
}  // namespace smtpkit::conformance
