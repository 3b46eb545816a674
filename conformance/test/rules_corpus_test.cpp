// rules_corpus_test.cpp — the rule corpus (conformance/test/rules/, written
// by make_cases.py): every rule of the catalogue has a dialogue that breaks
// it (<id>.bad.smtp) and a close variant that does not (<id>.good.smtp).
//
// A bad case must report its rule on the record after the line
// "# the next record breaks the rule", and nothing else but the rules its
// "# also:" line lists (each of which it must report: the list stays exact).
// A good case must not report its rule, nothing at MUST level, and nothing
// its own "# also:" line does not list. Failures name file:line of the case.
//
// Also here: feeding a dialogue in one piece per side turn, record by record,
// or octet by octet gives the same findings (RFC 2920 §3.1 matching by
// counting must not depend on how TCP cut the stream), over every transcript
// of corpus/dialogues and of the rule corpus.
#include "smtpkit/conformance/rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "smtpkit/conformance/check.hpp"

namespace smtpkit::conformance {
namespace {

namespace fs = std::filesystem;

const fs::path rules_dir = fs::path(SMTPKIT_SOURCE_DIR) / "conformance" / "test" / "rules";
const fs::path dialogues_dir = fs::path(SMTPKIT_SOURCE_DIR) / "corpus" / "dialogues";

// Rules no transcript can break, with the reason. Keep it empty: a rule the
// engine can never report belongs out of the catalogue (rules.cpp says which
// grammar errors were left out and why).
constexpr std::array<std::string_view, 0> exceptions{};

bool excepted(std::string_view id) { return std::find(exceptions.begin(), exceptions.end(), id) != exceptions.end(); }

struct case_file {
  fs::path path;
  std::string rfc;                // second header line, without "# "
  std::set<std::string> also;     // "# also:" ids
  std::size_t breaking_line = 0;  // record after the marker line, 0 if none
  std::size_t also_line = 0;
};

case_file read_header(const fs::path& p) {
  case_file c;
  c.path = p;
  std::ifstream in(p);
  std::string line;
  bool marker = false;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (n == 2 && line.rfind("# ", 0) == 0) c.rfc = line.substr(2);
    if (line.rfind("# also:", 0) == 0) {
      std::istringstream ids(line.substr(7));
      for (std::string id; ids >> id;) c.also.insert(id);
      c.also_line = n;
    }
    if (line == "# the next record breaks the rule") {
      marker = true;
      continue;
    }
    if (marker && !line.empty() && line[0] != '#') {
      c.breaking_line = n;
      marker = false;
    }
  }
  return c;
}

session_report check_file(const fs::path& p, feed_mode mode = feed_mode::record) {
  auto t = read_transcript_file(p.string());
  if (!t.ok()) {
    ADD_FAILURE_AT(p.c_str(), static_cast<int>(t.error.line)) << t.error.to_string();
    return {};
  }
  return check_transcript(*t.value, {}, mode);
}

std::string describe(const finding& f) { return std::string(to_string(f.r().lvl)) + " " + f.r().id + ": " + f.message; }

std::vector<std::string> catalogue_ids() {
  std::vector<std::string> out;
  for (const auto& r : catalogue()) out.push_back(r.id);
  return out;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

TEST(rule_corpus, every_rule_has_a_pair_unless_excepted) {
  for (const auto& r : catalogue()) {
    const bool bad = fs::exists(rules_dir / (r.id + ".bad.smtp"));
    const bool good = fs::exists(rules_dir / (r.id + ".good.smtp"));
    if (excepted(r.id)) {
      EXPECT_FALSE(bad || good) << r.id << " is listed as an exception but has cases";
      continue;
    }
    EXPECT_TRUE(bad) << "no " << (rules_dir / (r.id + ".bad.smtp")).string() << " (run make_cases.py)";
    EXPECT_TRUE(good) << "no " << (rules_dir / (r.id + ".good.smtp")).string() << " (run make_cases.py)";
  }
  for (auto id : exceptions) EXPECT_GE(find_rule(id), 0) << "exception " << id << " is not in the catalogue";
}

// Every rule names the RFC text it rests on (grounds.cpp): the section,
// the sentence or a summary of it, and the errata considered.
TEST(rule_corpus, every_rule_has_grounds) {
  for (const auto& r : catalogue()) {
    EXPECT_FALSE(r.grounds_rfc.empty()) << r.id << ": no grounds (conformance/src/grounds.cpp)";
    EXPECT_FALSE(r.quote.empty() && r.note.empty()) << r.id << ": grounds without a quote or a note";
    EXPECT_FALSE(r.errata.empty()) << r.id << ": no errata considered";
    EXPECT_EQ(r.grounds_rfc.rfind("RFC ", 0), 0u) << r.id << ": grounds section " << r.grounds_rfc;
  }
}

TEST(rule_corpus, every_file_names_a_rule) {
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(rules_dir)) {
    if (e.path().extension() != ".smtp") continue;
    ++files;
    const std::string name = e.path().filename().string();
    const auto stem = e.path().stem();  // <id>.bad / <id>.good
    const std::string kind = stem.extension().string();
    const std::string id = stem.stem().string();
    EXPECT_TRUE(kind == ".bad" || kind == ".good") << name << ": expected <rule-id>.bad.smtp or <rule-id>.good.smtp";
    EXPECT_GE(find_rule(id), 0) << name << ": " << id << " is not in the catalogue (stale case: run make_cases.py)";
  }
  EXPECT_EQ(files, 2 * (catalogue().size() - exceptions.size()));
}

class rule_case : public testing::TestWithParam<std::string> {};

TEST_P(rule_case, bad_reports_the_rule_where_marked) {
  const std::string& id = GetParam();
  if (excepted(id)) GTEST_SKIP() << "exception";
  const case_file c = read_header(rules_dir / (id + ".bad.smtp"));
  const char* file = c.path.c_str();
  const auto& rule = catalogue()[static_cast<std::size_t>(find_rule(id))];
  if (c.rfc != rule.rfc) ADD_FAILURE_AT(file, 2) << "header says " << c.rfc << ", the catalogue " << rule.rfc;
  if (c.breaking_line == 0) ADD_FAILURE_AT(file, 1) << "no \"# the next record breaks the rule\" line";
  const session_report r = check_file(c.path);
  bool at_mark = false;
  bool anywhere = false;
  std::set<std::string> seen;
  for (const auto& f : r.findings) {
    seen.insert(f.r().id);
    if (f.r().id == id) {
      anywhere = true;
      if (f.line == c.breaking_line) at_mark = true;
    } else if (!c.also.count(f.r().id)) {
      ADD_FAILURE_AT(file, static_cast<int>(f.line)) << "also reports " << describe(f) << " (not in \"# also:\")";
    }
  }
  if (!anywhere) ADD_FAILURE_AT(file, static_cast<int>(c.breaking_line)) << id << " not reported";
  else if (!at_mark)
    for (const auto& f : r.findings)
      if (f.r().id == id)
        ADD_FAILURE_AT(file, static_cast<int>(c.breaking_line)) << id << " reported at line " << f.line << ", not here";
  for (const auto& a : c.also)
    if (!seen.count(a))
      ADD_FAILURE_AT(file, static_cast<int>(c.also_line)) << a << " listed in \"# also:\" but not reported";
}

TEST_P(rule_case, good_twin_does_not) {
  const std::string& id = GetParam();
  if (excepted(id)) GTEST_SKIP() << "exception";
  const case_file c = read_header(rules_dir / (id + ".good.smtp"));
  const char* file = c.path.c_str();
  const session_report r = check_file(c.path);
  std::set<std::string> seen;
  for (const auto& f : r.findings) {
    seen.insert(f.r().id);
    if (f.r().id == id) ADD_FAILURE_AT(file, static_cast<int>(f.line)) << "the good twin reports " << describe(f);
    else if (f.r().lvl == level::must)
      ADD_FAILURE_AT(file, static_cast<int>(f.line)) << "MUST in a good case: " << describe(f);
    else if (!c.also.count(f.r().id))
      ADD_FAILURE_AT(file, static_cast<int>(f.line)) << "also reports " << describe(f) << " (not in \"# also:\")";
  }
  for (const auto& a : c.also)
    if (!seen.count(a))
      ADD_FAILURE_AT(file, static_cast<int>(c.also_line)) << a << " listed in \"# also:\" but not reported";
}

INSTANTIATE_TEST_SUITE_P(catalogue, rule_case, testing::ValuesIn(catalogue_ids()), test_name);

// --- feed modes ---

std::vector<std::string> all_transcripts() {
  std::vector<std::string> out;
  for (const auto& dir : {dialogues_dir, rules_dir})
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".smtp") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string fingerprint(const finding& f) {
  return std::to_string(f.line) + " " + f.r().id + " @" + std::string(to_string(f.anchor)) + ":" +
         std::to_string(f.offset) + " " + f.message + " | " + f.excerpt;
}

class feed : public testing::TestWithParam<std::string> {};

TEST_P(feed, coalesced_record_and_octet_feeds_agree) {
  const fs::path p = GetParam();
  const auto whole = check_file(p, feed_mode::coalesce);
  for (feed_mode mode : {feed_mode::record, feed_mode::bytes}) {
    const auto other = check_file(p, mode);
    const char* how = mode == feed_mode::record ? "record by record" : "octet by octet";
    const std::size_t n = std::max(whole.findings.size(), other.findings.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::string a = i < whole.findings.size() ? fingerprint(whole.findings[i]) : "(none)";
      const std::string b = i < other.findings.size() ? fingerprint(other.findings[i]) : "(none)";
      if (a == b) continue;
      const std::size_t line = i < whole.findings.size() ? whole.findings[i].line : other.findings[i].line;
      ADD_FAILURE_AT(p.c_str(), static_cast<int>(line))
          << how << " differs from one piece per turn:\n  whole: " << a << "\n  " << how << ": " << b;
      break;
    }
    EXPECT_EQ(whole.applied, other.applied) << p.string() << ": rules applied differ " << how;
  }
}

std::string file_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = fs::path(info.param).parent_path().filename().string() + "_" + fs::path(info.param).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(transcripts, feed, testing::ValuesIn(all_transcripts()), file_name);

}  // namespace
}  // namespace smtpkit::conformance
