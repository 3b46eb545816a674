// script.cpp — loading and validating scripts.
#include "smtpkit/mock/script/script.hpp"

#include "smtpkit/escape.hpp"

#include <algorithm>
#include <cstring>
#include <charconv>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace smtpkit::mock {
namespace {

struct fail {
  std::size_t line;
  std::size_t column;
  std::string message;
};

/// Steps one dialogue or rule may hold once its @repeat blocks are expanded.
constexpr std::size_t max_expanded_steps = 100000;

bool parse_uint(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

class loader {
 public:
  loader(const transcript& t, side plays, script& out) : t_(t), plays_(plays), out_(out) {}

  void run() {
    std::vector<step>* target = &dialogue(0);
    std::size_t i = 0;
    while (i < t_.records.size()) {
      const record& r = t_.records[i];
      if (r.kind == record_kind::directive && r.name == "session") {
        target = session_directive(r);
        ++i;
        continue;
      }
      if (r.kind == record_kind::directive && r.name == "rule") {
        i = rule_block(i);
        continue;
      }
      if (r.kind == record_kind::directive && meta_directive(r)) {
        ++i;
        continue;
      }
      i = steps(i, *target, /*in_rule=*/false, /*depth=*/0);
    }
    // @smuggle says QUIT itself: nothing may follow it in its dialogue.
    for (const auto& d : out_.dialogues)
      for (std::size_t k = 0; k + 1 < d.second.size(); ++k)
        if (d.second[k].kind == op::smuggle)
          throw fail{d.second[k + 1].line, 1, "@smuggle ends the dialogue (it sends QUIT); nothing may follow it"};
    // Drop the default dialogue when it stayed empty.
    out_.dialogues.erase(
        std::remove_if(out_.dialogues.begin(), out_.dialogues.end(), [](const auto& d) { return d.second.empty(); }),
        out_.dialogues.end());
    for (const auto& r : out_.rules)
      if (r.chance < 1.0 && !out_.seed)
        throw fail{r.line, 0, "a rule with chance= needs @seed N (never random unless seeded)"};
  }

 private:
  std::vector<step>& dialogue(std::size_t session) {
    for (auto& d : out_.dialogues)
      if (d.first == session) return d.second;
    out_.dialogues.emplace_back(session, std::vector<step>{});
    return out_.dialogues.back().second;
  }

  std::vector<step>* session_directive(const record& r) {
    if (r.args == "*") return &dialogue(0);
    std::uint64_t n = 0;
    if (!parse_uint(r.args, n) || n == 0)
      throw fail{r.line, 10, "expected a session number (1, 2, ...) or '*' after @session"};
    return &dialogue(n);
  }

  bool meta_directive(const record& r) {
    auto& m = out_.meta;
    if (r.name == "scenario") m.id = r.args;
    else if (r.name == "title") m.title = r.args;
    else if (r.name == "group") m.group = r.args;
    else if (r.name == "checks")
      for (auto w : words(r.args)) m.checks.emplace_back(w);
    else if (r.name == "requires")
      for (auto w : words(r.args)) m.requires_.emplace_back(w);
    else if (r.name == "timeout") m.timeout = duration_arg(r);
    else if (r.name == "level") {
      if (r.args != "must" && r.args != "should" && r.args != "may")
        throw fail{r.line, 8, "expected must, should or may after @level"};
      m.level = r.args;
    } else if (r.name == "rfc") m.rfc = r.args;
    else if (r.name == "on-close") {
      if (r.args != "pass" && r.args != "fail") throw fail{r.line, 11, "expected 'pass' or 'fail' after @on-close"};
      m.close_passes = r.args == "pass";
    } else if (r.name == "message") {
      unescape_error ue;
      std::string bytes;
      if (!unescape(r.args, bytes, ue)) throw fail{r.line, 10 + ue.column, ue.message};
      if (!m.has_message) m.message_line = r.line;
      m.message += bytes;
      m.has_message = true;
    } else if (r.name == "client") {
      for (auto w : words(r.args)) {
        auto name = w.substr(w.rfind('!', 0) == 0 ? 1 : 0);
        if (name != "requires-tls" && name != "auth" && name != "implicit-tls" && name != "verifies-cert")
          throw fail{r.line, 9 + static_cast<std::size_t>(w.data() - r.args.data()),
                     "expected requires-tls, auth, implicit-tls or verifies-cert (or !NAME) after @client"};
        m.client.emplace_back(w);
      }
      if (m.client.empty()) throw fail{r.line, 9, "expected what the client must be set up for after @client"};
    } else if (r.name == "rcpt") {
      // Addresses as the client is given them (UTF-8 allowed: RFC 6531 tests).
      for (auto w : words(r.args)) m.rcpts.emplace_back(w);
      if (m.rcpts.empty() || m.rcpts.size() > 2)
        throw fail{r.line, 7, "expected one or two recipient addresses after @rcpt"};
    } else if (r.name == "serve") {
      for (auto w : words(r.args)) m.serve.emplace_back(w);
      if (m.serve.empty()) throw fail{r.line, 8, "expected server options after @serve, e.g. @serve size=100"};
    } else if (r.name == "forbid") {
      std::string_view text = r.args;
      when tls = when::any;
      for (auto [prefix, w] : {std::pair{"tls=yes ", when::yes}, std::pair{"tls=no ", when::no}})
        if (text.substr(0, std::strlen(prefix)) == prefix) {
          tls = w;
          text.remove_prefix(std::strlen(prefix));
        }
      const std::size_t col = 9 + (r.args.size() - text.size());
      pattern_error pe;
      auto pat = pattern::compile(text, pe);
      if (!pat || text.empty())
        throw fail{r.line, col + pe.column,
                   text.empty() ? std::string("expected a command pattern after @forbid [tls=yes|no]") : pe.message};
      m.forbid.push_back({std::move(*pat), tls});
    } else if (r.name == "expect") {
      for (auto w : words(r.args)) {
        if (w != "body" && w != "delivered" && w != "reported" && w != "short-lines" && w != "quiet-after-421" &&
            w != "exits" && w != "may-refuse" && w != "exit-failure" && w != "exit-success")
          throw fail{r.line, 9 + static_cast<std::size_t>(w.data() - r.args.data()),
                     "expected body, delivered, reported, short-lines, quiet-after-421, exits, exit-failure or "
                     "exit-success after @expect"};
        m.expect.emplace_back(w);
      }
      if (m.expect.empty()) throw fail{r.line, 9, "expected what the client must achieve after @expect"};
    } else if (r.name == "strict-data") {
      if (!r.args.empty()) throw fail{r.line, 14, "@strict-data takes no arguments"};
      out_.strict_data = true;
    } else if (r.name == "data-ignore") {
      // RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII but ":").
      if (r.args.empty())
        throw fail{r.line, 14, "expected header field names after @data-ignore, e.g. @data-ignore X-Request-Id"};
      for (auto w : words(r.args)) {
        if (std::any_of(w.begin(), w.end(), [](char c) { return c == ':' || c < 33 || c > 126; }))
          throw fail{r.line, 14 + static_cast<std::size_t>(w.data() - r.args.data()),
                     "expected a header field name (printable, no ':') after @data-ignore"};
        out_.data_ignore.emplace_back(w);
      }
    } else if (r.name == "seed") {
      std::uint64_t n = 0;
      if (!parse_uint(r.args, n)) throw fail{r.line, 7, "expected a number after @seed"};
      out_.seed = n;
    } else if (r.name == "on-mismatch") {
      if (r.args == "close") {
        out_.mismatch_closes = true;
      } else if (r.args.rfind("reply ", 0) == 0 && r.args.size() > 6) {
        out_.mismatch_closes = false;
        unescape_error ue;
        if (!unescape(std::string_view(r.args).substr(6), out_.mismatch_reply, ue))
          throw fail{r.line, 20 + ue.column, ue.message};
      } else {
        throw fail{r.line, 14, "expected 'close' or 'reply TEXT' after @on-mismatch"};
      }
    } else {
      return false;
    }
    return true;
  }

  std::chrono::milliseconds duration_arg(const record& r) {
    auto d = parse_duration(r.args);
    if (!d) throw fail{r.line, r.name.size() + 3, "expected a duration like 5s, 250ms or 2m after @" + r.name};
    return *d;
  }

  // Reads steps from record i until a block end or a top-level structural
  // directive; returns the index of the next unread record.
  std::size_t steps(std::size_t i, std::vector<step>& out, bool in_rule, int depth) {
    while (i < t_.records.size()) {
      const record& r = t_.records[i];
      if (r.kind == record_kind::directive) {
        if (r.name == "end") {
          if (depth == 0 && !in_rule) throw fail{r.line, 1, "@end without @rule or @repeat"};
          return i;
        }
        if (r.name == "session" || r.name == "rule") {
          if (in_rule || depth > 0) throw fail{r.line, 1, "expected @end before @" + r.name};
          return i;
        }
        if (!in_rule && depth == 0 && meta_directive(r)) {
          ++i;
          continue;
        }
        if (r.name == "repeat") {
          std::uint64_t n = 0;
          if (!parse_uint(r.args, n) || n == 0 || n > 100000)
            throw fail{r.line, 9, "expected a count from 1 to 100000 after @repeat"};
          std::vector<step> body;
          std::size_t end = steps(i + 1, body, in_rule, depth + 1);
          if (end >= t_.records.size()) throw fail{r.line, 1, "@repeat without @end"};
          // Blocks are expanded here, so nested ones multiply: bound the
          // result, or a few lines of script could take all memory.
          if (body.size() * n > max_expanded_steps - std::min(out.size(), max_expanded_steps))
            throw fail{r.line, 1,
                       "@repeat expands to more than " + std::to_string(max_expanded_steps) +
                           " steps (nested @repeat blocks multiply)"};
          for (std::uint64_t k = 0; k < n; ++k) out.insert(out.end(), body.begin(), body.end());
          i = end + 1;
          continue;
        }
        out.push_back(directive_step(r, in_rule));
        ++i;
        continue;
      }
      out.push_back(record_step(r, in_rule));
      ++i;
    }
    return i;  // the caller of an open block reports the missing @end at its opener
  }

  step directive_step(const record& r, bool in_rule) {
    step s;
    s.line = r.line;
    if (r.name == "tls") {
      s.kind = op::tls;
    } else if (r.name == "close") {
      s.kind = r.who == plays_ ? op::close : op::expect_close;
      if (in_rule && s.kind == op::expect_close)
        throw fail{r.line, 8, "a rule acts; it cannot wait for the peer to close"};
    } else if (r.name == "pause") {
      s.kind = op::pause;
      s.delay = duration_arg(r);
    } else if (r.name == "stall-tls") {
      s.kind = op::stall_tls;
      s.delay = duration_arg(r);
    } else if (r.name == "rate") {
      s.kind = op::rate;
      if (r.args != "off" && (!parse_uint(r.args, s.n) || s.n == 0))
        throw fail{r.line, 7, "expected a positive number (octets per second) or 'off' after @rate"};
    } else if (r.name == "split") {
      // @split N [GAP]: writes of N octets, GAP apart (default 20ms, enough
      // for each write to leave as its own TCP segment).
      s.kind = op::split;
      s.delay = std::chrono::milliseconds(20);
      auto w = words(r.args);
      if (r.args == "off") {
      } else if (w.empty() || w.size() > 2 || !parse_uint(w[0], s.n) || s.n == 0) {
        throw fail{r.line, 8, "expected @split N [GAP] (octets per write, pause between writes) or @split off"};
      } else if (w.size() == 2) {
        auto d = parse_duration(w[1]);
        if (!d)
          throw fail{r.line, 8 + static_cast<std::size_t>(w[1].data() - r.args.data()),
                     "expected a duration like 20ms after @split N"};
        s.delay = *d;
      }
    } else if (r.name == "fallback") {
      if (!in_rule)
        throw fail{r.line, 1, "@fallback belongs in a @rule body (the answer the session would give without the rule)"};
      s.kind = op::fallback;
    } else if (r.name == "needs") {
      // @needs TEXT: a precondition read from the next reply (client_driver.cpp).
      if (in_rule || plays_ != side::client)
        throw fail{r.line, 1, "@needs belongs in a script played from the client side"};
      if (r.args.empty())
        throw fail{r.line, 8, "expected what the server must do, e.g. @needs a server that refuses MAIL before EHLO"};
      s.kind = op::needs;
      s.bytes = r.args;
    } else if (r.name == "smuggle") {
      // @smuggle OCTETS: the client's end-of-data probe (client_driver.cpp).
      if (in_rule || plays_ != side::client)
        throw fail{r.line, 1, "@smuggle belongs in a script played from the client side"};
      s.kind = op::smuggle;
      unescape_error ue;
      if (r.args.empty() || !unescape(r.args, s.bytes, ue))
        throw fail{
            r.line, 10 + ue.column,
            r.args.empty() ? std::string("expected the octets to probe after @smuggle, e.g. \\n.\\n") : ue.message};
    } else if (r.name == "reset") {
      s.kind = op::reset;
    } else if (r.name == "hang") {
      s.kind = op::hang;
    } else {
      throw fail{r.line, 1, "unknown directive '@" + r.name + "' (see docs/dialogue-format.md)"};
    }
    if (!r.args.empty() && (s.kind == op::tls || s.kind == op::reset || s.kind == op::hang || s.kind == op::fallback))
      throw fail{r.line, r.name.size() + 3, "@" + r.name + " takes no arguments"};
    return s;
  }

  step record_step(const record& r, bool in_rule) {
    step s;
    s.line = r.line;
    if (r.who == plays_) {
      if (r.kind == record_kind::pattern)
        throw fail{r.line, 1,
                   std::string("a pattern record expects; '") + side_letter(r.who) +
                       "~' cannot be sent by the side the script plays"};
      s.kind = op::send;
      s.bytes = r.bytes();
      return s;
    }
    if (in_rule) throw fail{r.line, 1, "a rule answers; it cannot expect a record of the other side"};
    if (r.kind == record_kind::raw) {
      s.kind = op::expect_raw;
      s.bytes = r.payload;
      return s;
    }
    s.kind = op::expect_line;
    if (r.kind == record_kind::line) {
      s.bytes = r.payload;  // exact line
      return s;
    }
    pattern_error pe;
    s.pat = pattern::compile(r.text, pe);
    if (!s.pat) throw fail{r.line, 4 + pe.column, pe.message};
    note_names(*s.pat);
    return s;
  }

  void note_names(const pattern& p) {
    for (const auto& n : p.names())
      if (std::find(out_.capture_names.begin(), out_.capture_names.end(), n) == out_.capture_names.end())
        out_.capture_names.push_back(n);
  }

  std::size_t rule_block(std::size_t i) {
    const record& r = t_.records[i];
    rule_def rule;
    rule.line = r.line;
    std::string_view args = r.args;
    std::size_t consumed = 0;
    // Options first (key=value), then the trigger.
    for (;;) {
      while (consumed < args.size() && args[consumed] == ' ') ++consumed;
      std::size_t end = args.find(' ', consumed);
      std::string_view tok =
          args.substr(consumed, end == std::string_view::npos ? std::string_view::npos : end - consumed);
      auto eq = tok.find('=');
      if (eq == std::string_view::npos) break;
      std::string_view key = tok.substr(0, eq);
      std::string_view val = tok.substr(eq + 1);
      const std::size_t col = 7 + consumed;
      std::uint64_t n = 0;
      if (key == "session" || key == "nth" || key == "times" || key == "after") {
        if (!parse_uint(val, n) || ((key == "session" || key == "nth" || key == "times") && n == 0))
          throw fail{r.line, col, "expected a positive number in " + std::string(key) + "="};
        if (key == "session") rule.session = n;
        else if (key == "nth") rule.nth = n;
        else if (key == "times") rule.times = n;
        else rule.after = n;
      } else if (key == "per") {
        if (val != "session" && val != "server") throw fail{r.line, col, "expected per=session or per=server"};
        rule.per_session = val == "session";
      } else if (key == "tls" || key == "auth") {
        if (val != "yes" && val != "no")
          throw fail{r.line, col, "expected " + std::string(key) + "=yes or " + std::string(key) + "=no"};
        (key == "tls" ? rule.tls : rule.auth) = val == "yes" ? when::yes : when::no;
      } else if (key == "chance") {
        try {
          rule.chance = std::stod(std::string(val));
        } catch (...) {
          rule.chance = -1;
        }
        if (!(rule.chance >= 0.0 && rule.chance <= 1.0)) throw fail{r.line, col, "expected chance=P with 0 <= P <= 1"};
      } else {
        break;  // not an option: the pattern starts here
      }
      if (end == std::string_view::npos) {
        consumed = args.size();
        break;
      }
      consumed = end;
    }
    std::string_view trig = args.substr(std::min(consumed, args.size()));
    const std::size_t trig_col = 7 + consumed;
    if (trig.empty()) throw fail{r.line, trig_col, "expected a pattern, @connect or @data after @rule"};
    if (trig == "@connect") {
      rule.on = rule_def::trigger::connect;
    } else if (trig == "@data") {
      rule.on = rule_def::trigger::data;
    } else {
      pattern_error pe;
      rule.pat = pattern::compile(trig, pe);
      if (!rule.pat) throw fail{r.line, trig_col + pe.column, pe.message};
      note_names(*rule.pat);
    }
    std::size_t end = steps(i + 1, rule.body, /*in_rule=*/true, 0);
    if (end >= t_.records.size()) throw fail{r.line, 1, "@rule without @end"};
    if (rule.body.empty()) throw fail{r.line, 1, "a rule needs at least one record before @end"};
    for (std::size_t k = 0; k < rule.body.size(); ++k) {
      const step& st = rule.body[k];
      if (st.kind == op::fallback) {
        if (rule.has_fallback) throw fail{st.line, 1, "a rule body holds at most one @fallback"};
        rule.has_fallback = true;
      }
      // The session carries on in TLS: a rule cannot say more after it.
      if (st.kind == op::tls && k + 1 < rule.body.size())
        throw fail{rule.body[k + 1].line, 1, "@tls ends a rule body; nothing may follow it before @end"};
    }
    out_.rules.push_back(std::move(rule));
    return end + 1;
  }

  const transcript& t_;
  side plays_;
  script& out_;
};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  std::size_t unit = 0;
  while (unit < s.size() && ((s[unit] >= '0' && s[unit] <= '9') || s[unit] == '.')) ++unit;
  if (unit == 0) return std::nullopt;
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(std::string(s.substr(0, unit)), &used);
    if (used != unit) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  std::string_view u = s.substr(unit);
  double ms = 0;
  if (u == "ms") ms = v;
  else if (u == "s" || u.empty()) ms = v * 1000;
  else if (u == "m") ms = v * 60000;
  else return std::nullopt;
  if (ms < 0 || ms > 24.0 * 3600 * 1000) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms + 0.5));
}

bool script::has_dialogue() const noexcept { return !dialogues.empty(); }

const std::vector<step>* script::dialogue_for(std::size_t session) const noexcept {
  const std::vector<step>* fallback = nullptr;
  for (const auto& [n, steps] : dialogues) {
    if (n == session) return &steps;
    if (n == 0) fallback = &steps;
  }
  return fallback;
}

std::string script_error::to_string() const {
  std::string s = source;
  if (line == 0) return s.append(": ").append(message);  // the file as a whole (unreadable)
  s.append(":").append(std::to_string(line));
  if (column > 0) s.append(":").append(std::to_string(column));
  s.append(": ").append(message);
  return s;
}

load_result load_script(std::string_view text, std::string_view source, side plays) {
  read_options ro;
  ro.patterns = true;
  ro.extensions = true;
  auto t = read_transcript(text, source, ro);
  if (!t.ok()) return script_error{t.error.source, t.error.line, t.error.column, t.error.message};
  script s;
  s.source = std::string(source);
  s.plays = plays;
  try {
    loader(*t.value, plays, s).run();
  } catch (const fail& f) {
    // Columns are computed from where an argument would start; when the
    // argument is missing that can lie past the line's end: point just
    // after it instead.
    std::size_t column = f.column;
    std::size_t start = 0;
    for (std::size_t n = 1; n < f.line && start != std::string_view::npos; ++n) {
      start = text.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start != std::string_view::npos && f.line > 0) {
      std::size_t end = text.find('\n', start);
      std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      column = std::min(column, line.size() + 1);
    }
    return script_error{std::string(source), f.line, column, f.message};
  }
  return s;
}

load_result load_script_file(const std::string& path, side plays) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return script_error{path, 0, 0, open_failure(errno != 0 ? errno : EIO)};
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_script(ss.str(), path, plays);
}

}  // namespace smtpkit::mock
