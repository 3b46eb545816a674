// fuzz/reference/generate.cpp — writes random inputs that a rule of the
// reference grammar (smtp.abnf, RFC 5321 and extensions) accepts, as seed
// files for a fuzz target's corpus.
//
//   smtpkit_abnf_generate --rule NAME --out DIR [--count N] [--seed S]
//                         [--prefix HEX] [--strip-crlf] [--utf8] [--max-len N]
//
// --prefix puts bytes before each input (a target's option or selector byte),
// --strip-crlf drops the final CRLF of line-level rules (parse_command takes
// the line without it). Every input written is matched against the rule
// again, so the generator and the matcher keep each other honest.
// Limits: expansions deeper than a fixed depth take their shallowest
// alternative; repetitions stay short (min + up to 3); the same seed gives the
// same files. Inputs may still break limits the ABNF does not state (lengths).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "reference/grammar.hpp"

namespace {

using smtpkit::abnf::grammar;
using smtpkit::abnf::node;

constexpr std::size_t unreachable = static_cast<std::size_t>(-1) / 4;

class generator {
 public:
  generator(const grammar& g, std::uint64_t seed) : g_(g), rng_(seed), depth_of_(g.size(), unreachable) {
    // Shallowest expansion of each rule, by fixpoint, so deep choices end.
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t i = 0; i < g.size(); ++i) {
        std::size_t d = 1 + depth(g.at(i).body);
        if (d < depth_of_[i]) {
          depth_of_[i] = d;
          changed = true;
        }
      }
    }
  }

  std::string make(std::size_t rule) {
    std::string out;
    emit(g_.at(rule).body, 0, out);
    return out;
  }

 private:
  std::size_t depth(const node& n) const {
    switch (n.type) {
      case node::kind::alternation: {
        std::size_t best = unreachable;
        for (const auto& c : n.children) best = std::min(best, depth(c));
        return best;
      }
      case node::kind::concatenation: {
        std::size_t worst = 0;
        for (const auto& c : n.children) worst = std::max(worst, depth(c));
        return worst;
      }
      case node::kind::repetition: return n.min == 0 ? 0 : depth(n.children[0]);
      case node::kind::rule: return depth_of_[n.rule];
      default: return 0;
    }
  }

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  void emit(const node& n, std::size_t level, std::string& out) {
    constexpr std::size_t deep = 24;
    switch (n.type) {
      case node::kind::alternation: {
        std::size_t choice = pick(n.children.size());
        if (level > deep) {
          std::size_t best = unreachable;
          for (std::size_t i = 0; i < n.children.size(); ++i)
            if (depth(n.children[i]) < best) best = depth(n.children[choice = i]);
        }
        emit(n.children[choice], level, out);
        return;
      }
      case node::kind::concatenation:
        for (const auto& c : n.children) emit(c, level, out);
        return;
      case node::kind::repetition: {
        std::size_t extra = level > deep ? 0 : pick(4);
        std::size_t count = n.min + extra;
        if (n.max != node::npos && count > n.max) count = n.max;
        for (std::size_t i = 0; i < count; ++i) emit(n.children[0], level + 1, out);
        return;
      }
      case node::kind::rule: emit(g_.at(n.rule).body, level + 1, out); return;
      case node::kind::literal:
        for (char c : n.text) {
          // char-vals are case-insensitive: vary the case now and then.
          if (c >= 'a' && c <= 'z' && pick(4) == 0) c = static_cast<char>(c - 32);
          else if (c >= 'a' && c <= 'z' && pick(2) == 0) c = static_cast<char>(c - 32);
          out.push_back(c);
        }
        return;
      case node::kind::range: {
        const std::uint32_t hi = n.hi > 255 ? 255 : n.hi;
        out.push_back(static_cast<char>(n.lo + pick(hi - n.lo + 1)));
        return;
      }
      case node::kind::sequence:
        for (auto v : n.values) out.push_back(static_cast<char>(v));
        return;
    }
  }

  const grammar& g_;
  std::mt19937_64 rng_;
  std::vector<std::size_t> depth_of_;
};

int usage() {
  std::fprintf(stderr,
               "usage: smtpkit_abnf_generate --rule NAME --out DIR [--count N] [--seed S] [--prefix HEX]\n"
               "                             [--strip-crlf] [--utf8] [--max-len N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rule, out_dir, prefix_hex;
  std::size_t count = 20, max_len = 400;
  std::uint64_t seed = 1;
  bool strip = false, utf8 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--rule") rule = value();
    else if (a == "--out") out_dir = value();
    else if (a == "--count") count = std::stoul(value());
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--prefix") prefix_hex = value();
    else if (a == "--max-len") max_len = std::stoul(value());
    else if (a == "--strip-crlf") strip = true;
    else if (a == "--utf8") utf8 = true;
    else return usage();
  }
  if (rule.empty() || out_dir.empty() || prefix_hex.size() % 2) return usage();
  const grammar& g = smtpkit::reference::smtp_grammar(utf8);
  const std::size_t r = g.find(rule);
  if (r == node::npos) {
    std::fprintf(stderr, "smtpkit_abnf_generate: no rule %s\n", rule.c_str());
    return 2;
  }
  std::string prefix;
  for (std::size_t i = 0; i < prefix_hex.size(); i += 2)
    prefix.push_back(static_cast<char>(std::stoul(prefix_hex.substr(i, 2), nullptr, 16)));
  std::filesystem::create_directories(out_dir);
  generator gen(g, seed);
  std::size_t written = 0;
  for (std::size_t attempt = 0; written < count && attempt < count * 50; ++attempt) {
    std::string s = gen.make(r);
    if (s.size() > max_len) continue;
    smtpkit::abnf::matcher m(g, s);
    if (!m.matches(rule)) {
      std::fprintf(stderr, "smtpkit_abnf_generate: generated input does not match %s\n", rule.c_str());
      return 1;
    }
    if (strip && s.size() >= 2 && s.compare(s.size() - 2, 2, "\r\n") == 0) s.resize(s.size() - 2);
    char name[64];
    std::snprintf(name, sizeof name, "gen-%s-%03zu", rule.c_str(), written);
    std::ofstream f(std::filesystem::path(out_dir) / name, std::ios::binary);
    f << prefix << s;
    ++written;
  }
  std::printf("%zu inputs for %s in %s\n", written, rule.c_str(), out_dir.c_str());
  return written == count ? 0 : 1;
}
