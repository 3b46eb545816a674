// fuzz/reference/abnf.hpp — a small, slow, obviously-correct ABNF engine
// (RFC 5234, with RFC 5234 §3.3 incremental alternatives "=/") used as the
// reference the fast parser is compared with.
//
// grammar::add() reads rule text: rules (names case-insensitive), "=" and
// "=/", alternation "/", concatenation, repetition n*m / n / *, groups,
// options [ ], char-vals (case-insensitive), %b/%d/%x num-vals with ranges
// and dotted sequences, comments and continuation lines. Prose-vals < > are
// refused: everything the reference uses must be formal.
//
// matcher computes, for a rule and a start position, the SET of every end
// position at which the rule can match (all parses, not a PEG's first
// choice), memoised per (rule, position). Repetitions iterate until their
// frontier adds nothing new, so rules that match the empty string terminate.
// Rules whose every alternative is one octet become 256-entry tables.
// Limits: octets only (num-vals above 255 never match); left recursion is
// not supported (the matcher reports no match for a rule that re-enters
// itself at the same position); cost grows with input length times grammar
// size, fine for lines of a few hundred octets.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smtpkit::abnf {

struct node {
  enum class kind : std::uint8_t { alternation, concatenation, repetition, rule, literal, range, sequence };
  kind type = kind::alternation;
  std::vector<node> children;         ///< alternation, concatenation; repetition has one
  std::size_t min = 1;                ///< repetition
  std::size_t max = 1;                ///< repetition; npos for no upper bound
  std::string text;                   ///< literal: the char-val, lower-cased; rule: the name, lower-cased
  std::uint32_t lo = 0, hi = 0;       ///< range: %x41-5A
  std::vector<std::uint32_t> values;  ///< sequence: %d13.10
  std::size_t rule = npos;            ///< rule: index once resolved

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
};

struct rule_def {
  std::string name;  ///< as first written
  node body;         ///< always an alternation
  bool single_octet = false;
  std::bitset<256> octets;  ///< when single_octet
};

class grammar {
 public:
  /// Add rules from ABNF text. Returns an empty string, or "line N: why".
  std::string add(std::string_view text);
  /// Resolve rule references; returns the names of undefined rules, if any.
  std::string finish();
  [[nodiscard]] std::size_t find(std::string_view name) const;  ///< npos when absent
  [[nodiscard]] const rule_def& at(std::size_t i) const { return rules_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return rules_.size(); }

 private:
  bool octet_set(const node& n, std::bitset<256>& out, std::vector<bool>& busy) const;
  std::string resolve(node& n);
  std::vector<rule_def> rules_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Sorted, duplicate-free end positions.
using ends = std::vector<std::size_t>;

class matcher {
 public:
  matcher(const grammar& g, std::string_view input) : g_(g), in_(input) {}
  /// Every position at which `rule` can end when it starts at `pos`.
  const ends& ends_of(std::size_t rule, std::size_t pos);
  const ends& ends_of(std::string_view rule, std::size_t pos);
  /// The whole input matches `rule`.
  bool matches(std::string_view rule);

 private:
  void match(const node& n, std::size_t pos, ends& out);
  void match_repetition(const node& n, std::size_t pos, ends& out);
  bool literal_at(const node& n, std::size_t pos) const;

  const grammar& g_;
  std::string_view in_;
  struct entry {
    ends value;
    bool busy = true;
  };
  std::unordered_map<std::uint64_t, entry> memo_;
  ends none_;
};

/// Lower-case ASCII, as ABNF rule names and char-vals compare.
std::string lower(std::string_view s);

}  // namespace smtpkit::abnf
