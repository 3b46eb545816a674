// mutate_test.cpp — the dialogue mutators (fuzz/blackbox/src/mutate.cpp):
// the limits and the non-empty dialogue hold whatever comes in, one
// generator state gives one result, the byte mutator keeps the writes, and
// the grammar mutator reaches, from a plain seed and within a bounded number
// of tries, each class of input that has broken SMTP servers (paths past
// RFC 5321 §4.5.3.1, escapes in quoted local parts, long IPv6 literals,
// many recipients, SIZE past 32 bits, long SASL fields, BDAT chunking,
// quoted VRFY arguments, bare-LF end of data, RCPT before MAIL, long EHLO).
#include "smtpkit/fuzz/dialogue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <cctype>
#include <string_view>
#include <vector>

namespace smtpkit::fuzz {
namespace {

dialogue seed() {
  dialogue d;
  d.writes = {{"EHLO client.test\r\n", 0},
              {"MAIL FROM:<alice@example.test>\r\n", 0},
              {"RCPT TO:<bob@example.test>\r\n", 0},
              {"DATA\r\n", 0},
              {"Subject: hello\r\n\r\nHello, Bob.\r\n.\r\n", 0},
              {"QUIT\r\n", 0}};
  return d;
}

// What mutate promises about every result.
::testing::AssertionResult well_formed(const dialogue& d, const mutate_limits& lim) {
  if (d.writes.empty()) return ::testing::AssertionFailure() << "no writes";
  if (d.writes.size() > lim.max_writes) return ::testing::AssertionFailure() << d.writes.size() << " writes";
  if (d.size() > lim.max_octets) return ::testing::AssertionFailure() << d.size() << " octets";
  std::size_t octets = 0;
  for (const auto& w : d.writes) {
    octets += w.bytes.size();
    if (w.pause_ms > lim.max_pause_ms) return ::testing::AssertionFailure() << "a pause of " << w.pause_ms << " ms";
  }
  if (octets == 0) return ::testing::AssertionFailure() << "no octets";
  if (octets != d.size() || d.bytes().size() != octets) return ::testing::AssertionFailure() << "size() disagrees";
  return ::testing::AssertionSuccess();
}

bool same(const dialogue& a, const dialogue& b) {
  if (a.writes.size() != b.writes.size()) return false;
  for (std::size_t i = 0; i < a.writes.size(); ++i) {
    if (a.writes[i].bytes != b.writes[i].bytes || a.writes[i].pause_ms != b.writes[i].pause_ms) return false;
  }
  return true;
}

TEST(Dialogue, SizeAndBytes) {
  const dialogue d = seed();
  std::string all;
  for (const auto& w : d.writes) all += w.bytes;
  EXPECT_EQ(d.bytes(), all);
  EXPECT_EQ(d.size(), all.size());
  EXPECT_EQ(dialogue{}.size(), 0u);
  EXPECT_EQ(dialogue{}.bytes(), "");
}

// 20000 chained mutations of each kind (back to the seed every 50): never
// empty, never past the default limits.
TEST(Mutate, ChainedMutationsKeepTheDefaultLimits) {
  const mutate_limits lim;
  for (const auto kind : {mutator_kind::grammar, mutator_kind::bytes}) {
    std::mt19937_64 rng(1);
    const dialogue donor = seed();
    dialogue d = seed();
    for (int i = 0; i < 20000; ++i) {
      if (i % 50 == 0) d = seed();
      mutate(d, i % 3 == 0 ? &donor : (i % 3 == 1 ? &d : nullptr), rng, kind, lim);
      ASSERT_TRUE(well_formed(d, lim)) << "kind " << static_cast<int>(kind) << ", step " << i;
    }
  }
}

// Small limits hold too: the seed is near them, and repeats, long fields and
// splices would go past them.
TEST(Mutate, SmallLimitsHold) {
  mutate_limits lim;
  lim.max_octets = 300;
  lim.max_writes = 8;
  lim.max_pause_ms = 7;
  for (const auto kind : {mutator_kind::grammar, mutator_kind::bytes}) {
    std::mt19937_64 rng(2);
    dialogue d = seed();
    for (int i = 0; i < 20000; ++i) {
      if (i % 50 == 0) d = seed();
      mutate(d, &d, rng, kind, lim);
      ASSERT_TRUE(well_formed(d, lim)) << "kind " << static_cast<int>(kind) << ", step " << i;
    }
  }
}

// A dialogue already past the limits comes back within them.
TEST(Mutate, CutsAnOversizedDialogueToTheLimits) {
  mutate_limits lim;
  lim.max_octets = 40;
  lim.max_writes = 2;
  lim.max_pause_ms = 0;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    dialogue d = seed();
    for (auto& w : d.writes) w.pause_ms = 1000;
    mutate(d, nullptr, rng, i % 2 ? mutator_kind::bytes : mutator_kind::grammar, lim);
    ASSERT_TRUE(well_formed(d, lim)) << "step " << i;
  }
}

// Empty dialogues, empty writes, garbage octets, a limit of one octet: no
// crash, and never an empty result.
TEST(Mutate, SurvivesGarbage) {
  std::mt19937_64 gen(4), rng(5);
  const mutate_limits lim;
  for (int i = 0; i < 5000; ++i) {
    dialogue d, donor;
    for (auto* x : {&d, &donor}) {
      const std::size_t n = gen() % 8;
      for (std::size_t k = 0; k < n; ++k) {
        std::string s(gen() % 40, ' ');
        for (auto& c : s) c = static_cast<char>(gen() % 4 == 0 ? "\r\n:<>@\" "[gen() % 8] : gen() & 0xff);
        if (gen() % 3 == 0) s = "MAIL FROM:<" + s;
        if (gen() % 5 == 0) s = "BDAT " + s;
        x->writes.push_back({s, static_cast<std::uint32_t>(gen() % 1000)});
      }
    }
    const auto kind = i % 4 ? mutator_kind::grammar : mutator_kind::bytes;
    mutate(d, i % 2 ? &donor : nullptr, rng, kind, lim);
    ASSERT_TRUE(well_formed(d, lim)) << "step " << i;
  }
  mutate_limits tiny;
  tiny.max_octets = 1;
  tiny.max_writes = 1;
  for (int i = 0; i < 1000; ++i) {
    dialogue d = i % 2 ? seed() : dialogue{};
    mutate(d, nullptr, rng, i % 4 < 2 ? mutator_kind::grammar : mutator_kind::bytes, tiny);
    ASSERT_TRUE(well_formed(d, tiny)) << "step " << i;
  }
}

TEST(Mutate, OneGeneratorStateGivesOneResult) {
  for (const auto kind : {mutator_kind::grammar, mutator_kind::bytes}) {
    std::mt19937_64 a(6), b(6);
    dialogue da = seed(), db = seed();
    const dialogue donor = seed();
    bool differs_from_seed = false;
    for (int i = 0; i < 3000; ++i) {
      if (i % 50 == 0) da = db = seed();
      mutate(da, &donor, a, kind);
      mutate(db, &donor, b, kind);
      ASSERT_TRUE(same(da, db)) << "step " << i;
      differs_from_seed = differs_from_seed || !same(da, seed());
    }
    EXPECT_TRUE(differs_from_seed);
    EXPECT_EQ(a(), b());
  }
}

// The byte mutator works on octets and keeps the writes: it adds none,
// moves none, and leaves the pauses alone (a write it empties goes).
TEST(Mutate, BytesKeepTheWrites) {
  dialogue s = seed();
  for (std::size_t i = 0; i < s.writes.size(); ++i) s.writes[i].pause_ms = static_cast<std::uint32_t>(10 + i);
  std::mt19937_64 rng(7);
  std::size_t changed = 0;
  for (int i = 0; i < 20000; ++i) {
    dialogue d = s;
    mutate(d, nullptr, rng, mutator_kind::bytes);
    ASSERT_LE(d.writes.size(), s.writes.size());
    // The pauses are those of the seed, in order, some perhaps gone.
    std::size_t k = 0;
    for (const auto& w : d.writes) {
      while (k < s.writes.size() && s.writes[k].pause_ms != w.pause_ms) ++k;
      ASSERT_LT(k, s.writes.size()) << "step " << i;
      ++k;
    }
    // With the writes all there, the octets changed.
    if (d.writes.size() == s.writes.size()) {
      std::size_t touched = 0;
      for (std::size_t j = 0; j < d.writes.size(); ++j) touched += d.writes[j].bytes != s.writes[j].bytes;
      changed += touched > 0;
    }
  }
  EXPECT_GT(changed, 15000u);
}

// Splicing brings the donor's writes in.
TEST(Mutate, SplicesFromTheDonor) {
  dialogue donor;
  donor.writes = {{"XDONOR one\r\n", 0}, {"XDONOR two\r\n", 0}};
  std::mt19937_64 rng(8);
  int spliced = 0;
  for (int i = 0; i < 2000; ++i) {
    dialogue d = seed();
    mutate(d, &donor, rng, mutator_kind::grammar);
    for (const auto& w : d.writes) {
      if (w.bytes == "XDONOR one\r\n" || w.bytes == "XDONOR two\r\n") {
        ++spliced;
        break;
      }
    }
  }
  EXPECT_GT(spliced, 20);
}

// ---- Reaching the classes -----------------------------------------------------------------------------------------

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool istarts(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (lower(s[i]) != lower(p[i])) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) { return a.size() == b.size() && istarts(a, b); }

std::optional<std::string> unbase64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad > 0 || (v[k] = value(c)) < 0) return std::nullopt;
      }
    }
    const std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[n & 63] : '=';
  }
  return out;
}

enum cls : std::size_t {
  local_65_to_80,
  quoted_local_ending_in_escaped_backslash,
  ipv6_more_than_8_groups,
  more_than_16_rcpt,
  size_from_2_32_to_2_64,
  auth_plain_authcid_past_255,
  bdat_0_then_bdat_last,
  vrfy_quoted_with_space,
  lf_dot_lf,
  rcpt_before_mail,
  ehlo_past_255,
  n_classes,
};

constexpr const char* class_names[n_classes] = {
    "MAIL/RCPT local part of 65..80 octets",
    "quoted local part ending in \\\\\"",
    "RCPT to an [IPv6: literal of more than 8 hex groups",
    "more than 16 RCPT lines",
    "SIZE= in [2^32, 2^64)",
    "AUTH PLAIN, 3 fields, authcid > 255",
    "BDAT 0, later BDAT n LAST",
    "VRFY \"quoted with space\"",
    "\\n.\\n in the octets",
    "RCPT with no MAIL before it",
    "EHLO argument > 255 octets",
};

using found_set = std::array<bool, n_classes>;

// The local part of the path in a MAIL or RCPT line (source route left out).
std::string_view local_part(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  const std::size_t lt = line.find('<', colon);
  if (lt == std::string_view::npos) return {};
  std::size_t gt = line.find('>', lt);
  if (gt == std::string_view::npos) gt = line.size();
  std::string_view path = line.substr(lt + 1, gt - lt - 1);
  if (!path.empty() && path[0] == '@') {
    const std::size_t c = path.find(':');
    if (c != std::string_view::npos) path.remove_prefix(c + 1);
  }
  const std::size_t at = path.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : path.substr(0, at);
}

bool escaped_backslash_at_end(std::string_view local) {
  if (local.size() < 4 || local.front() != '"' || local.back() != '"') return false;
  std::size_t run = 0;
  for (std::size_t i = local.size() - 1; i > 0 && local[i - 1] == '\\'; --i) ++run;
  return run >= 2 && run % 2 == 0;
}

// A RCPT path whose domain is an IPv6 literal of more than 8 groups, each
// of 1-4 hex digits (past RFC 5321 §4.1.3's limit in the count alone).
bool ipv6_many_groups(std::string_view line) {
  if (!istarts(line, "rcpt to:")) return false;
  for (std::size_t p = 0; p + 6 <= line.size(); ++p) {
    if (!istarts(line.substr(p), "[ipv6:")) continue;
    const std::size_t e = line.find(']', p);
    if (e == std::string_view::npos) return false;
    std::size_t groups = 0, digits = 0;
    for (std::size_t i = p + 6; i <= e; ++i) {
      if (i == e || line[i] == ':') {
        if (digits == 0 || digits > 4) return false;
        ++groups;
        digits = 0;
      } else if (std::isxdigit(static_cast<unsigned char>(line[i])) != 0) {
        ++digits;
      } else {
        return false;
      }
    }
    return groups > 8;
  }
  return false;
}

bool size_in_range(std::string_view line) {
  for (std::size_t p = 0; p + 5 <= line.size(); ++p) {
    if (!(p == 0 || line[p - 1] == ' ') || !istarts(line.substr(p), "SIZE=")) continue;
    std::size_t i = p + 5;
    std::uint64_t v = 0;
    bool digits = false, overflow = false;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      digits = true;
      const auto d = static_cast<std::uint64_t>(line[i] - '0');
      if (v > (UINT64_MAX - d) / 10) overflow = true;
      v = v * 10 + d;
    }
    if (digits && !overflow && (i == line.size() || line[i] == ' ') && v >= (std::uint64_t{1} << 32)) return true;
  }
  return false;
}

bool plain_long_authcid(std::string_view b64) {
  const auto msg = unbase64(b64);
  if (!msg) return false;
  const std::size_t a = msg->find('\0');
  if (a == std::string::npos) return false;
  const std::size_t b = msg->find('\0', a + 1);
  if (b == std::string::npos || msg->find('\0', b + 1) != std::string::npos) return false;
  return b - a - 1 > 255;
}

bool bdat_last(std::string_view line) {
  if (!istarts(line, "BDAT ")) return false;
  std::size_t i = 5;
  const std::size_t start = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  return i > start && iequals(line.substr(i), " LAST");
}

bool vrfy_quoted_space(std::string_view line) {
  if (!istarts(line, "VRFY ")) return false;
  const std::size_t open = line.find('"', 5), close = line.rfind('"');
  return open != std::string_view::npos && close > open &&
         line.substr(open, close - open).find(' ') != std::string_view::npos;
}

// Which classes one dialogue belongs to.
void classify(const dialogue& d, found_set& found) {
  const std::string all = d.bytes();
  if (all.find("\n.\n") != std::string::npos) found[lf_dot_lf] = true;
  std::vector<std::string_view> lines;
  for (std::size_t p = 0; p < all.size();) {
    std::size_t nl = all.find('\n', p);
    if (nl == std::string::npos) nl = all.size();
    std::string_view l(all.data() + p, nl - p);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    p = nl + 1;
  }
  std::size_t rcpts = 0;
  bool mail_seen = false, bdat0_seen = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    const bool mail = istarts(l, "MAIL "), rcpt = istarts(l, "RCPT ");
    if (mail) mail_seen = true;
    if (rcpt) {
      ++rcpts;
      if (!mail_seen) found[rcpt_before_mail] = true;
    }
    if (mail || rcpt) {
      const std::string_view local = local_part(l);
      if (local.size() >= 65 && local.size() <= 80) found[local_65_to_80] = true;
      if (escaped_backslash_at_end(local)) found[quoted_local_ending_in_escaped_backslash] = true;
      if (size_in_range(l)) found[size_from_2_32_to_2_64] = true;
    }
    if (ipv6_many_groups(l)) found[ipv6_more_than_8_groups] = true;
    if (istarts(l, "AUTH PLAIN ") && plain_long_authcid(l.substr(11))) found[auth_plain_authcid_past_255] = true;
    if (iequals(l, "AUTH PLAIN") && i + 1 < lines.size() && plain_long_authcid(lines[i + 1])) {
      found[auth_plain_authcid_past_255] = true;
    }
    if (iequals(l, "BDAT 0")) bdat0_seen = true;
    if (bdat0_seen && bdat_last(l)) found[bdat_0_then_bdat_last] = true;
    if (vrfy_quoted_space(l)) found[vrfy_quoted_with_space] = true;
    if (istarts(l, "EHLO ") && l.size() - 5 > 255) found[ehlo_past_255] = true;
  }
  if (rcpts > 16) found[more_than_16_rcpt] = true;
}

// Tries until each class is reached (or `budget` runs out); the try that
// first reached each, 0 for never. Chains mutations, back to the seed every 8.
std::array<std::size_t, n_classes> reach(mutator_kind kind, std::size_t budget, std::uint64_t rng_seed) {
  std::array<std::size_t, n_classes> first{};
  std::mt19937_64 rng(rng_seed);
  const dialogue donor = seed();
  dialogue d;
  std::size_t left = n_classes;
  for (std::size_t i = 0; i < budget && left > 0; ++i) {
    if (i % 8 == 0) d = seed();
    mutate(d, &donor, rng, kind);
    found_set found{};
    classify(d, found);
    for (std::size_t c = 0; c < n_classes; ++c) {
      if (found[c] && first[c] == 0) {
        first[c] = i + 1;
        --left;
      }
    }
  }
  return first;
}

TEST(Mutate, ClassifierSeesTheClasses) {
  // The checks themselves, on hand-written dialogues.
  dialogue d;
  d.writes = {
      {"EHLO " + std::string(256, 'a') + "\r\n", 0},
      {"RCPT TO:<\"ab\\\\\"@[IPv6:1:2:3:4:5:6:7:8:9]>\r\n", 0},
      {"MAIL FROM:<" + std::string(70, 'x') + "@b.test> SIZE=4294967296\r\n", 0},
      {"AUTH PLAIN " + base64(std::string(1, '\0') + std::string(300, 'x') + std::string(1, '\0') + "pw") + "\r\n", 0},
      {"VRFY \"John Smith\"\r\n", 0},
      {"DATA\r\nx\n.\n", 0},
      {"BDAT 0\r\nBDAT 3 LAST\r\nabc", 0}};
  d.writes.insert(d.writes.begin() + 1, 16, write{"RCPT TO:<a@b>\r\n", 0});
  found_set found{};
  classify(d, found);
  for (std::size_t c = 0; c < n_classes; ++c) EXPECT_TRUE(found[c]) << class_names[c];
  found = {};
  classify(seed(), found);
  for (std::size_t c = 0; c < n_classes; ++c) EXPECT_FALSE(found[c]) << class_names[c];
}

// From the seed, each class within 200000 tries, for each of five generator
// seeds. The byte mutator's figures are printed for comparison only.
TEST(Mutate, GrammarReachesEachClass) {
  constexpr std::size_t budget = 200000, bytes_budget = 50000;
  constexpr std::uint64_t rng_seeds[] = {9, 10, 11, 12, 13};
  std::array<std::vector<std::size_t>, n_classes> grammar, bytes;
  for (const auto s : rng_seeds) {
    const auto g = reach(mutator_kind::grammar, budget, s);
    const auto b = reach(mutator_kind::bytes, bytes_budget, s);
    for (std::size_t c = 0; c < n_classes; ++c) {
      EXPECT_GT(g[c], 0u) << class_names[c] << " not reached in " << budget << " tries (seed " << s << ")";
      grammar[c].push_back(g[c]);
      bytes[c].push_back(b[c]);
    }
  }
  std::cout << "  tries to reach each class from the seed, over generator seeds 9-13 (0: not in " << bytes_budget
            << "):\n";
  for (std::size_t c = 0; c < n_classes; ++c) {
    std::cout << "  " << class_names[c] << ": grammar";
    for (auto n : grammar[c]) std::cout << " " << n;
    std::cout << "; bytes";
    for (auto n : bytes[c]) std::cout << " " << n;
    std::cout << "\n";
  }
}

// Repeated RCPT writes name distinct recipients.
TEST(Mutate, RepeatedRecipientsAreDistinct) {
  std::mt19937_64 rng(10);
  int checked = 0;
  for (int i = 0; i < 100000 && checked < 5; ++i) {
    dialogue d = seed();
    mutate(d, nullptr, rng, mutator_kind::grammar);
    std::vector<std::string> rcpts;
    for (const auto& w : d.writes) {
      if (w.bytes.rfind("RCPT TO:<bob", 0) == 0) rcpts.push_back(w.bytes);
    }
    if (rcpts.size() <= 16) continue;
    const std::set<std::string> distinct(rcpts.begin(), rcpts.end());
    if (distinct.size() == rcpts.size()) ++checked;
  }
  EXPECT_EQ(checked, 5);
}

}  // namespace
}  // namespace smtpkit::fuzz
