// fuzz/reference/abnf.cpp — reader and matcher of RFC 5234 ABNF (see
// abnf.hpp for what is supported and why the matcher works on sets).
#include "reference/abnf.hpp"

#include <algorithm>

namespace smtpkit::abnf {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5234 §4: comments run from ";" to the end of the line, except inside
// a char-val or a prose-val.
std::string strip_comment(std::string_view line) {
  std::string out;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"') {
      quote = '"';
    } else if (c == '<') {
      quote = '>';
    } else if (c == ';') {
      break;
    }
    out.push_back(c);
  }
  while (!out.empty() && (is_wsp(out.back()) || out.back() == '\r')) out.pop_back();
  return out;
}

// Recursive descent over one rule's text (continuation lines joined).
class reader {
 public:
  explicit reader(std::string_view s) : s_(s) {}

  bool rule(std::string& name, bool& incremental, node& body, std::string& why) {
    skip();
    const std::size_t start = pos_;
    if (pos_ >= s_.size() || !is_alpha(s_[pos_])) return fail(why, "expected a rule name");
    while (pos_ < s_.size() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]) || s_[pos_] == '-')) ++pos_;
    name = std::string(s_.substr(start, pos_ - start));
    skip();
    if (pos_ >= s_.size() || s_[pos_] != '=') return fail(why, "expected '=' or '=/'");
    ++pos_;
    incremental = pos_ < s_.size() && s_[pos_] == '/';
    if (incremental) ++pos_;
    if (!alternation(body, why)) return false;
    skip();
    if (pos_ != s_.size()) return fail(why, "unexpected text");
    return true;
  }

 private:
  bool fail(std::string& why, std::string_view what) {
    why = std::string(what) + " at column " + std::to_string(pos_ + 1);
    return false;
  }
  void skip() {
    while (pos_ < s_.size() && is_wsp(s_[pos_])) ++pos_;
  }
  bool at_end_of_concatenation() { return pos_ >= s_.size() || s_[pos_] == '/' || s_[pos_] == ')' || s_[pos_] == ']'; }

  bool alternation(node& out, std::string& why) {
    out = node{};
    out.type = node::kind::alternation;
    for (;;) {
      node c;
      if (!concatenation(c, why)) return false;
      out.children.push_back(std::move(c));
      skip();
      if (pos_ < s_.size() && s_[pos_] == '/') {
        ++pos_;
        continue;
      }
      return true;
    }
  }

  bool concatenation(node& out, std::string& why) {
    out.type = node::kind::concatenation;
    skip();
    for (;;) {
      node r;
      if (!repetition(r, why)) return false;
      out.children.push_back(std::move(r));
      skip();
      if (at_end_of_concatenation()) return true;
    }
  }

  bool number(std::size_t& out) {
    const std::size_t start = pos_;
    out = 0;
    while (pos_ < s_.size() && is_digit(s_[pos_])) out = out * 10 + static_cast<std::size_t>(s_[pos_++] - '0');
    return pos_ > start;
  }

  bool repetition(node& out, std::string& why) {
    std::size_t lo = 1, hi = 1;
    std::size_t n = 0;
    const bool has_lo = number(n);
    bool repeated = has_lo;
    if (has_lo) lo = hi = n;
    if (pos_ < s_.size() && s_[pos_] == '*') {
      ++pos_;
      repeated = true;
      if (!has_lo) lo = 0;
      hi = number(n) ? n : node::npos;
    }
    node e;
    if (!element(e, why)) return false;
    if (!repeated) {
      out = std::move(e);
      return true;
    }
    if (hi < lo) return fail(why, "repetition with max below min");
    out = node{};
    out.type = node::kind::repetition;
    out.min = lo;
    out.max = hi;
    out.children.push_back(std::move(e));
    return true;
  }

  bool element(node& out, std::string& why) {
    if (pos_ >= s_.size()) return fail(why, "expected an element");
    const char c = s_[pos_];
    if (is_alpha(c)) {
      const std::size_t start = pos_;
      while (pos_ < s_.size() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]) || s_[pos_] == '-')) ++pos_;
      out.type = node::kind::rule;
      out.text = lower(s_.substr(start, pos_ - start));
      return true;
    }
    if (c == '(' || c == '[') {
      ++pos_;
      node inner;
      if (!alternation(inner, why)) return false;
      skip();
      const char close = c == '(' ? ')' : ']';
      if (pos_ >= s_.size() || s_[pos_] != close) return fail(why, "unclosed group");
      ++pos_;
      if (c == '(') {
        out = std::move(inner);
      } else {
        out.type = node::kind::repetition;
        out.min = 0;
        out.max = 1;
        out.children.push_back(std::move(inner));
      }
      return true;
    }
    if (c == '"') {
      const std::size_t close = s_.find('"', pos_ + 1);
      if (close == std::string_view::npos) return fail(why, "unterminated char-val");
      out.type = node::kind::literal;
      out.text = lower(s_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return true;
    }
    if (c == '%') return num_val(out, why);
    if (c == '<') return fail(why, "prose-val is not formal");
    return fail(why, "unexpected character");
  }

  bool digits(unsigned base, std::uint32_t& out) {
    const std::size_t start = pos_;
    out = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      unsigned d;
      if (is_digit(c)) d = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
      else break;
      if (d >= base) break;
      out = out * base + d;
      ++pos_;
    }
    return pos_ > start;
  }

  bool num_val(node& out, std::string& why) {
    ++pos_;  // '%'
    if (pos_ >= s_.size()) return fail(why, "expected b, d or x after '%'");
    const char b = static_cast<char>(s_[pos_] | 0x20);
    const unsigned base = b == 'b' ? 2 : b == 'd' ? 10 : b == 'x' ? 16 : 0;
    if (base == 0) return fail(why, "expected b, d or x after '%'");
    ++pos_;
    std::uint32_t first;
    if (!digits(base, first)) return fail(why, "expected digits");
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
      std::uint32_t last;
      if (!digits(base, last) || last < first) return fail(why, "bad range");
      out.type = node::kind::range;
      out.lo = first;
      out.hi = last;
      return true;
    }
    out.type = node::kind::sequence;
    out.values.push_back(first);
    while (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      std::uint32_t v;
      if (!digits(base, v)) return fail(why, "expected digits after '.'");
      out.values.push_back(v);
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

void normalize(ends& e) {
  std::sort(e.begin(), e.end());
  e.erase(std::unique(e.begin(), e.end()), e.end());
}

}  // namespace

std::string grammar::add(std::string_view text) {
  // Join continuation lines (those that start with white space) to their rule.
  std::vector<std::pair<std::size_t, std::string>> rules;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    ++line_no;
    std::string line = strip_comment(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (is_wsp(line[0])) {
      if (rules.empty()) return "line " + std::to_string(line_no) + ": continuation before any rule";
      rules.back().second += " " + line;
    } else {
      rules.emplace_back(line_no, line);
    }
  }
  for (auto& [at, body_text] : rules) {
    reader r(body_text);
    std::string name, why;
    bool incremental = false;
    node body;
    if (!r.rule(name, incremental, body, why)) return "line " + std::to_string(at) + ": " + why;
    const std::string key = lower(name);
    auto it = index_.find(key);
    if (incremental) {
      if (it == index_.end()) return "line " + std::to_string(at) + ": '=/' for undefined rule " + name;
      auto& alts = rules_[it->second].body.children;
      for (auto& c : body.children) alts.push_back(std::move(c));
    } else {
      if (it != index_.end()) return "line " + std::to_string(at) + ": rule " + name + " defined twice";
      index_.emplace(key, rules_.size());
      rules_.push_back({name, std::move(body), false, {}});
    }
  }
  return {};
}

std::size_t grammar::find(std::string_view name) const {
  auto it = index_.find(lower(name));
  return it == index_.end() ? node::npos : it->second;
}

std::string grammar::resolve(node& n) {
  std::string missing;
  if (n.type == node::kind::rule) {
    n.rule = find(n.text);
    if (n.rule == node::npos) missing = n.text + " ";
  }
  for (auto& c : n.children) missing += resolve(c);
  return missing;
}

// True when `n` always matches exactly one octet; fills the octets it takes.
bool grammar::octet_set(const node& n, std::bitset<256>& out, std::vector<bool>& busy) const {
  switch (n.type) {
    case node::kind::alternation:
      for (const auto& c : n.children)
        if (!octet_set(c, out, busy)) return false;
      return true;
    case node::kind::concatenation: return n.children.size() == 1 && octet_set(n.children[0], out, busy);
    case node::kind::repetition: return n.min == 1 && n.max == 1 && octet_set(n.children[0], out, busy);
    case node::kind::literal:
      if (n.text.size() != 1) return false;
      out.set(static_cast<unsigned char>(n.text[0]));
      if (n.text[0] >= 'a' && n.text[0] <= 'z') out.set(static_cast<unsigned char>(n.text[0] - 32));
      return true;
    case node::kind::range:
      for (std::uint32_t v = n.lo; v <= n.hi && v < 256; ++v) out.set(v);
      return true;
    case node::kind::sequence:
      if (n.values.size() != 1) return false;
      if (n.values[0] < 256) out.set(n.values[0]);
      return true;
    case node::kind::rule:
      if (busy[n.rule]) return false;
      busy[n.rule] = true;
      {
        const bool one = octet_set(rules_[n.rule].body, out, busy);
        busy[n.rule] = false;
        return one;
      }
  }
  return false;
}

std::string grammar::finish() {
  std::string missing;
  for (auto& r : rules_) missing += resolve(r.body);
  if (!missing.empty()) return "undefined rules: " + missing;
  std::vector<bool> busy(rules_.size(), false);
  for (auto& r : rules_) {
    std::bitset<256> set;
    r.single_octet = octet_set(r.body, set, busy);
    r.octets = set;
  }
  return {};
}

const ends& matcher::ends_of(std::string_view rule, std::size_t pos) {
  const std::size_t i = g_.find(rule);
  if (i == node::npos) return none_;
  return ends_of(i, pos);
}

const ends& matcher::ends_of(std::size_t rule, std::size_t pos) {
  const std::uint64_t key = static_cast<std::uint64_t>(rule) * (in_.size() + 1) + pos;
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second.busy ? none_ : it->second.value;
  memo_.emplace(key, entry{});
  ends out;
  match(g_.at(rule).body, pos, out);
  normalize(out);
  entry& e = memo_[key];
  e.value = std::move(out);
  e.busy = false;
  return e.value;
}

bool matcher::matches(std::string_view rule) {
  const ends& e = ends_of(rule, 0);
  return std::binary_search(e.begin(), e.end(), in_.size());
}

bool matcher::literal_at(const node& n, std::size_t pos) const {
  if (in_.size() - pos < n.text.size()) return false;
  for (std::size_t i = 0; i < n.text.size(); ++i) {
    char c = in_[pos + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != n.text[i]) return false;
  }
  return true;
}

void matcher::match_repetition(const node& n, std::size_t pos, ends& out) {
  // Level k holds the ends after exactly k matches of the element. Past the
  // minimum, stop once a level adds no end not already collected: every
  // later level is then made of collected ends too.
  ends level{pos};
  ends collected;
  if (n.min == 0) collected.push_back(pos);
  for (std::size_t k = 1; k <= n.max && !level.empty(); ++k) {
    ends next;
    for (std::size_t p : level) match(n.children[0], p, next);
    normalize(next);
    level = std::move(next);
    if (k < n.min) continue;
    const std::size_t before = collected.size();
    ends merged;
    std::set_union(collected.begin(), collected.end(), level.begin(), level.end(), std::back_inserter(merged));
    collected = std::move(merged);
    if (collected.size() == before && k > n.min) break;
  }
  out.insert(out.end(), collected.begin(), collected.end());
}

void matcher::match(const node& n, std::size_t pos, ends& out) {
  switch (n.type) {
    case node::kind::alternation:
      for (const auto& c : n.children) match(c, pos, out);
      return;
    case node::kind::concatenation: {
      ends cur{pos};
      for (const auto& c : n.children) {
        ends next;
        for (std::size_t p : cur) match(c, p, next);
        normalize(next);
        cur = std::move(next);
        if (cur.empty()) return;
      }
      out.insert(out.end(), cur.begin(), cur.end());
      return;
    }
    case node::kind::repetition: match_repetition(n, pos, out); return;
    case node::kind::rule: {
      const rule_def& r = g_.at(n.rule);
      if (r.single_octet) {
        if (pos < in_.size() && r.octets.test(static_cast<unsigned char>(in_[pos]))) out.push_back(pos + 1);
        return;
      }
      const ends& e = ends_of(n.rule, pos);
      out.insert(out.end(), e.begin(), e.end());
      return;
    }
    case node::kind::literal:
      if (literal_at(n, pos)) out.push_back(pos + n.text.size());
      return;
    case node::kind::range:
      if (pos < in_.size()) {
        const auto c = static_cast<unsigned char>(in_[pos]);
        if (c >= n.lo && c <= n.hi) out.push_back(pos + 1);
      }
      return;
    case node::kind::sequence:
      if (in_.size() - pos < n.values.size()) return;
      for (std::size_t i = 0; i < n.values.size(); ++i)
        if (static_cast<unsigned char>(in_[pos + i]) != n.values[i]) return;
      out.push_back(pos + n.values.size());
      return;
  }
}

}  // namespace smtpkit::abnf
