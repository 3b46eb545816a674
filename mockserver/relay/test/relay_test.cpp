// relay_test.cpp — the relay's pieces without the network: the route
// table, its file format and errors, the Received line (RFC 5321 §4.4,
// RFC 3848), loop counting (§6.3), DATA transparency (§4.5.2) and the
// delivery status notification's shape (RFC 3464).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "message_text.hpp"
#include "smtpkit/mock/client/sender.hpp"
#include "smtpkit/mock/relay/routes.hpp"

namespace smtpkit::mock::relay {
namespace {

TEST(Routes, ExactSubdomainDefaultAndLocal) {
  route_table t;
  std::string why;
  ASSERT_TRUE(t.add("b.test=127.0.0.1:2526,127.0.0.1:2527", why)) << why;
  ASSERT_TRUE(t.add(".b.test=127.0.0.1:2600", why)) << why;
  ASSERT_TRUE(t.add("*=127.0.0.1:2700", why)) << why;
  ASSERT_TRUE(t.add_local("here.test", why)) << why;
  const route* r = t.find("user@B.Test");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->domain, "b.test");
  ASSERT_EQ(r->hops.size(), 2u);
  EXPECT_EQ(r->hops[0].port, 2526);
  EXPECT_EQ(r->hops[1].port, 2527);
  ASSERT_NE(t.find("x@mx.b.test"), nullptr);
  EXPECT_EQ(t.find("x@mx.b.test")->hops[0].port, 2600);
  EXPECT_EQ(t.find("x@elsewhere.test")->domain, "*");
  EXPECT_EQ(t.find("x@here.test"), nullptr);
  EXPECT_EQ(t.find("x@[127.0.0.1]"), nullptr);
}

TEST(Routes, MalformedSpecsSayWhy) {
  route_table t;
  std::string why;
  EXPECT_FALSE(t.add("b.test", why));
  EXPECT_NE(why.find("DOMAIN=HOST:PORT"), std::string::npos);
  EXPECT_FALSE(t.add("b.test=127.0.0.1:99999", why));
  EXPECT_NE(why.find("99999"), std::string::npos);
  EXPECT_FALSE(t.add("b test=127.0.0.1:25", why));
  EXPECT_TRUE(t.empty());
}

TEST(Routes, FileOrdersHopsByPreferenceAndNamesTheBadLine) {
  const std::string path = ::testing::TempDir() + "/routes.txt";
  {
    std::ofstream f(path);
    f << "# domain pref hop\nb.test 20 127.0.0.1:2527\nb.test 10 127.0.0.1:2526  # primary\n\nhere.test local\n";
  }
  route_table t;
  std::string why;
  ASSERT_TRUE(t.load(path, why)) << why;
  EXPECT_EQ(t.find("a@b.test")->hops[0].port, 2526);
  EXPECT_EQ(t.find("a@here.test"), nullptr);
  {
    std::ofstream f(path);
    f << "b.test 10 127.0.0.1:2526\nb.test ten 127.0.0.1:2527\n";
  }
  route_table bad;
  EXPECT_FALSE(bad.load(path, why));
  EXPECT_NE(why.find("routes.txt:2:"), std::string::npos) << why;
  std::remove(path.c_str());
}

TEST(MessageText, ReceivedLineNamesClientHopAndProtocol) {
  nlohmann::ordered_json env{{"helo", "client.example"},
                             {"peer", "127.0.0.1:50000"},
                             {"esmtp", true},
                             {"tls", true},
                             {"auth", "alice"},
                             {"mail_params", nlohmann::ordered_json::object()}};
  auto t = std::chrono::system_clock::from_time_t(0);
  std::string line = received_line(env, "relay.test", "Q1", "b@b.test", t);
  EXPECT_EQ(line,
            "Received: from client.example ([127.0.0.1])\r\n\tby relay.test (smtpkit) with ESMTPSA id Q1\r\n\tfor "
            "<b@b.test>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
  env["helo"] = "evil\r\nX-Injected: 1";
  env["tls"] = false;
  env["auth"] = nullptr;
  line = received_line(env, "relay.test", "Q2", "", t);
  EXPECT_EQ(line.find("\r\nX-Injected"), std::string::npos);
  EXPECT_NE(line.find("with ESMTP id Q2;"), std::string::npos);
}

TEST(MessageText, CountsReceivedInTheHeaderOnly) {
  std::string m = "Received: a\r\nreceived: b\r\n\tcont\r\nSubject: x\r\n\r\nReceived: in the body\r\n";
  EXPECT_EQ(count_received(m), 2u);
}

TEST(MessageText, StatusFromEnhancedCodeOrFirstDigit) {
  EXPECT_EQ(status_of(550, "550 5.1.1 no such user"), "5.1.1");
  EXPECT_EQ(status_of(451, "451 try later"), "4.0.0");
  EXPECT_EQ(status_of(554, "554 5.6.3 8-bit"), "5.6.3");
}

TEST(MessageText, DsnIsAMultipartReport) {
  dsn_input in;
  in.reporting_mta = "relay.test";
  in.id = "Q1.1";
  in.to = "a@a.test";
  in.envid = "ENV+2B1";
  in.original = "Subject: hi\r\nFrom: a@a.test\r\n\r\nbody\r\n";
  in.recipients.push_back({"b@b.test", "rfc822;B+40b.test", 550, "550 5.1.1 unknown", "127.0.0.1:2526"});
  std::string d = build_dsn(in, std::chrono::system_clock::from_time_t(0));
  EXPECT_NE(d.find("Content-Type: multipart/report; report-type=delivery-status;"), std::string::npos);
  EXPECT_NE(d.find("Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.test\r\n"
                   "Original-Envelope-Id: ENV+1\r\n"),
            std::string::npos);
  EXPECT_NE(d.find("Original-Recipient: rfc822;B@b.test\r\nFinal-Recipient: rfc822; b@b.test\r\nAction: failed\r\n"
                   "Status: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1:2526\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown\r\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("Content-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\nFrom: a@a.test\r\n"), std::string::npos);
  EXPECT_EQ(d.find("body\r\n"), std::string::npos);  // RET=HDRS by default: no body
  EXPECT_NE(d.find("--smtpkit-dsn-Q1.1--\r\n"), std::string::npos);
}

TEST(Sender, DotStuffingAndLineEnds) {
  EXPECT_EQ(dot_stuff(".a\r\nb\r\n.\r\n"), "..a\r\nb\r\n..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\nb"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r\rb\r\n"), "a\r\n\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
}

}  // namespace
}  // namespace smtpkit::mock::relay
