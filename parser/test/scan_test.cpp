// scan_test.cpp — the block (SSE2) character classes of scan.hpp (RFC 5321
// §4.1.2, §4.1.3) agree with the ABNF tables of rfc5321.hpp for every octet, at
// every position a block, the shifted last block and the table loop cover.
#include "scan.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace smtpkit::detail {
namespace {

struct class_case {
  const char* name;
  const char_table* table;
  std::size_t (*span)(std::string_view, std::size_t) noexcept;
};

const class_case classes[] = {
    {"ldh", &ldh, span_ldh},
    {"atext", &atext, span_atext},
    {"esmtp-value", &esmtp_value_char, span_esmtp_value},
    {"xchar", &xchar, span_xchar},
    {"base64-char", &base64_char, span_base64},
    {"textstring", &text_char, span_text},
};

TEST(span, agrees_with_the_table_for_every_octet) {
  for (const auto& k : classes) {
    char member = 0;
    while (!(*k.table)[static_cast<unsigned char>(member)]) ++member;
    // Lengths around one and two blocks; the odd octet at every position.
    for (std::size_t len = 1; len <= 40; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        for (std::size_t pos : {std::size_t{0}, at / 2, at}) {
          for (int c = 0; c < 256; ++c) {
            std::string s(len, member);
            s[at] = static_cast<char>(c);
            const std::size_t want = (*k.table)[static_cast<unsigned char>(c)] ? len : at;
            const std::size_t got = k.span(s, pos);
            if (got != want) {
              ADD_FAILURE() << k.name << ": octet " << c << " at " << at << " of " << len << ", from " << pos
                            << ": got " << got << ", want " << want;
              return;
            }
          }
        }
      }
    }
  }
}

// The line framer's classes (controls, DEL, 8-bit): every octet at every
// position of a 64-octet block, among printable octets, and the search
// that uses them, against the line_special table.
TEST(line_special, agrees_with_the_table_for_every_octet) {
  for (std::size_t at = 0; at < 64; ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string s(64, 'x');
      s[at] = static_cast<char>(c);
      const bool special = line_special[static_cast<unsigned char>(c)];
      ASSERT_EQ(line_special_mask64(s.data()), special ? std::uint64_t{1} << at : 0u) << "octet " << c << " at " << at;
      ASSERT_EQ(find_line_special(s.data(), s.data() + s.size()) - s.data(),
                special ? static_cast<std::ptrdiff_t>(at) : 64)
          << "octet " << c << " at " << at;
    }
  }
}

TEST(span, stops_at_the_end_of_the_view_not_of_the_buffer) {
  const std::string buf = "example.com";  // "." stops ldh; the view ends first
  EXPECT_EQ(span_ldh(std::string_view(buf).substr(0, 5), 0), 5u);
  const std::string longer = "abcdefghijklmnopqrstuvwxyz.";
  EXPECT_EQ(span_ldh(std::string_view(longer).substr(0, 20), 3), 20u);
  EXPECT_EQ(span_ldh(std::string_view(longer).substr(0, 20), 20), 20u);
}

}  // namespace
}  // namespace smtpkit::detail
