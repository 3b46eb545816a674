// pattern.cpp — script line patterns compiled to RE2.
#include "smtpkit/mock/script/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "smtpkit/escape.hpp"

namespace smtpkit::mock {
namespace {

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '-'; }

// RE2 group names allow [A-Za-z0-9_] only; map '-' to a safe spelling.
std::string group_name(const std::string& name, std::size_t index) {
  std::string g = "c" + std::to_string(index) + "_";
  for (char c : name) g += c == '-' ? '_' : c;
  return g;
}

}  // namespace

std::optional<pattern> pattern::compile(std::string_view text, pattern_error& err) {
  std::string expr = "(?i)";
  pattern p;
  p.text_ = std::string(text);
  std::string literal;
  std::size_t literal_at = 0;
  auto flush_literal = [&]() -> bool {
    if (literal.empty()) return true;
    std::string bytes;
    unescape_error ue;
    if (!unescape(literal, bytes, ue)) {
      err = {literal_at + ue.column, ue.message};
      return false;
    }
    expr += RE2::QuoteMeta(bytes);
    literal.clear();
    return true;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {  // keep escapes whole so "\{" is not a token
      if (literal.empty()) literal_at = i;
      literal.append(text.substr(i, 2));
      i += 2;
      continue;
    }
    if (c != '{') {
      if (literal.empty()) literal_at = i;
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      if (literal.empty()) literal_at = i;
      literal += '{';
      i += 2;
      continue;
    }
    if (!flush_literal()) return std::nullopt;
    const std::size_t open = i;
    if (text.substr(i, 4) == "{re:") {
      // The expression ends at the "}" that balances its own braces.
      std::size_t j = i + 4;
      int depth = 0;
      for (; j < text.size(); ++j) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          ++j;
          continue;
        }
        if (text[j] == '{') ++depth;
        else if (text[j] == '}') {
          if (depth == 0) break;
          --depth;
        }
      }
      if (j >= text.size()) {
        err = {open, "expected '}' to end {re:...}"};
        return std::nullopt;
      }
      std::string re(text.substr(i + 4, j - i - 4));
      RE2::Options o;
      o.set_log_errors(false);
      o.set_encoding(RE2::Options::EncodingLatin1);
      RE2 check(re, o);
      if (!check.ok()) {
        err = {open, "invalid regular expression: " + check.error()};
        return std::nullopt;
      }
      expr += "(?:" + re + ")";
      i = j + 1;
      continue;
    }
    std::size_t close = text.find('}', i);
    if (close == std::string_view::npos) {
      err = {open, "expected '}' (write a literal '{' as '{{')"};
      return std::nullopt;
    }
    std::string token(text.substr(i + 1, close - i - 1));
    if (token == "*") {
      expr += "(?s:.*)";
    } else {
      bool ok = !token.empty() && ident_start(token[0]) && std::all_of(token.begin(), token.end(), ident_char);
      if (!ok) {
        err = {open, "expected {*}, {name}, {re:EXPR} or {{ (got {" + token + "})"};
        return std::nullopt;
      }
      if (std::find(p.names_.begin(), p.names_.end(), token) != p.names_.end()) {
        err = {open, "capture {" + token + "} appears twice in one pattern"};
        return std::nullopt;
      }
      expr += "(?P<" + group_name(token, p.names_.size()) + ">(?s:.*))";
      p.names_.push_back(token);
    }
    i = close + 1;
  }
  if (!flush_literal()) return std::nullopt;
  RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_dot_nl(true);
  auto re = std::make_shared<const RE2>(expr, o);
  if (!re->ok()) {
    err = {0, "invalid pattern: " + re->error()};
    return std::nullopt;
  }
  p.re_ = std::move(re);
  return p;
}

bool pattern::match(std::string_view line, captures* out) const {
  const int groups = re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> subs(static_cast<std::size_t>(groups) + 1);
  if (!re_->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::ANCHOR_BOTH, subs.data(),
                  groups + 1))
    return false;
  if (out) {
    const auto& named = re_->NamedCapturingGroups();
    for (std::size_t k = 0; k < names_.size(); ++k) {
      auto it = named.find(group_name(names_[k], k));
      if (it == named.end()) continue;
      const auto& sp = subs[static_cast<std::size_t>(it->second)];
      out->emplace_back(names_[k], std::string(sp.data(), sp.size()));
    }
  }
  return true;
}

const std::string* find_capture(const captures& values, std::string_view name) {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (it->first == name) return &it->second;
  return nullptr;
}

std::string substitute(std::string_view text, const captures& values, const std::vector<std::string>& known) {
  if (known.empty() || text.find('{') == std::string_view::npos) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      std::size_t close = text.find('}', i);
      if (close != std::string_view::npos) {
        std::string name(text.substr(i + 1, close - i - 1));
        if (std::find(known.begin(), known.end(), name) != known.end()) {
          if (const std::string* v = find_capture(values, name)) out += *v;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace smtpkit::mock
