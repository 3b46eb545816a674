// line_test.cpp — the streaming line framer (RFC 5321 §2.3.8, §4.5.3.1).
#include "smtpkit/line.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "split.hpp"

namespace smtpkit {
namespace {

using test::check_splits;
using test::frame;
using test::framed;

constexpr auto L = line_status::line;

struct line_case {
  int line;
  const char* rfc;
  std::string_view input;
  std::size_t limit;
  lenient relax;
  std::vector<framed> expected;
};

const line_case cases[] = {
    {__LINE__, "§2.3.8 CRLF", "NOOP\r\n", 512, lenient::none, {{L, line_ending::crlf, "NOOP", errc::ok}}},
    {__LINE__,
     "§2.3.8 two lines",
     "A\r\nB\r\n",
     512,
     lenient::none,
     {{L, line_ending::crlf, "A", errc::ok}, {L, line_ending::crlf, "B", errc::ok}}},
    {__LINE__, "§2.3.8 empty line", "\r\n", 512, lenient::none, {{L, line_ending::crlf, "", errc::ok}}},
    {__LINE__, "§2.3.8 bare LF", "NOOP\n", 512, lenient::none, {{L, line_ending::lf, "NOOP", errc::bare_lf}}},
    {__LINE__, "§2.3.8 bare LF lenient", "NOOP\n", 512, lenient::bare_lf, {{L, line_ending::lf, "NOOP", errc::ok}}},
    {__LINE__,
     "§2.3.8 bare CR ends a line",
     "NOOP\rQUIT\r\n",
     512,
     lenient::none,
     {{L, line_ending::cr, "NOOP", errc::bare_cr}, {L, line_ending::crlf, "QUIT", errc::ok}}},
    {__LINE__,
     "§2.3.8 CR CR LF",
     "A\r\r\n",
     512,
     lenient::none,
     {{L, line_ending::cr, "A", errc::bare_cr}, {L, line_ending::crlf, "", errc::ok}}},
    {__LINE__, "§2.3.8 trailing CR at EOF", "A\r", 512, lenient::none, {{L, line_ending::cr, "A", errc::bare_cr}}},
    {__LINE__, "§2.3.8 no terminator at EOF", "QUIT", 512, lenient::none, {{L, line_ending::none, "QUIT", errc::ok}}},
    {__LINE__,
     "§4.1.2 NUL reported",
     std::string_view("NO\0OP\r\n", 7),
     512,
     lenient::none,
     {{L, line_ending::crlf, std::string("NO\0OP", 5), errc::nul_byte}}},
    {__LINE__,
     "§4.1.2 control reported",
     "NO\x01OP\r\n",
     512,
     lenient::none,
     {{L, line_ending::crlf, "NO\x01OP", errc::control_char}}},
    {__LINE__,
     "§4.1.2 DEL reported",
     "NO\x7fOP\r\n",
     512,
     lenient::none,
     {{L, line_ending::crlf, "NO\x7fOP", errc::control_char}}},
    {__LINE__,
     "§4.1.2 TAB is not reported",
     "A\tB\r\n",
     512,
     lenient::none,
     {{L, line_ending::crlf, "A\tB", errc::ok}}},
    {__LINE__,
     "RFC 6531 8-bit is not a framing error",
     "A\xc3\xa9\r\n",
     512,
     lenient::none,
     {{L, line_ending::crlf, "A\xc3\xa9", errc::ok}}},
    // Limits count the terminator: a limit of 8 allows 6 octets and CRLF.
    {__LINE__,
     "§4.5.3.1.4 exactly at the limit",
     "123456\r\n",
     8,
     lenient::none,
     {{L, line_ending::crlf, "123456", errc::ok}}},
    {__LINE__,
     "§4.5.3.1.4 bare LF at the limit",
     "1234567\n",
     8,
     lenient::none,
     {{L, line_ending::lf, "1234567", errc::bare_lf}}},
    {__LINE__,
     "§4.5.3.1.4 one over the limit",
     "1234567\r\nOK\r\n",
     8,
     lenient::none,
     {{line_status::overflow, line_ending::none, "1234567", errc::line_too_long},
      {line_status::overflow_end, line_ending::crlf, "", errc::line_too_long},
      {L, line_ending::crlf, "OK", errc::ok}}},
    {__LINE__,
     "§4.5.3.1.4 far over the limit",
     "1234567890123\r\nOK\r\n",
     8,
     lenient::none,
     {{line_status::overflow, line_ending::none, "12345678", errc::line_too_long},
      {line_status::overflow_end, line_ending::crlf, "", errc::line_too_long},
      {L, line_ending::crlf, "OK", errc::ok}}},
    {__LINE__,
     "§4.5.3.1.4 over the limit, bare LF end",
     "1234567890\nOK\r\n",
     8,
     lenient::none,
     {{line_status::overflow, line_ending::none, "12345678", errc::line_too_long},
      {line_status::overflow_end, line_ending::lf, "", errc::line_too_long},
      {L, line_ending::crlf, "OK", errc::ok}}},
    {__LINE__,
     "§4.5.3.1.4 over the limit at EOF",
     "1234567890",
     8,
     lenient::none,
     {{line_status::overflow, line_ending::none, "12345678", errc::line_too_long},
      {line_status::overflow_end, line_ending::none, "", errc::line_too_long}}},
};

class line_table : public ::testing::TestWithParam<line_case> {};

TEST_P(line_table, frames_in_one_piece_and_at_every_split) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  parse_options opts;
  opts.relax = c.relax;
  auto whole = frame({c.input}, c.limit, opts);
  // The head of an over-long line depends on how much had arrived; compare
  // statuses for overflow and full results otherwise.
  ASSERT_EQ(whole.size(), c.expected.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].status, c.expected[i].status) << "line " << i;
    EXPECT_EQ(whole[i].ending, c.expected[i].ending) << "line " << i;
    EXPECT_EQ(whole[i].diag, c.expected[i].diag) << "line " << i;
    if (whole[i].status == line_status::line) EXPECT_EQ(whole[i].line, c.expected[i].line) << "line " << i;
  }
  bool has_overflow = false;
  for (const auto& e : c.expected) has_overflow |= e.status == line_status::overflow;
  if (!has_overflow) EXPECT_EQ(check_splits(c.input, c.expected, c.limit, opts), "");
}

INSTANTIATE_TEST_SUITE_P(rfc5321, line_table, ::testing::ValuesIn(cases));

TEST(line_framer, overflow_never_buffers_more_than_the_limit) {
  // RFC 5321 §4.5.3.1.4: a peer sending an endless line cannot make the
  // caller hold more than `limit` octets.
  line_framer f(512);
  std::string buf;
  std::size_t max_held = 0;
  int overflows = 0;
  for (int i = 0; i < 10000; ++i) {
    buf.append(100, 'x');
    for (;;) {
      auto r = f.next(buf);
      if (r.status == line_status::overflow) ++overflows;
      buf.erase(0, r.consumed);
      if (r.status == line_status::need_more) break;
    }
    max_held = std::max(max_held, buf.size());
  }
  EXPECT_EQ(overflows, 1);
  EXPECT_LE(max_held, 512u + 100u);
  buf += "\r\n";
  auto r = f.next(buf);
  EXPECT_EQ(r.status, line_status::overflow_end);
  EXPECT_EQ(r.length, 1000002u);
}

TEST(line_framer, need_more_is_not_an_error) {
  line_framer f;
  auto r = f.next("MAIL FROM:<a@b");
  EXPECT_EQ(r.status, line_status::need_more);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(r.diag.ok());
  r = f.next("MAIL FROM:<a@b>\r");
  EXPECT_EQ(r.status, line_status::need_more);  // CR alone is undecidable
  r = f.next("MAIL FROM:<a@b>\r\n");
  EXPECT_EQ(r.status, line_status::line);
  EXPECT_EQ(r.line, "MAIL FROM:<a@b>");
}

TEST(line_framer, flags_every_kind_of_octet) {
  line_framer f;
  auto r = f.next(std::string_view("a\tb\x01\xc3\xa9\0\r\n", 9));
  EXPECT_EQ(r.flags, has_tab | has_control | has_8bit | has_nul);
  EXPECT_EQ(r.diag.code, errc::control_char);
  EXPECT_EQ(r.diag.offset, 3u);
}

// each_line must hand out exactly what a loop of next() gives: every field
// of every result, and the same octets consumed, whatever the pieces, the
// limit, the octets (controls, 8-bit, bare CR/LF, over-long lines, lines
// crossing 64-octet blocks) and wherever the callback stops.
TEST(line_framer, each_line_equals_a_loop_of_next) {
  std::mt19937 rng(5321);
  const std::string_view words[] = {"MAIL FROM:<a@b.example> SIZE=100",
                                    "RCPT TO:<x@y>",
                                    "DATA",
                                    "\r\n",
                                    "\r\n",
                                    "\r\n",
                                    "\r",
                                    "\n",
                                    std::string_view("\0", 1),
                                    "\t",
                                    "\x01",
                                    "\xc3\xa9",
                                    "\x7f",
                                    " "};
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const int parts = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < parts; ++i) {
      if (rng() % 8 == 0) input.append(rng() % 700, static_cast<char>('a' + rng() % 26));
      else input += words[rng() % std::size(words)];
    }
    const std::size_t limits[] = {3, 16, 63, 64, 65, 100, 512, 1000};
    const std::size_t limit = limits[rng() % std::size(limits)];
    parse_options opts;
    if (rng() % 2) opts.relax = lenient::bare_lf;
    const std::size_t stop_every = rng() % 4;  // 0: never stop early

    auto same = [](const line_result& a, const line_result& b) {
      return a.status == b.status && a.ending == b.ending && a.flags == b.flags && a.consumed == b.consumed &&
             a.line == b.line && a.length == b.length && a.diag.code == b.diag.code && a.diag.offset == b.diag.offset;
    };
    line_framer one(limit, opts), batch(limit, opts);
    std::string buf1, buf2;
    std::size_t fed = 0, calls = 0;
    while (fed < input.size()) {
      const std::size_t piece = std::min<std::size_t>(input.size() - fed, 1 + rng() % 300);
      buf1.append(input, fed, piece);
      buf2.append(input, fed, piece);
      fed += piece;
      for (;;) {
        std::vector<line_result> got;
        const std::size_t used = batch.each_line(buf2, [&](const line_result& r) {
          got.push_back(r);
          return stop_every == 0 || ++calls % stop_every != 0;
        });
        // The same from next(), one at a time, up to the same point.
        std::size_t used1 = 0;
        for (const line_result& g : got) {
          const line_result r = one.next(std::string_view(buf1).substr(used1));
          ASSERT_TRUE(same(r, g)) << "round " << round << " limit " << limit << " at " << used1;
          used1 += r.consumed;
        }
        if (used1 < used) {  // consumed inside an over-long line, nothing handed out
          const line_result r = one.next(std::string_view(buf1).substr(used1));
          ASSERT_EQ(r.status, line_status::need_more) << "round " << round;
          used1 += r.consumed;
        }
        ASSERT_EQ(used1, used) << "round " << round;
        buf1.erase(0, used);
        buf2.erase(0, used);
        if (got.empty()) {
          // Nothing more for now: next() must agree there is no line yet.
          const line_result r = one.next(buf1);
          ASSERT_EQ(r.status, line_status::need_more) << "round " << round;
          ASSERT_EQ(r.consumed, 0u);
          break;
        }
      }
    }
  }
}

}  // namespace
}  // namespace smtpkit
