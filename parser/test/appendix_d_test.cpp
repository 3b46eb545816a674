// appendix_d_test.cpp — the example dialogues of RFC 5321 Appendix D
// (corpus/dialogues/rfc5321-*.smtp) parse clean: every command, every reply,
// the greeting, the EHLO response, and the mail data.
#include "smtpkit/smtpkit.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace smtpkit {
namespace {

struct sink {
  std::string content;
  std::vector<data_anomaly> anomalies;
  void body(std::string_view s) { content.append(s); }
  void anomaly(data_anomaly a, std::uint64_t) { anomalies.push_back(a); }
};

// Check one side's octets with the grammar; returns the first problem.
std::string check_client(const std::string& wire) {
  line_framer f(512);
  std::string_view rest = wire;
  bool in_data = false;
  data_decoder dec;
  sink s;
  while (!rest.empty()) {
    if (in_data) {
      auto r = dec.feed(rest, s);
      rest.remove_prefix(r.consumed);
      if (!r.done) return "DATA not terminated";
      if (!s.anomalies.empty()) return "DATA anomaly " + std::string(to_string(s.anomalies[0]));
      in_data = false;
      continue;
    }
    auto l = f.next(rest);
    if (l.status != line_status::line) return "line framing failed";
    rest.remove_prefix(l.consumed);
    if (l.diag) return std::string(l.diag.rule());
    auto c = parse_command(l.line);
    if (!c.ok()) return std::string(l.line) + ": " + std::string(c.diag.rule());
    if (c.cmd.kind == verb::data) in_data = true;
  }
  return {};
}

std::string check_server(const std::string& wire) {
  line_framer f(512);
  std::string_view rest = wire;
  reply_assembler a;
  std::string current;
  int replies = 0;
  while (!rest.empty()) {
    auto l = f.next(rest);
    if (l.status != line_status::line) return "line framing failed";
    rest.remove_prefix(l.consumed);
    auto st = a.feed(l.line, l.ending);
    if (st.diag) return std::string(l.line) + ": " + std::string(st.diag.rule());
    current += std::string(l.line) + "\r\n";
    if (!st.complete) continue;
    std::string_view text(current);
    text.remove_suffix(2);
    if (replies == 0) {
      auto g = parse_greeting(text);
      if (!g.ok()) return "greeting: " + std::string(g.diag.rule());
    } else if (replies == 1) {
      auto e = parse_ehlo_reply(text);
      if (!e.ok()) return "EHLO reply: " + std::string(e.diag.rule());
    } else {
      auto r = parse_reply(text);
      if (!r.ok()) return std::string(r.diag.rule());
    }
    ++replies;
    current.clear();
  }
  return {};
}

TEST(appendix_d, example_dialogues_parse_clean) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator("corpus/dialogues")) {
    if (e.path().filename().string().rfind("rfc5321-", 0) != 0) continue;
    SCOPED_TRACE(e.path().string());
    auto t = read_transcript_file(e.path().string());
    ASSERT_TRUE(t.ok()) << t.error.to_string();
    EXPECT_EQ(check_client(t.value->bytes(side::client)), "");
    EXPECT_EQ(check_server(t.value->bytes(side::server)), "");
    ++files;
  }
  EXPECT_EQ(files, 5);
}

TEST(appendix_d, d1_message_content_is_unstuffed) {
  auto t = read_transcript_file("corpus/dialogues/rfc5321-d1-typical.smtp");
  ASSERT_TRUE(t.ok());
  std::string client = t.value->bytes(side::client);
  auto at = client.find("DATA\r\n") + 6;
  data_decoder dec;
  sink s;
  auto r = dec.feed(std::string_view(client).substr(at), s);
  EXPECT_TRUE(r.done);
  // "C: ...etc. etc. etc." is a stuffed line: its content starts with "..".
  EXPECT_EQ(s.content, "Blah blah blah...\r\n..etc. etc. etc.\r\n");
}

}  // namespace
}  // namespace smtpkit
