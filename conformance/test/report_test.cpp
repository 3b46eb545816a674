// report_test.cpp — the report writers: XML escaping. (The JUnit output as a whole is
// validated against conformance/test/junit.xsd by cli/test/test_check.py.)
#include "smtpkit/conformance/report.hpp"

#include <gtest/gtest.h>

TEST(report, xml_escape) { EXPECT_EQ(smtpkit::conformance::xml_escape("<a&\"b'>"), "&lt;a&amp;&quot;b&apos;&gt;"); }

// XML 1.0 §2.2: C0 controls but TAB, LF, CR, and U+FFFE/U+FFFF are not characters.
TEST(report, xml_escape_keeps_only_xml_characters) {
  using smtpkit::conformance::xml_escape;
  EXPECT_EQ(xml_escape(std::string_view("a\0b\x1b" "c\td", 7)), "a?b?c\td");
  EXPECT_EQ(xml_escape("x\xEF\xBF\xBEy\xEF\xBF\xBFz"), "x?y?z");
  EXPECT_EQ(xml_escape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(xml_escape("bad \xFF utf8"), "bad ? utf8");
}
