// client_plan_test.cpp — the server plans of `smtpkit fuzz client`: every
// mutated plan is a script the mock server loads, reads back as the same
// plan, stays within bounds, and the mutators reach the reply classes the
// fuzzer is for.
#include <gtest/gtest.h>

#include "smtpkit/fuzz/client_fuzz.hpp"
#include "smtpkit/mock/script/script.hpp"

namespace smtpkit::fuzz {
namespace {

const std::vector<std::string> verbs{"EHLO", "MAIL", "RCPT", "DATA", "QUIT", "STARTTLS"};

TEST(ClientPlan, EveryMutantLoadsAndRoundTrips) {
  std::mt19937_64 rng(1);
  server_plan p;
  for (int i = 0; i < 5000; ++i) {
    if (i % 50 == 0) p = {};
    mutate_plan(p, verbs, rng);
    ASSERT_FALSE(p.rules.empty());
    ASSERT_LE(p.rules.size(), 6u);
    const std::string text = to_script(p);
    auto loaded = mock::load_script(text, "plan.smtp", side::server);
    if (auto* e = std::get_if<mock::script_error>(&loaded)) FAIL() << e->to_string() << "\n" << text;
    server_plan back;
    ASSERT_TRUE(plan_from_script("# a comment\n" + text, back));
    EXPECT_EQ(back.rules, p.rules);
    EXPECT_LT(p.size(), 4u << 20);
  }
}

TEST(ClientPlan, ReachesTheReplyClasses) {
  std::mt19937_64 rng(2);
  std::string all;
  for (int i = 0; i < 3000; ++i) {
    server_plan p;
    mutate_plan(p, verbs, rng);
    all += to_script(p);
  }
  for (const char* want :
       {"@connect", "@data", "STARTTLS", "@close S", "@reset", "@hang", "@split 1", "@pause", "@fallback", "@tls",
        "S= 000", "250-X-FUZZ-", "SIZE 18446744073709551616", "\\n", "nth=", "2.1000.0", "250 PIPELINING"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want;
  }
}

TEST(ClientPlan, RefusesWhatItDidNotWrite) {
  server_plan p;
  EXPECT_FALSE(plan_from_script("S: 220 hello\n", p));
  EXPECT_FALSE(plan_from_script("@rule per=session {re:(?i)QUIT}\nS: 221 bye\n", p));  // no @end
  EXPECT_TRUE(plan_from_script("", p));
  EXPECT_TRUE(p.rules.empty());
}

}  // namespace
}  // namespace smtpkit::fuzz
