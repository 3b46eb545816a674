// client_plan.cpp — the server plans `smtpkit fuzz client` mutates: reply
// rules of the script language, their text, and the reply mutators
// (smtpkit/fuzz/client_fuzz.hpp).
#include <algorithm>
#include <array>
#include <cstring>

#include "smtpkit/escape.hpp"
#include "smtpkit/fuzz/client_fuzz.hpp"

namespace smtpkit::fuzz {
namespace {

// What a rule answers, and the well-formed reply a server gives there.
enum class answer : std::uint8_t { greeting, ehlo, helo, mail, rcpt, data, eod, starttls, quit, rset, noop };

struct trigger_info {
  answer what;
  const char* verb;     // the client's verb; "" for @connect / @data
  const char* pattern;  // the rule's trigger
};

// Verbs match in any case (RFC 5321 §2.4): smtplib sends "ehlo".
constexpr std::array<trigger_info, 11> triggers{{
    {answer::greeting, "", "@connect"},
    {answer::ehlo, "EHLO", "{re:(?i)EHLO( .*)?}"},
    {answer::helo, "HELO", "{re:(?i)HELO( .*)?}"},
    {answer::mail, "MAIL", "{re:(?i)MAIL FROM:.*}"},
    {answer::rcpt, "RCPT", "{re:(?i)RCPT TO:.*}"},
    {answer::data, "DATA", "{re:(?i)DATA}"},
    {answer::eod, "", "@data"},
    {answer::starttls, "STARTTLS", "{re:(?i)STARTTLS}"},
    {answer::quit, "QUIT", "{re:(?i)QUIT}"},
    {answer::rset, "RSET", "{re:(?i)RSET}"},
    {answer::noop, "NOOP", "{re:(?i)NOOP( .*)?}"},
}};

const trigger_info* info_of(std::string_view pattern) {
  for (const auto& t : triggers)
    if (pattern == t.pattern) return &t;
  return nullptr;
}

std::vector<std::string> normal_lines(answer a) {
  switch (a) {
    case answer::greeting: return {"220 mx.fuzz.smtpkit.test ESMTP smtpkit fuzz"};
    case answer::ehlo:
      return {"250-mx.fuzz.smtpkit.test", "250-PIPELINING",       "250-SIZE 10240000", "250-8BITMIME", "250-STARTTLS",
              "250-ENHANCEDSTATUSCODES",  "250-AUTH PLAIN LOGIN", "250 SMTPUTF8"};
    case answer::helo: return {"250 mx.fuzz.smtpkit.test"};
    case answer::mail: return {"250 2.1.0 Ok"};
    case answer::rcpt: return {"250 2.1.5 Ok"};
    case answer::data: return {"354 End data with <CR><LF>.<CR><LF>"};
    case answer::eod: return {"250 2.0.0 Ok: queued as FUZZ0001"};
    case answer::starttls: return {"220 2.0.0 Ready to start TLS"};
    case answer::quit: return {"221 2.0.0 Bye"};
    case answer::rset:
    case answer::noop: return {"250 2.0.0 Ok"};
  }
  return {"250 Ok"};
}

// A rule body while it is built: the reply's lines (each with its line
// end), what comes before it (timing) and after it (TLS, close, hang).
struct draft {
  std::vector<std::string> lines;
  std::vector<std::string> before;
  std::vector<std::string> after;
  std::string extra;      // octets sent right after the reply, in the same write
  bool fallback = false;  // the reference server's own answer instead of `lines`
};

template <class T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[rng() % v.size()];
}
std::size_t below(std::size_t n, std::mt19937_64& rng) { return n == 0 ? 0 : rng() % n; }

std::string filler(std::size_t n, std::mt19937_64& rng) {
  static const char* words[] = {"lorem ", "mx ", "fuzz ", "smtpkit ", "ok ", "x"};
  std::string s;
  while (s.size() < n) s += words[rng() % 6];
  s.resize(n);
  return s;
}

// The line's code, separator and text as three parts ("250", "-", "text").
struct parts {
  std::string code, sep, text, eol;
};
parts split_line(const std::string& l) {
  parts p;
  std::size_t eol = l.find_first_of("\r\n");
  std::string body = eol == std::string::npos ? l : l.substr(0, eol);
  p.eol = eol == std::string::npos ? "" : l.substr(eol);
  p.code = body.substr(0, std::min<std::size_t>(3, body.size()));
  if (body.size() > 3) {
    p.sep = body.substr(3, 1);
    p.text = body.substr(4);
  }
  return p;
}
std::string join(const parts& p) { return p.code + p.sep + p.text + p.eol; }

void set_final(std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    parts p = split_line(lines[i]);
    if (!p.sep.empty()) p.sep = i + 1 == lines.size() ? " " : "-";
    lines[i] = join(p);
  }
}

// --- the reply mutators -------------------------------------------------------------------

// Codes at the edges: out of range (RFC 5321 §4.2: only 2-5 lead), 1yz
// (not used by SMTP), 2xx where 354 is due and back, not three digits.
void code_edge(draft& d, std::mt19937_64& rng) {
  static const std::vector<std::string> codes{"000", "099", "199", "200",  "220", "221", "235", "250", "299",
                                              "334", "354", "399", "421",  "450", "499", "500", "554", "599",
                                              "600", "999", "25",  "2500", "25O", " 25", "2 5", "-25", "\xff\x32\x35"};
  const std::size_t i = rng() % 3 == 0 ? below(d.lines.size(), rng) : d.lines.size() - 1;
  parts p = split_line(d.lines[i]);
  p.code = pick(codes, rng);
  d.lines[i] = join(p);
}

// Separators: a final line made a continuation (and the reverse), none, a tab.
void separator(draft& d, std::mt19937_64& rng) {
  const std::size_t i = below(d.lines.size(), rng);
  parts p = split_line(d.lines[i]);
  static const std::vector<std::string> seps{"-", " ", "", "\t", "--", "+"};
  p.sep = pick(seps, rng);
  d.lines[i] = join(p);
}

// Continuation lines without their final line, then the close, a hang or a pause.
void cut(draft& d, std::mt19937_64& rng) {
  if (d.lines.size() > 1 && rng() % 2 == 0) d.lines.resize(1 + below(d.lines.size() - 1, rng));
  parts p = split_line(d.lines.back());
  p.sep = "-";
  d.lines.back() = join(p);
  d.after.clear();
  switch (rng() % 3) {
    case 0: d.after.push_back("@close S"); break;
    case 1: d.after.push_back("@hang"); break;
    default: d.after.push_back("@pause 1500ms"); break;
  }
}

// Many continuation lines, or one long line (RFC 5321 §4.5.3.1.5: 512
// octets is the reply line limit a client must accept).
void stretch(draft& d, std::mt19937_64& rng) {
  const std::string code = split_line(d.lines.back()).code;
  if (rng() % 2 == 0) {
    static const std::size_t counts[] = {10, 100, 1000, 5000};
    static const std::size_t widths[] = {0, 1, 40, 600, 3000};
    const std::size_t n = counts[rng() % 4];
    std::size_t w = widths[rng() % 5];
    if (n * w > 256 * 1024) w = 256 * 1024 / n;
    std::vector<std::string> more;
    for (std::size_t k = 0; k < n; ++k) more.push_back(code + "-" + filler(w, rng) + "\r\n");
    d.lines.insert(d.lines.begin() + static_cast<std::ptrdiff_t>(below(d.lines.size(), rng)), more.begin(), more.end());
  } else {
    static const std::size_t lens[] = {508, 509, 510, 511, 512, 1000, 4096, 65536, 262144};
    const std::size_t i = below(d.lines.size(), rng);
    parts p = split_line(d.lines[i]);
    const std::size_t len = lens[rng() % 9];
    p.text += filler(len > p.text.size() + 4 ? len - p.text.size() - 4 : 1, rng);
    if (p.sep.empty()) p.sep = " ";
    d.lines[i] = join(p);
  }
}

// Lines of another reply's class inside a multi-line reply (RFC 5321 §4.2.1:
// every line carries the same code).
void interleave(draft& d, std::mt19937_64& rng) {
  static const std::vector<std::string> codes{"550", "354", "421", "220", "251", "452", "000"};
  if (d.lines.size() < 2) {
    parts p = split_line(d.lines[0]);
    d.lines.insert(d.lines.begin(), pick(codes, rng) + "-" + p.text + "\r\n");
    return;
  }
  const std::size_t i = below(d.lines.size(), rng);
  parts p = split_line(d.lines[i]);
  p.code = pick(codes, rng);
  d.lines[i] = join(p);
}

// Enhanced status codes (RFC 3463 §2) broken: classes other than 2/4/5, a
// class at odds with the reply, fields past three digits, parts missing.
void enhanced(draft& d, std::mt19937_64& rng) {
  static const std::vector<std::string> esc{"2.0",
                                            "9.9.9",
                                            "2.1000.0",
                                            "2.0.1000",
                                            "5.0.0",
                                            "4.0.0",
                                            "2.0.0.0",
                                            "2..0",
                                            "x.y.z",
                                            "22.0.0",
                                            "2.0.",
                                            ".0.0",
                                            "2.0.0\t",
                                            "2.0.0x",
                                            "3.0.0",
                                            "0.0.0",
                                            "2.00000000000000000001.0"};
  parts p = split_line(d.lines.back());
  const auto sp = p.text.find(' ');
  const bool has = !p.text.empty() && p.text[0] >= '0' && p.text[0] <= '9' && sp != std::string::npos;
  p.text = pick(esc, rng) + (has ? p.text.substr(sp) : " " + p.text);
  if (p.sep.empty()) p.sep = " ";
  d.lines.back() = join(p);
}

// EHLO keyword lists huge and malformed (RFC 5321 §4.1.1.1 ehlo-line).
void keywords(draft& d, std::mt19937_64& rng) {
  std::vector<std::string> kw;
  for (std::size_t i = 1; i < d.lines.size(); ++i) kw.push_back(split_line(d.lines[i]).text);
  switch (rng() % 8) {
    case 0: {
      const std::size_t n = rng() % 2 ? 200 : 3000;
      for (std::size_t i = 0; i < n; ++i) kw.push_back("X-FUZZ-" + std::to_string(i));
      break;
    }
    case 1: {
      static const std::vector<std::string> sizes{"SIZE -1",
                                                  "SIZE 18446744073709551616",
                                                  "SIZE 99999999999999999999999",
                                                  "SIZE abc",
                                                  "SIZE",
                                                  "SIZE 0",
                                                  "SIZE 1",
                                                  "SIZE 4294967296",
                                                  "SIZE 2147483648",
                                                  "SIZE 1 2",
                                                  "SIZE=100"};
      for (auto& k : kw)
        if (k.rfind("SIZE", 0) == 0) k = pick(sizes, rng);
      break;
    }
    case 2: {
      std::string a = "AUTH";
      const int n = rng() % 3 == 0 ? 0 : rng() % 2 ? 50 : 600;
      for (int i = 0; i < n; ++i) a += " X-MECH-" + std::to_string(i);
      if (rng() % 2) a += " PLAIN\x01";
      for (auto& k : kw)
        if (k.rfind("AUTH", 0) == 0) k = a;
      break;
    }
    case 3:
      for (auto& k : kw)
        for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      break;
    case 4: {
      static const std::vector<std::string> odd{"PIPELINING",
                                                "PIPELINING",
                                                "\xc3\x9c"
                                                "BER",
                                                "",
                                                " ",
                                                "CHUNKING",
                                                "BINARYMIME",
                                                "DSN",
                                                "DELIVERBY 0",
                                                "BURL imap",
                                                "STARTTLS STARTTLS",
                                                "=",
                                                "-",
                                                "250",
                                                "SMTPUTF8 x"};
      for (int i = 0; i < 3; ++i)
        kw.insert(kw.begin() + static_cast<std::ptrdiff_t>(below(kw.size() + 1, rng)), pick(odd, rng));
      break;
    }
    case 5: kw.push_back(filler(static_cast<std::size_t>(rng() % 2 ? 600 : 5000), rng)); break;
    case 6: {
      // Extensions taken away: PIPELINING or STARTTLS not advertised.
      const char* drop = rng() % 2 ? "PIPELINING" : "STARTTLS";
      kw.erase(std::remove(kw.begin(), kw.end(), std::string(drop)), kw.end());
      break;
    }
    default: std::shuffle(kw.begin(), kw.end(), rng); break;
  }
  std::vector<std::string> lines{d.lines.front()};
  for (const auto& k : kw) lines.push_back("250-" + k + "\r\n");
  d.lines = std::move(lines);
  set_final(d.lines);
  if (d.lines.size() == 1) d.lines[0] = "250 " + split_line(d.lines[0]).text + "\r\n";
}

// Line ends other than CRLF (RFC 5321 §2.3.8), on one line or all.
void line_end(draft& d, std::mt19937_64& rng) {
  static const std::vector<std::string> ends{"\n", "\r", "\r\r\n", "\n\r", "", "\r\n\r\n", "\r\0\n"};
  const std::string e = pick(ends, rng);
  const bool all = rng() % 2 == 0;
  const std::size_t one = below(d.lines.size(), rng);
  for (std::size_t i = 0; i < d.lines.size(); ++i) {
    if (!all && i != one) continue;
    parts p = split_line(d.lines[i]);
    p.eol = e;
    d.lines[i] = join(p);
  }
}

// Octets a reply's text should not hold: NUL, DEL, 8-bit, terminal escapes, a bare CR.
void octets(draft& d, std::mt19937_64& rng) {
  static const std::vector<std::string> bad{std::string("\0", 1), "\x7f", "\xff\xfe", "\x1b[2J\x1b]0;x\x07",
                                            "\xc3\xa9",           "\r",   "%s%n%x",   "\xed\xa0\x80"};
  const std::size_t i = below(d.lines.size(), rng);
  parts p = split_line(d.lines[i]);
  const std::size_t at = below(p.text.size() + 1, rng);
  p.text.insert(at, pick(bad, rng));
  if (p.sep.empty()) p.sep = " ";
  d.lines[i] = join(p);
}

// Replies nobody asked for, right behind the answer in the same write. After
// the 220 to STARTTLS they are the injection RFC 3207 §4.2 tells a client to
// discard (CVE-2011-0411's class).
void inject(draft& d, answer a, std::mt19937_64& rng) {
  if (a == answer::starttls) {
    static const std::vector<std::string> east{"250-mx.fuzz.smtpkit.test\r\n250 PIPELINING\r\n", "250 AUTH PLAIN\r\n",
                                               "500 5.5.1 injected\r\n", "220 2.0.0 again\r\n"};
    d.extra = pick(east, rng);
    return;
  }
  static const std::vector<std::string> extra{"250 2.0.0 an extra reply\r\n",
                                              "421 4.3.2 going away\r\n",
                                              "250-a\r\n250 b\r\n",
                                              "354 go ahead\r\n",
                                              "220 mx again\r\n",
                                              "535 5.7.8 no\r\n",
                                              "250 2.0.0 one\r\n250 2.0.0 two\r\n250 2.0.0 three\r\n"};
  d.extra = pick(extra, rng);
}

// The reply another state would get: 354 to MAIL, 250 to DATA, 221 to EHLO
// without a close, 421 with and without one, 334 out of AUTH.
void wrong_reply(draft& d, answer a, std::mt19937_64& rng) {
  static const std::vector<std::vector<std::string>> replies{{"354 Start mail input"},
                                                             {"250 2.0.0 Ok"},
                                                             {"221 2.0.0 Bye"},
                                                             {"421 4.3.2 Service shutting down"},
                                                             {"334 VXNlcm5hbWU6"},
                                                             {"220 mx ready"},
                                                             {"252 2.1.5 Cannot VRFY"},
                                                             {"251 2.1.5 forwarded"},
                                                             {"503 5.5.1 Bad sequence of commands"},
                                                             {"554 5.3.0 Transaction failed"},
                                                             {"450 4.2.0 try later"}};
  d.lines = pick(replies, rng);
  for (auto& l : d.lines) l += "\r\n";
  d.after.clear();
  if (d.lines[0].rfind("421", 0) == 0 && rng() % 2 == 0) d.after.push_back("@close S");
  if (a == answer::starttls && rng() % 2 == 0) d.after.push_back("@tls");
}

// The connection cut: before, inside or after the reply.
void close_at(draft& d, std::mt19937_64& rng) {
  d.after.clear();
  d.extra.clear();
  switch (rng() % 5) {
    case 0:
      d.lines.clear();
      d.after.push_back("@close S");
      break;
    case 1:
      d.lines.clear();
      d.after.push_back("@reset");
      break;
    case 2: {
      std::string all;
      for (const auto& l : d.lines) all += l;
      all.resize(below(all.size(), rng));
      d.lines = {all};
      d.after.push_back(rng() % 2 ? "@close S" : "@reset");
      break;
    }
    case 3: d.after.push_back("@close S"); break;
    default:
      d.lines.clear();
      d.after.push_back("@hang");
      break;
  }
}

// Timing: the reply late, or in pieces (an octet at a time).
void timing(draft& d, std::size_t octets, std::mt19937_64& rng) {
  d.before.clear();
  if (rng() % 2 == 0 || octets > 4096) {
    static const char* pauses[] = {"@pause 50ms", "@pause 300ms", "@pause 1200ms"};
    d.before.push_back(pauses[rng() % 3]);
  } else {
    static const char* splits[] = {"@split 1 1ms", "@split 2 1ms", "@split 3 5ms", "@split 7 1ms", "@split 1 30ms"};
    d.before.push_back(splits[rng() % 5]);
  }
}

std::vector<std::string> emit(const draft& d) {
  std::vector<std::string> body = d.before;
  std::string bytes;
  for (const auto& l : d.lines) bytes += l;
  if (d.fallback) {
    body.push_back("@fallback");
    if (!d.extra.empty()) body.push_back("S= " + escape(d.extra));
  } else {
    bytes += d.extra;
    if (!bytes.empty()) body.push_back("S= " + escape(bytes));
  }
  // A @split holds to the end of the body: ended before what follows (a
  // @tls must be a body's last record).
  if (std::any_of(body.begin(), body.end(), [](const std::string& r) { return r.rfind("@split", 0) == 0; }))
    body.push_back("@split off");
  body.insert(body.end(), d.after.begin(), d.after.end());
  if (body.empty()) body.push_back("@close S");
  return body;
}

std::vector<std::string> make_body(answer a, std::mt19937_64& rng) {
  draft d;
  for (auto& l : normal_lines(a)) d.lines.push_back(l + "\r\n");
  if (a == answer::starttls) d.after.push_back("@tls");
  if (a == answer::quit) d.after.push_back("@close S");
  const int n = 1 + static_cast<int>(rng() % 3 == 0);
  for (int k = 0; k < n; ++k) {
    const auto op = rng() % 14;
    // Nothing left to bend once the reply is gone (closed before it).
    if (d.lines.empty() && op <= 10) continue;
    switch (op) {
      case 0: code_edge(d, rng); break;
      case 1: separator(d, rng); break;
      case 2: cut(d, rng); break;
      case 3: stretch(d, rng); break;
      case 4: interleave(d, rng); break;
      case 5: enhanced(d, rng); break;
      case 6:
        if (a == answer::ehlo) keywords(d, rng);
        else stretch(d, rng);
        break;
      case 7: line_end(d, rng); break;
      case 8: octets(d, rng); break;
      case 9: inject(d, a, rng); break;
      case 10: wrong_reply(d, a, rng); break;
      case 11: close_at(d, rng); break;
      case 12: {
        std::size_t size = 0;
        for (const auto& l : d.lines) size += l.size();
        timing(d, size, rng);
        break;
      }
      default:
        // The reference server's own answer, late, in pieces, or followed
        // by replies nobody asked for.
        d.fallback = true;
        d.after.clear();
        if (rng() % 2) timing(d, 0, rng);
        else inject(d, a, rng);
        break;
    }
  }
  if (a == answer::ehlo && rng() % 3 == 0 && !d.fallback && !d.lines.empty()) keywords(d, rng);
  return emit(d);
}

}  // namespace

std::size_t server_plan::size() const noexcept {
  std::size_t n = 0;
  for (const auto& r : rules)
    for (const auto& b : r.body) n += b.size();
  return n;
}

std::string to_script(const server_plan& p) {
  std::string s;
  for (const auto& r : p.rules) {
    s += "@rule per=session ";
    if (r.nth != 0) s += "nth=" + std::to_string(r.nth) + " ";
    s += r.trigger + "\n";
    for (const auto& b : r.body) s += b + "\n";
    s += "@end\n";
  }
  return s;
}

bool plan_from_script(std::string_view text, server_plan& out) {
  out.rules.clear();
  reply_rule* cur = nullptr;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (cur == nullptr) {
      constexpr std::string_view head = "@rule per=session ";
      if (line.substr(0, head.size()) != head) return false;
      line.remove_prefix(head.size());
      reply_rule r;
      if (line.substr(0, 4) == "nth=") {
        const auto sp = line.find(' ');
        if (sp == std::string_view::npos) return false;
        r.nth = static_cast<unsigned>(std::strtoul(std::string(line.substr(4, sp - 4)).c_str(), nullptr, 10));
        line.remove_prefix(sp + 1);
      }
      r.trigger = std::string(line);
      out.rules.push_back(std::move(r));
      cur = &out.rules.back();
    } else if (line == "@end") {
      cur = nullptr;
    } else {
      cur->body.emplace_back(line);
    }
  }
  return cur == nullptr;
}

void mutate_plan(server_plan& p, const std::vector<std::string>& verbs, std::mt19937_64& rng) {
  // Triggers for what this client says: its verbs twice as likely as the rest.
  std::vector<const trigger_info*> aim;
  for (const auto& t : triggers) {
    const bool said = t.verb[0] == '\0' || std::find(verbs.begin(), verbs.end(), t.verb) != verbs.end();
    aim.push_back(&t);
    if (said) aim.push_back(&t), aim.push_back(&t);
  }
  const int n = 1 + static_cast<int>(rng() % 3 == 0) + static_cast<int>(rng() % 6 == 0);
  for (int k = 0; k < n; ++k) {
    const unsigned op = p.rules.empty() ? 0 : static_cast<unsigned>(rng() % 6);
    if (op == 0 || op == 5) {
      if (p.rules.size() >= 6) continue;
      const trigger_info* t = aim[rng() % aim.size()];
      reply_rule r;
      r.trigger = t->pattern;
      r.nth = rng() % 3 == 0 ? 1 + static_cast<unsigned>(rng() % 3) : 0;
      r.body = make_body(t->what, rng);
      p.rules.push_back(std::move(r));
    } else if (op == 1 || op == 2) {
      auto& r = p.rules[below(p.rules.size(), rng)];
      const trigger_info* t = info_of(r.trigger);
      r.body = make_body(t != nullptr ? t->what : answer::noop, rng);
    } else if (op == 3) {
      auto& r = p.rules[below(p.rules.size(), rng)];
      r.nth = r.nth == 0 ? 1 + static_cast<unsigned>(rng() % 3) : 0;
    } else if (p.rules.size() > 1) {
      p.rules.erase(p.rules.begin() + static_cast<std::ptrdiff_t>(below(p.rules.size(), rng)));
    }
  }
  // Rules for one trigger and match: the first one alone answers.
  std::stable_sort(p.rules.begin(), p.rules.end(), [](const reply_rule& a, const reply_rule& b) {
    return a.nth != 0 && b.nth == 0;  // specific matches before "every match"
  });
}

}  // namespace smtpkit::fuzz
