// client_expect.cpp — the @forbid and @expect verdicts of client scenarios
// (client_expect.hpp): commands that must not come, the body and the
// recipients of what arrived, line lengths (RFC 5321 §4.5.3.1.6), silence
// after a 421 (§3.8), the client's exit status.
#include "client_expect.hpp"

#include "smtpkit/mock/probe/child_process.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "smtpkit/ascii.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/mock/common/base64.hpp"

namespace smtpkit::mock {
namespace {}  // namespace

namespace {

/// Where the body starts (after the first empty line), or npos.
std::size_t body_start(std::string_view msg) {
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] != '\n') continue;
    if (i == 0 || (i == 1 && msg[0] == '\r')) return i + 1;
    std::size_t j = i + 1;
    if (j < msg.size() && msg[j] == '\r') ++j;
    if (j < msg.size() && msg[j] == '\n') return j + 1;
  }
  return std::string_view::npos;
}

/// Line ends made CRLF (bare CR and bare LF each a line end), a last line ended.
std::string crlf_lines(std::string_view b) {
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] == '\r') {
      out += "\r\n";
      if (i + 1 < b.size() && b[i + 1] == '\n') ++i;
    } else if (b[i] == '\n') {
      out += "\r\n";
    } else {
      out += b[i];
    }
  }
  if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)) out += "\r\n";
  return out;
}

}  // namespace

std::string encoding_of(std::string_view msg) {
  const std::size_t end = body_start(msg);
  std::string_view header = msg.substr(0, end == std::string_view::npos ? msg.size() : end);
  constexpr std::string_view name = "content-transfer-encoding:";
  for (std::size_t at = 0; at < header.size();) {
    std::size_t nl = header.find('\n', at);
    std::string_view line = header.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    if (line.size() > name.size() && iequals(line.substr(0, name.size()), name)) {
      std::string v;
      for (char ch : line.substr(name.size()))
        if (ch != ' ' && ch != '\t' && ch != '\r') v += to_lower_ascii(ch);
      return v;
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return {};
}

namespace {

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

/// Quoted-printable (RFC 2045 §6.7): "=XX" octets, "=" at a line end joins lines.
std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\r' || in[i + 1] == '\n')) {  // soft line break
      i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2 : 1;
      continue;
    }
    const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1, lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
    if (lo < 0) {
      out += '=';
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string body_of(std::string_view msg) {
  const std::size_t at = body_start(msg);
  return at == std::string_view::npos ? std::string() : crlf_lines(msg.substr(at));
}

std::string comparable_body(std::string_view msg, std::string_view given_encoding) {
  std::string body = body_of(msg);
  // A client may encode the body for transport (quoted-printable or base64,
  // RFC 2045 §6) where the given message had none: compare what it decodes to.
  const std::string cte = encoding_of(msg);
  if (cte != given_encoding) {
    if (cte == "quoted-printable") {
      body = crlf_lines(decode_quoted_printable(body));
    } else if (cte == "base64") {
      std::string packed;
      for (char ch : body)
        if (ch != '\r' && ch != '\n') packed += ch;
      if (auto d = base64_decode(packed)) body = crlf_lines(*d);
    }
  }
  // Empty lines at the very end carry nothing (some clients add one).
  while (body.size() >= 4 && body.compare(body.size() - 4, 4, "\r\n\r\n") == 0) body.resize(body.size() - 2);
  return body;
}

namespace {

/// "line 3: expected ".a dot", received "a dot"" for the first line that differs.
std::string first_difference(const std::string& want, const std::string& got) {
  std::size_t line = 1, a = 0, b = 0;
  for (;;) {
    auto ea = want.find("\r\n", a), eb = got.find("\r\n", b);
    std::string_view la =
        ea == std::string::npos ? std::string_view(want).substr(a) : std::string_view(want).substr(a, ea - a);
    std::string_view lb =
        eb == std::string::npos ? std::string_view(got).substr(b) : std::string_view(got).substr(b, eb - b);
    if (la != lb || (ea == std::string::npos) != (eb == std::string::npos)) {
      auto show = [](std::string_view s, bool end) {
        if (end && s.empty()) return std::string("(end of message)");
        std::string e = escape(s.substr(0, 120));
        return "\"" + e + (s.size() > 120 ? "..." : "") + "\"";
      };
      return "body line " + std::to_string(line) + ": given " + show(la, ea == std::string::npos) + ", received " +
             show(lb, eb == std::string::npos);
    }
    if (ea == std::string::npos) return {};
    a = ea + 2, b = eb + 2, ++line;
  }
}

std::string rcpt_address(std::string_view line) {
  // "RCPT TO:<a@b> PARAMS" (any case; the engine judges the syntax)
  if (line.size() < 8 || !iequals(line.substr(0, 8), "RCPT TO:")) return {};
  auto rest = line.substr(8);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '<') {
    auto close = rest.find('>');
    return std::string(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(rest.substr(0, rest.find(' ')));
}

/// After a 421 reply the channel is closing (RFC 5321 §3.8, §4.2.2): what
/// the client says next, other than QUIT, is talking into a closed channel.
std::string spoke_after_421(const transcript& t) {
  bool closing = false;
  std::size_t at = 0;
  for (const auto& rec : t.records) {
    if (!rec.sends()) continue;
    if (rec.who == side::server) {
      const auto& p = rec.payload;
      if (p.size() >= 3 && p.compare(0, 3, "421") == 0 && (p.size() == 3 || p[3] == ' ')) {
        closing = true;
        at = rec.line;
      }
      continue;
    }
    if (!closing) continue;
    std::string_view line = rec.payload;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!iequals(line, "QUIT"))
      return "after the 421 reply (dialogue line " + std::to_string(at) + ") the client sent \"" +
             escape(line.substr(0, 80)) + "\" (line " + std::to_string(rec.line) + ")";
  }
  return {};
}

std::string lower(std::string s) {
  for (char& ch : s) ch = to_lower_ascii(ch);
  return s;
}

}  // namespace

std::vector<std::string> expectation_failures(const script_meta& m, const client_evidence& e) {
  std::vector<std::string> failures;
  if (!e.mismatches.empty()) failures.push_back(e.mismatch_reason);
  for (const auto& cmd : e.commands)
    for (const auto& f : m.forbid)
      if ((f.tls == when::any || (f.tls == when::yes) == cmd.tls) && f.pat.match(cmd.line)) {
        failures.push_back("the client sent \"" + cmd.line + "\"" + (cmd.tls ? " inside TLS" : " before TLS") +
                           " (forbidden here: " + f.pat.text() + ")");
        break;
      }
  const auto& msgs = e.messages;
  auto has = [&](const char* w) { return std::find(m.expect.begin(), m.expect.end(), w) != m.expect.end(); };
  // With --listen the application sends its own message and its exit
  // status is not seen: what rests on the given message or on an exit
  // status is not judged.
  const bool listening = e.listening;
  const client_run& run = *e.run;
  // A client killed at the deadline never finished: what it would have
  // delivered is not judged (the scenario is an error, unless something
  // it did on the way already failed it).
  const bool finished = listening || run.exited;
  if (has("body") && !listening && finished) {
    const std::string given_encoding = encoding_of(e.given_message);
    const std::string want = comparable_body(e.given_message, given_encoding);
    for (const auto& msg : msgs) {
      if (msg.path.empty()) continue;
      if (auto d = first_difference(want, comparable_body(read_tail(msg.path), given_encoding)); !d.empty()) {
        failures.push_back("the message arrived changed: " + d);
        break;
      }
    }
  }
  if (finished && (has("delivered") || (has("reported") && !listening))) {
    std::set<std::string> got;
    for (const auto& msg : msgs)
      for (const auto& a : msg.rcpts) got.insert(lower(a));
    std::vector<std::string> lost;
    std::set<std::string> named;
    for (const auto& cmd : e.commands)
      if (auto a = rcpt_address(cmd.line); !a.empty() && named.insert(lower(a)).second && !got.count(lower(a)))
        lost.push_back(a);
    const bool reported = run.exited && run.status != 0;
    if (named.empty() && run.connected && !(has("reported") && reported))
      failures.push_back("the client named no recipient");
    else if (!lost.empty() && !(has("reported") && reported))
      failures.push_back("no message reached " + lost.front() +
                         (has("reported") ? " and the client exited with status 0 (the loss was not reported)" : ""));
  }
  if (has("short-lines"))
    for (const auto& msg : msgs) {
      if (msg.path.empty()) continue;
      const std::string body = read_tail(msg.path);
      std::size_t start = 0, n = 1;
      for (std::size_t nl = body.find('\n'); start < body.size(); nl = body.find('\n', start), ++n) {
        const std::size_t len = (nl == std::string::npos ? body.size() : nl + 1) - start;
        if (len > 1000) {
          failures.push_back("line " + std::to_string(n) + " of the message is " + std::to_string(len) +
                             " octets with its line end (RFC 5321 §4.5.3.1.6: at most 1000)");
          break;
        }
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
  if (has("quiet-after-421") && e.dialogue != nullptr)
    if (auto why = spoke_after_421(*e.dialogue); !why.empty()) failures.push_back(why);
  if ((has("exit-failure") || has("exit-success") || has("exits")) && run.started && !run.exited && run.connected)
    failures.push_back("the client did not exit within " + std::to_string(e.timeout.count() / 1000) +
                       " s (RFC 5321 §4.5.3.2: a client has timeouts)");
  if (has("exit-failure") && run.exited && run.status == 0)
    failures.push_back("the client exited with status 0, though its message was not delivered");
  if (has("exit-success") && run.exited && run.status != 0)
    failures.push_back("the client exited with status " + std::to_string(run.status) + " (" + run.describe + ")");

  return failures;
}

}  // namespace smtpkit::mock
