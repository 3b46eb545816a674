// driver_test.cpp — the client driver: how expectations group into
// replies and match them (RFC 5321 §4.2.1), @requires, the @smuggle
// classification (§4.1.1.4), and whole plays against small fake servers on
// 127.0.0.1 (threads with blocking sockets and timeouts): end-of-data
// variants, a close that counts as a refusal, @needs, timeouts, and findings
// mapped to the transcript's lines.
#include "reply_match.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "smtpkit/mock/client/driver.hpp"

namespace smtpkit::mock {
namespace {

using detail::received_reply;

script load(std::string_view text) {
  auto r = load_script(text, "t.smtp", side::client);
  EXPECT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  return std::get<script>(r);
}

bool match_first(const script& s, const received_reply& r, reply_compare mode = reply_compare::script) {
  const auto& steps = *s.dialogue_for(1);
  captures c;
  return detail::matches(steps, 0, detail::group_end(steps, 0), r, mode, c);
}

TEST(client_driver, a_pattern_stands_for_a_whole_reply) {
  received_reply ehlo{{"250-mx.example.test", "250-PIPELINING", "250 SIZE 1000"}, 250};
  EXPECT_TRUE(match_first(load("S~ 250 {*}\n"), ehlo)) << "matched against the last line";
  EXPECT_TRUE(match_first(load("S~ 250{*}\n"), ehlo));
  EXPECT_FALSE(match_first(load("S~ 5{*}\n"), ehlo));
  EXPECT_TRUE(match_first(load("S~ 250-{*}\nS~ 250-PIPE{*}\nS~ 250 SIZE {n}\n"), ehlo))
      << "continuation patterns: line by line";
  EXPECT_FALSE(match_first(load("S~ 250-{*}\nS~ 250 {*}\n"), ehlo)) << "line count differs";
  EXPECT_TRUE(match_first(load("S: 250-mx.example.test\nS: 250-PIPELINING\nS: 250 SIZE 1000\n"), ehlo));
  EXPECT_FALSE(match_first(load("S: 250-mx.example.test\nS: 250-PIPELINING\nS: 250 SIZE 2000\n"), ehlo));
  EXPECT_TRUE(match_first(load("S: 250-x\nS: 250 y\n"), ehlo, reply_compare::code)) << "replay compares codes";
  EXPECT_FALSE(match_first(load("S: 251 y\n"), ehlo, reply_compare::code));
  EXPECT_EQ(detail::group_end(*load("S: 250-a\nS: 250 b\nS: 354 c\n").dialogue_for(1), 0), 2u);
  EXPECT_EQ(detail::group_end(*load("S~ 250{*}\nS~ 354{*}\n").dialogue_for(1), 0), 1u);
}

TEST(client_driver, requirements_read_the_ehlo_keywords) {
  const std::string ehlo =
      "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME";
  EXPECT_TRUE(detail::requirement_met("PIPELINING", ehlo));
  EXPECT_TRUE(detail::requirement_met("pipelining", ehlo)) << "keywords are case-insensitive";
  EXPECT_TRUE(detail::requirement_met("AUTH:PLAIN", ehlo));
  EXPECT_TRUE(detail::requirement_met("auth:login", ehlo));
  EXPECT_FALSE(detail::requirement_met("AUTH:CRAM-MD5", ehlo));
  EXPECT_TRUE(detail::requirement_met("!CHUNKING", ehlo));
  EXPECT_FALSE(detail::requirement_met("!SIZE", ehlo));
  EXPECT_FALSE(detail::requirement_met("mx.example.test", ehlo)) << "the first line names the server, not a keyword";
  EXPECT_TRUE(detail::requirement_met("AUTH:login", "250-mx\r\n250 AUTH=LOGIN PLAIN")) << "the old AUTH= form";
}

TEST(client_driver, end_of_data_outcomes_come_from_the_reply_count) {
  using v = std::vector<std::uint16_t>;
  EXPECT_EQ(detail::classify_eod(v{250}, false), eod_outcome::kept);
  EXPECT_EQ(detail::classify_eod(v{554}, false), eod_outcome::rejected);
  EXPECT_EQ(detail::classify_eod(v{}, true), eod_outcome::rejected) << "closed without a reply";
  EXPECT_EQ(detail::classify_eod(v{250, 250, 500}, false), eod_outcome::ended_data);
  EXPECT_EQ(detail::classify_eod(v{554, 250}, false), eod_outcome::ended_data)
      << "refused, but read the rest as commands";
  EXPECT_NE(detail::smuggle_data("\n.\n").find("variant.\n.\nNOOP\r\n"), std::string::npos);
  EXPECT_EQ(detail::smuggle_data("\n.\n").substr(detail::smuggle_data("\n.\n").size() - 5), "\r\n.\r\n");
}

// --- plays against fake servers ------------------------------------------------

// A one-connection server on 127.0.0.1:0 running `serve` on the accepted socket.
class fake_server {
 public:
  explicit fake_server(std::function<void(int)> serve) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(lfd_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this, serve = std::move(serve)] {
      int fd = ::accept(lfd_, nullptr, nullptr);
      if (fd < 0) return;
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve(fd);
      ::close(fd);
    });
  }
  ~fake_server() {
    ::shutdown(lfd_, SHUT_RDWR);
    th_.join();
    ::close(lfd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int lfd_ = -1;
  std::uint16_t port_ = 0;
  std::thread th_;
};

void put(int fd, std::string_view s) { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

// Reads until `needle` has arrived (or the peer stops); returns all of it.
std::string until(int fd, std::string& buf, std::string_view needle) {
  char tmp[4096];
  while (buf.find(needle) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  auto at = buf.find(needle);
  std::string out = buf.substr(0, at == std::string::npos ? buf.size() : at + needle.size());
  buf.erase(0, out.size());
  return out;
}

driver_result play_against(const fake_server& srv, const script& s,
                           std::chrono::milliseconds step = std::chrono::milliseconds(2000)) {
  driver_options o;
  o.target.host = "127.0.0.1";
  o.target.port = srv.port();
  o.step_timeout = step;
  o.variables = {{"helo", "client.example.test"}};
  o.source = "t";
  return play(s, o);
}

const char* smuggle_script =
    "S~ 220{*}\nC: EHLO {helo}\nS~ 250 {*}\nC: MAIL FROM:<a@example.test>\nS~ 250{*}\nC: RCPT TO:<b@example.test>\n"
    "S~ 250{*}\nC: DATA\nS~ 354{*}\n@smuggle \\n.\\n\n";

// A transaction up to 354, then `data` decides what the server does with the data.
void serve_until_data(int fd, std::string& buf) {
  put(fd, "220 fake.example.test ESMTP\r\n");
  until(fd, buf, "\r\n");
  put(fd, "250-fake.example.test\r\n250 PIPELINING\r\n");
  until(fd, buf, "\r\n");
  put(fd, "250 ok\r\n");
  until(fd, buf, "\r\n");
  put(fd, "250 ok\r\n");
  until(fd, buf, "\r\n");
  put(fd, "354 go\r\n");
}

TEST(client_driver, a_server_that_ends_data_at_lf_dot_lf_is_caught) {
  fake_server srv([](int fd) {
    std::string buf;
    serve_until_data(fd, buf);
    until(fd, buf, "\n.\n");  // the vulnerable receiver ends the data here
    put(fd, "250 queued\r\n");
    until(fd, buf, "NOOP\r\n");
    put(fd, "250 ok\r\n");
    until(fd, buf, "\r\n");
    put(fd, "500 what\r\n");
    until(fd, buf, ".\r\n");
    put(fd, "500 what\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "221 bye\r\n");
  });
  auto r = play_against(srv, load(smuggle_script));
  ASSERT_TRUE(r.smuggle.has_value()) << r.reason;
  EXPECT_EQ(r.smuggle->outcome, eod_outcome::ended_data) << r.transcript;
  EXPECT_EQ(r.smuggle->codes, (std::vector<std::uint16_t>{250, 250, 500, 500}));
  EXPECT_EQ(r.status, run_status::failed);
}

TEST(client_driver, a_server_that_keeps_the_variant_passes) {
  fake_server srv([](int fd) {
    std::string buf;
    serve_until_data(fd, buf);
    until(fd, buf, "\r\n.\r\n");
    put(fd, "250 queued\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "221 bye\r\n");
  });
  auto r = play_against(srv, load(smuggle_script));
  ASSERT_TRUE(r.smuggle.has_value()) << r.reason;
  EXPECT_EQ(r.smuggle->outcome, eod_outcome::kept);
  EXPECT_EQ(r.status, run_status::completed) << r.reason;
  EXPECT_NE(r.transcript.find("@close S"), std::string::npos) << "the close after 221 is recorded";
}

TEST(client_driver, requires_not_met_is_not_applicable_and_says_goodbye) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "\r\n");
    put(fd, "250-fake.example.test\r\n250 8BITMIME\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "221 bye\r\n");
  });
  auto r =
      play_against(srv, load("@requires CHUNKING\nS~ 220{*}\nC: EHLO {helo}\nS~ 250{*}\nC: BDAT 0 LAST\nS~ 250{*}\n"));
  EXPECT_EQ(r.status, run_status::not_applicable);
  EXPECT_EQ(r.reason, "the server does not advertise CHUNKING");
  EXPECT_EQ(r.ehlo, (std::vector<std::string>{"8BITMIME"}));
  EXPECT_EQ(r.transcript.find("BDAT"), std::string::npos) << "nothing of the scenario was sent";
}

TEST(client_driver, needs_turns_a_mismatch_into_not_applicable) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "\r\n");
    put(fd, "250 ok\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "221 bye\r\n");
  });
  auto r = play_against(
      srv, load("S~ 220{*}\nC: MAIL FROM:<a@example.test>\n@needs a strict server\nS~ 503{*}\nC: RSET\nS~ 250{*}\n"));
  EXPECT_EQ(r.status, run_status::not_applicable);
  EXPECT_NE(r.reason.find("needs a strict server"), std::string::npos) << r.reason;
}

TEST(client_driver, a_close_is_a_refusal_only_when_the_script_says_so) {
  auto serve = [](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "\r\n");
  };
  const char* text = "S~ 220{*}\nC: NOOP\nS~ 250{*}\n";
  {
    fake_server srv(serve);
    auto r = play_against(srv, load(std::string("@on-close pass\n") + text));
    EXPECT_EQ(r.status, run_status::completed) << r.reason;
    EXPECT_EQ(r.reason, "the server closed the connection");
  }
  {
    fake_server srv(serve);
    auto r = play_against(srv, load(text));
    EXPECT_EQ(r.status, run_status::failed);
    ASSERT_EQ(r.mismatches(), 1u);
    EXPECT_EQ(r.expectations.back().received, "(connection closed)");
  }
}

TEST(client_driver, a_silent_server_is_an_error_within_the_step_timeout) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "QUIT\r\n");  // never answers NOOP
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = play_against(srv, load("S~ 220{*}\nC: NOOP\nS~ 250{*}\n"), std::chrono::milliseconds(300));
  EXPECT_EQ(r.status, run_status::error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(r.reason.find("no reply within 300 ms"), std::string::npos) << r.reason;
}

TEST(client_driver, a_scenario_timeout_bounds_the_whole_play) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "QUIT\r\n");
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = play_against(srv, load("@timeout 300ms\nS~ 220{*}\nC: NOOP\nS~ 250{*}\n"), std::chrono::milliseconds(5000));
  EXPECT_EQ(r.status, run_status::error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(r.reason.find("the scenario's time limit"), std::string::npos) << r.reason;
}

TEST(client_driver, pause_and_rate_take_their_time) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "NOOP xxxxxxxxxxxxxxxxxxxxxx\r\n");
    put(fd, "250 ok\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "221 bye\r\n");
  });
  const auto t0 = std::chrono::steady_clock::now();
  // 30 octets at 100 per second: about 0.3 s, sent in pieces of 10.
  auto r = play_against(srv, load("S~ 220{*}\n@pause 200ms\n@rate 100\nC: NOOP xxxxxxxxxxxxxxxxxxxxxx\nS~ 250{*}\n"
                                  "@rate off\nC: QUIT\nS~ 221{*}\n"));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, run_status::completed) << r.reason;
  EXPECT_GE(took, std::chrono::milliseconds(200 + 150));
  EXPECT_LT(took, std::chrono::seconds(3));
  // The transcript joins the pieces: nothing came from the server between them.
  EXPECT_NE(r.transcript.find("C: NOOP xxxxxxxxxxxxxxxxxxxxxx\n"), std::string::npos) << r.transcript;
}

TEST(client_driver, a_flooding_server_cannot_make_it_hold_more_than_a_bound) {
  fake_server srv([](int fd) {
    std::string flood;
    for (int i = 0; i < 1000; ++i) flood += "220-" + std::string(96, 'x') + "\r\n";
    for (int i = 0; i < 30; ++i) put(fd, flood);  // 3 MB of a greeting that never ends
  });
  auto r = play_against(srv, load("S~ 220 {*}\nC: QUIT\nS~ 221{*}\n"));
  EXPECT_EQ(r.status, run_status::failed) << r.reason;
  ASSERT_FALSE(r.expectations.empty());
  EXPECT_LT(r.expectations.front().received.size(), 8000u) << "a reply is shown up to about 4 KiB";
  EXPECT_NE(r.expectations.front().received.find("more lines)"), std::string::npos);
}

TEST(client_driver, findings_name_lines_of_the_dialogue) {
  fake_server srv([](int fd) {
    std::string buf;
    put(fd, "220 fake.example.test ESMTP\r\n");
    until(fd, buf, "QUIT\r\n");
    put(fd, "250 see you\r\n");  // QUIT gets 221 (RFC 5321 §4.1.1.10)
  });
  auto r = play_against(srv, load("S~ 220{*}\nC: QUIT\nS~ {*}\n"));
  EXPECT_EQ(r.status, run_status::completed);
  auto f = std::find_if(r.report.findings.begin(), r.report.findings.end(),
                        [](const conformance::finding& x) { return x.r().id == "server.quit.reply"; });
  ASSERT_NE(f, r.report.findings.end()) << r.transcript;
  // Line 1 is the header comment, 2 the greeting, 3 QUIT, 4 the reply.
  EXPECT_EQ(f->line, 4u) << r.transcript;
}

TEST(client_driver, an_unreachable_target_says_so) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nothing listens on this port now
  driver_options o;
  o.target.host = "127.0.0.1";
  o.target.port = ntohs(a.sin_port);
  auto r = play(load("S~ 220{*}\n"), o);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.status, run_status::error);
  EXPECT_NE(r.reason.find("cannot connect"), std::string::npos) << r.reason;
}

TEST(client_driver, a_command_is_a_target_too) {
  driver_options o;
  o.target.command = "printf '220 sh.example.test ready\\r\\n'; read line; printf '221 bye\\r\\n'";
  auto r = play(load("S~ 220{*}\nC: QUIT\nS~ 221{*}\n@close S\n"), o);
  EXPECT_EQ(r.status, run_status::completed) << r.reason << "\n" << r.transcript;
  EXPECT_EQ(r.greeting, "220 sh.example.test ready");
}

TEST(client_driver, targets_parse) {
  client_target t;
  EXPECT_TRUE(parse_target("127.0.0.1:2525", t));
  EXPECT_EQ(t.port, 2525);
  EXPECT_TRUE(parse_target("[::1]:25", t));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.describe(), "[::1]:25");
  EXPECT_FALSE(parse_target("127.0.0.1", t));
  EXPECT_FALSE(parse_target("127.0.0.1:0", t));
  EXPECT_FALSE(parse_target("127.0.0.1:99999", t));
}

}  // namespace
}  // namespace smtpkit::mock
