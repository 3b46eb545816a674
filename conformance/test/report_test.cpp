// report_test.cpp — placeholder until report tests land.
#include "smtpkit/conformance/report.hpp"

#include <gtest/gtest.h>

TEST(report, xml_escape) { EXPECT_EQ(smtpkit::conformance::xml_escape("<a&\"b'>"), "&lt;a&amp;&quot;b&apos;&gt;"); }
