// parser_bench.cpp — throughput of the grammar library (Google Benchmark).
//
// Inputs are built once, before any timing, from a fixed seed: whole SMTP
// sessions of commands, a server's side of the same kind of sessions, EHLO
// responses of several server styles, paths and mailboxes of every form,
// and a multi-megabyte message body. Every benchmark reports bytes/s and
// items/s (lines, replies or paths). memchr for '\n' over the very same
// bytes is the baseline: the least work any line-oriented parser must do.
// A summary at the end prints the medians in MB/s (10^6 bytes) and the
// ratios to that baseline.
//
// Limits: one thread; the inputs sit in L2/L3, as they would in a server's
// receive buffers, not in RAM. Numbers depend on the machine and on what
// else runs on it: compare runs made side by side, and use repetitions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smtpkit/command.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/params.hpp"
#include "smtpkit/path.hpp"
#include "smtpkit/reply.hpp"
#include "test_support.hpp"

namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------
// Deterministic input generation

class gen {
 public:
  explicit gen(std::uint64_t seed) : r_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(r_() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <std::size_t N>
  std::string_view pick(const std::array<std::string_view, N>& a) {
    return a[below(N)];
  }

 private:
  std::mt19937_64 r_;  // std::mt19937_64 output is fixed by the standard
};

constexpr std::array<std::string_view, 20> local_parts{"alice",
                                                       "bob.smith",
                                                       "carol_jones",
                                                       "dave+newsletters",
                                                       "e.f.garcia",
                                                       "info",
                                                       "no-reply",
                                                       "support",
                                                       "sales.team.emea",
                                                       "user1234",
                                                       "j",
                                                       "m.o'brien",
                                                       "first.last",
                                                       "billing-notifications",
                                                       "hr",
                                                       "x.y.z",
                                                       "ops-alerts",
                                                       "marketing",
                                                       "postmaster",
                                                       "bounce-4f1c9e2a"};

constexpr std::array<std::string_view, 16> domains{"example.com",
                                                   "mail.example.org",
                                                   "mx1.eu.example.net",
                                                   "lists.example.co.uk",
                                                   "corp.example",
                                                   "a.example",
                                                   "sub-domain.example-mail.com",
                                                   "xn--bcher-kva.example",
                                                   "students.cs.university.example.edu",
                                                   "example.net",
                                                   "smtp-out.k8s.internal.example",
                                                   "news.example.org",
                                                   "relay2.example.com",
                                                   "e.example",
                                                   "mail-eu-west-1.service.example.io",
                                                   "example.test"};

constexpr std::array<std::string_view, 12> words{"the",    "message",  "delivery",  "server", "account", "please",
                                                 "review", "attached", "quarterly", "report", "meeting", "tomorrow"};

std::string mailbox_text(gen& g) {
  std::string m;
  if (g.chance(3)) {
    m = "\"" + std::string(g.pick(local_parts)) + " " + std::string(g.pick(words)) + "\"";
  } else {
    m = g.pick(local_parts);
  }
  m += '@';
  if (g.chance(2)) m += "[192.0.2." + std::to_string(1 + g.below(254)) + "]";
  else m += g.pick(domains);
  return m;
}

std::string client_host(gen& g) {
  if (g.chance(10)) return "[198.51.100." + std::to_string(1 + g.below(254)) + "]";
  return "client" + std::to_string(g.below(5000)) + "." + std::string(g.pick(domains));
}

std::string base64(std::string_view in) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto octet = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])); };
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = octet(i) << 16 | octet(i + 1) << 8 | octet(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += digits[(v >> shift) & 63];
  }
  if (in.size() - i == 1) {
    const std::uint32_t v = octet(i) << 16;
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    const std::uint32_t v = octet(i) << 16 | octet(i + 1) << 8;
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += digits[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string random_octets(gen& g, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(g.below(256));
  return s;
}

// Client sessions as a server receives them: EHLO (or HELO), often STARTTLS
// and AUTH, one to three transactions with DSN parameters, DATA or BDAT,
// the odd NOOP/RSET/VRFY, QUIT. Only the command lines: the message bodies
// are the DATA benchmark's business.
std::string build_command_stream(std::size_t target) {
  gen g(1);
  std::string out;
  auto line = [&](const std::string& s) {
    out += s;
    out += "\r\n";
  };
  while (out.size() < target) {
    const bool esmtp = g.chance(92);
    const std::string host = client_host(g);
    if (!esmtp) {
      line("HELO " + std::string(g.pick(domains)));
    } else {
      line("EHLO " + host);
      if (g.chance(60)) {
        line("STARTTLS");
        line("EHLO " + host);
      }
      if (g.chance(45)) {
        if (g.chance(80)) {
          const std::string user = std::string(g.pick(local_parts)) + "@" + std::string(g.pick(domains));
          line("AUTH PLAIN " + base64("\0"s + user + "\0"s + base64(random_octets(g, 6 + g.below(12)))));
        } else {
          line("AUTH LOGIN");
        }
      }
    }
    const std::size_t transactions = 1 + g.below(3);
    for (std::size_t t = 0; t < transactions; ++t) {
      std::string mail = "MAIL FROM:<" + (g.chance(8) ? ""s : mailbox_text(g)) + ">";
      if (esmtp) {
        mail += " SIZE=" + std::to_string(200 + g.below(4'000'000));
        mail += g.chance(70) ? " BODY=8BITMIME" : " BODY=7BIT";
        if (g.chance(30)) mail += " RET=HDRS ENVID=QQ" + std::to_string(g.below(1'000'000'000));
        if (g.chance(10)) mail += " AUTH=<>";
      }
      line(mail);
      const std::size_t rcpts = 1 + g.below(5);
      for (std::size_t r = 0; r < rcpts; ++r) {
        const std::string to = g.chance(2) ? "Postmaster"s : mailbox_text(g);
        std::string rcpt = "RCPT TO:<" + to + ">";
        if (esmtp && g.chance(40) && to != "Postmaster") {
          rcpt += g.chance(85) ? " NOTIFY=SUCCESS,FAILURE" : " NOTIFY=NEVER";
          rcpt += " ORCPT=rfc822;" + smtpkit::xtext_encode(to);
        }
        line(rcpt);
      }
      if (esmtp && g.chance(25)) {
        for (std::size_t c = g.below(3); c > 0; --c) line("BDAT 65536");
        line("BDAT " + std::to_string(1 + g.below(65536)) + " LAST");
      } else {
        line("DATA");
      }
      if (g.chance(15)) line("NOOP");
      if (t + 1 < transactions && g.chance(30)) line("RSET");
    }
    if (g.chance(3)) line("VRFY " + std::string(g.pick(words)));  // an Atom: no dots
    if (g.chance(2)) line("HELP");
    line("QUIT");
  }
  return out;
}

// The server's side: greeting, EHLO responses, AUTH, per-recipient
// verdicts with enhanced status codes, multi-line rejections, 354, queue
// ids, 221.
std::string ehlo_response(gen& g, bool last_crlf);

std::string build_reply_stream(std::size_t target) {
  gen g(2);
  std::string out;
  auto line = [&](const std::string& s) {
    out += s;
    out += "\r\n";
  };
  while (out.size() < target) {
    const std::string server = "mx" + std::to_string(1 + g.below(9)) + "." + std::string(g.pick(domains));
    line("220 " + server + " ESMTP ready");
    out += ehlo_response(g, true);
    if (g.chance(40)) line("235 2.7.0 Authentication successful");
    const std::size_t transactions = 1 + g.below(3);
    for (std::size_t t = 0; t < transactions; ++t) {
      line("250 2.1.0 Ok");
      for (std::size_t r = 1 + g.below(5); r > 0; --r) {
        if (g.chance(85)) {
          line("250 2.1.5 Ok");
        } else if (g.chance(50)) {
          line("550 5.1.1 <" + mailbox_text(g) +
               ">: Recipient address rejected: User unknown in virtual mailbox table");
        } else {
          line("450-4.7.1 <" + mailbox_text(g) + ">: Recipient address rejected: Greylisted");
          line("450-4.7.1 for 300 seconds, see https://greylisting.example.org/why");
          line("450 4.7.1 Please try again later");
        }
      }
      line("354 End data with <CR><LF>.<CR><LF>");
      line("250 2.0.0 Ok: queued as " + std::to_string(100000000 + g.below(900000000)) + "ABF");
    }
    line("221 2.0.0 Bye");
  }
  return out;
}

std::string ehlo_response(gen& g, bool last_crlf) {
  const std::string server = "mx" + std::to_string(1 + g.below(9)) + "." + std::string(g.pick(domains));
  std::vector<std::string> lines;
  switch (g.below(4)) {
    case 0:  // Postfix style
      lines = {server,     "PIPELINING", "SIZE 52428800",    "VRFY",
               "ETRN",     "STARTTLS",   "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES",
               "8BITMIME", "DSN",        "SMTPUTF8",         "CHUNKING"};
      break;
    case 1:  // Exim style
      lines = {server + " Hello client.example.net [198.51.100.7]",
               "SIZE 52428800",
               "8BITMIME",
               "PIPELINING",
               "AUTH PLAIN LOGIN CRAM-MD5",
               "CHUNKING",
               "PRDR",
               "HELP"};
      break;
    case 2:  // a large provider
      lines = {server + " at your service, [198.51.100.7]",
               "SIZE 157286400",
               "8BITMIME",
               "STARTTLS",
               "ENHANCEDSTATUSCODES",
               "PIPELINING",
               "CHUNKING",
               "SMTPUTF8"};
      break;
    default:  // a minimal relay
      lines = {server, "8BITMIME", "SIZE", "DSN", "REQUIRETLS", "MT-PRIORITY MIXER", "DELIVERBY 240"};
      break;
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += (i + 1 < lines.size() ? "250-" : "250 ") + lines[i];
    if (i + 1 < lines.size() || last_crlf) out += "\r\n";
  }
  return out;
}

// A long multipart message as it travels after DATA: Received/DKIM headers,
// prose wrapped at 20-120 octets (dot-stuffed where a line starts with
// "."), some UTF-8, base64 attachments in 76-octet lines, and the
// terminating "." line.
struct data_body {
  std::string wire;           // what the client sends, ".\r\n" included
  std::uint64_t content = 0;  // octets left after dot-unstuffing
  std::size_t lines = 0;
};

data_body build_data_body(std::size_t target) {
  gen g(3);
  data_body b;
  std::string& w = b.wire;
  auto line = [&](std::string_view s) {
    if (!s.empty() && s[0] == '.') w += '.';  // §4.5.2 transparency
    w += s;
    w += "\r\n";
    b.content += s.size() + 2;
    b.lines += 1 + static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));  // folded headers
  };
  for (int hop = 0; hop < 3; ++hop)
    line("Received: from client" + std::to_string(g.below(999)) + ".example.net (client.example.net [198.51.100." +
         std::to_string(g.below(255)) + "])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4F3A21C0B" +
         std::to_string(hop) + "\r\n\tfor <alice@example.com>; Tue, 4 Jun 2024 09:1" + std::to_string(hop) +
         ":02 +0200 (CEST)");
  line(
      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=2024;\r\n\th=from:to:subject:date:"
      "message-id; bh=" +
      base64(random_octets(g, 32)) + ";\r\n\tb=" + base64(random_octets(g, 48)));
  line("From: \"Bob Smith\" <bob.smith@example.net>");
  line("To: Alice <alice@example.com>, carol_jones@mail.example.org");
  line("Subject: =?UTF-8?Q?Quarterly_report_=E2=80=94_draft?=");
  line("Date: Tue, 4 Jun 2024 09:10:02 +0200");
  line("Message-ID: <20240604071002.4F3A21C0B@example.net>");
  line("MIME-Version: 1.0");
  line("Content-Type: multipart/mixed; boundary=\"b1_3f9a\"");
  line("");
  while (w.size() < target) {
    line("--b1_3f9a");
    line("Content-Type: text/plain; charset=utf-8");
    line("Content-Transfer-Encoding: 8bit");
    line("");
    for (std::size_t para = 2 + g.below(6); para > 0; --para) {
      for (std::size_t n = 1 + g.below(8); n > 0; --n) {
        const std::size_t width = 20 + g.below(101);  // 20-120 octets
        std::string l;
        if (g.chance(6)) l = g.chance(50) ? "." : "...";  // lines that need stuffing
        while (l.size() < width) {
          if (!l.empty() && l.back() != '.') l += ' ';
          l += g.chance(2) ? "Grüße" : std::string(g.pick(words));
        }
        line(l);
      }
      line("");
    }
    line("--b1_3f9a");
    line("Content-Type: application/pdf; name=\"report.pdf\"");
    line("Content-Transfer-Encoding: base64");
    line("");
    const std::string blob = base64(random_octets(g, 3 * 1024 + g.below(24 * 1024)));
    for (std::size_t i = 0; i < blob.size(); i += 76) line(std::string_view(blob).substr(i, 76));
    line("");
  }
  line("--b1_3f9a--");
  w += ".\r\n";
  return b;
}

struct path_case {
  std::string_view text;
  smtpkit::path_kind kind;
};

// Paths as MAIL FROM / RCPT TO carry them, and mailboxes alone, kept in one
// buffer so the views are as dense as in a received command.
struct path_set {
  std::string storage;
  std::vector<path_case> paths;
  std::vector<std::string_view> mailboxes;
  std::size_t path_bytes = 0;
  std::size_t mailbox_bytes = 0;
};

path_set build_paths(std::size_t count) {
  gen g(4);
  std::vector<std::pair<std::string, smtpkit::path_kind>> texts;
  for (std::size_t i = 0; i < count; ++i) {
    const auto forward = smtpkit::path_kind::forward;
    switch (g.below(20)) {
      case 0: texts.emplace_back("<>", smtpkit::path_kind::reverse); break;
      case 1: texts.emplace_back("<Postmaster>", forward); break;
      case 2: texts.emplace_back("<@relay1.example.org,@relay2.example.net:" + mailbox_text(g) + ">", forward); break;
      case 3:
        texts.emplace_back(
            "<" + std::string(g.pick(local_parts)) + "@[IPv6:2001:db8::" + std::to_string(g.below(9999)) + "]>",
            forward);
        break;
      default: texts.emplace_back("<" + mailbox_text(g) + ">", forward); break;
    }
  }
  std::vector<std::string> boxes;
  for (std::size_t i = 0; i < count; ++i) boxes.push_back(mailbox_text(g));

  path_set s;
  for (const auto& t : texts) s.storage += t.first;
  for (const auto& m : boxes) s.storage += m;
  std::size_t at = 0;
  for (const auto& t : texts) {
    s.paths.push_back({std::string_view(s.storage).substr(at, t.first.size()), t.second});
    at += t.first.size();
    s.path_bytes += t.first.size();
  }
  for (const auto& m : boxes) {
    s.mailboxes.push_back(std::string_view(s.storage).substr(at, m.size()));
    at += m.size();
    s.mailbox_bytes += m.size();
  }
  return s;
}

struct inputs {
  std::string commands = build_command_stream(2u << 20);
  std::string replies = build_reply_stream(2u << 20);
  std::vector<std::string> ehlo;
  std::size_t ehlo_bytes = 0;
  path_set paths = build_paths(4096);
  data_body data = build_data_body(8u << 20);

  inputs() {
    gen g(5);
    for (int i = 0; i < 256; ++i) {
      ehlo.push_back(ehlo_response(g, i % 2 == 0));
      ehlo_bytes += ehlo.back().size();
    }
  }
};

const inputs& in() {
  static const inputs built;
  return built;
}

// ---------------------------------------------------------------------------
// The loops that are timed (and run once untimed to check the inputs)

struct command_tally {
  std::size_t lines = 0;
  std::size_t bad = 0;
  std::uint64_t fields = 0;  // something of each result, so none is dead
  std::string first_bad;
};

void tally(command_tally& t, const smtpkit::line_result& l, smtpkit::diagnostic d, const smtpkit::command& c) {
  ++t.lines;
  t.fields += static_cast<std::uint64_t>(c.kind) + c.address.mbox.domain.text.size() + c.typed.size;
  if (!d.ok() || l.ending != smtpkit::line_ending::crlf || l.status != smtpkit::line_status::line) {
    if (t.bad++ == 0) t.first_bad = std::string(l.line) + " (" + std::string(d.rule()) + ")";
  }
}

// As a server reads pipelined commands (RFC 2920): line_framer::each_line
// over the buffer, every line parsed into the one command it keeps.
command_tally run_command_stream(std::string_view buf) {
  command_tally t;
  smtpkit::line_framer framer(512);
  smtpkit::command c;
  (void)framer.each_line(buf, [&](const smtpkit::line_result& l) {
    tally(t, l, smtpkit::parse_command(l.line, c), c);
    return true;
  });
  return t;
}

// One line at a time: line_framer::next, and a fresh command_result from
// `parse` for each line (parse_command, or the general parser alone).
template <class Parse>
command_tally run_command_stream_next(std::string_view buf, Parse parse) {
  command_tally t;
  smtpkit::line_framer framer(512);
  while (!buf.empty()) {
    const smtpkit::line_result l = framer.next(buf);
    if (l.consumed == 0) break;
    buf.remove_prefix(l.consumed);
    const smtpkit::command_result c = parse(l.line);
    tally(t, l, c.diag, c.cmd);
  }
  return t;
}

std::size_t frame_lines(std::string_view buf) {
  std::size_t lines = 0;
  smtpkit::line_framer framer(512);
  (void)framer.each_line(buf, [&](const smtpkit::line_result& l) {
    benchmark::DoNotOptimize(l.line.data());
    ++lines;
    return true;
  });
  return lines;
}

std::size_t frame_lines_next(std::string_view buf) {
  std::size_t lines = 0;
  smtpkit::line_framer framer(512);
  while (!buf.empty()) {
    const smtpkit::line_result l = framer.next(buf);
    if (l.consumed == 0) break;
    buf.remove_prefix(l.consumed);
    benchmark::DoNotOptimize(l.line.data());
    ++lines;
  }
  return lines;
}

std::size_t memchr_lines(std::string_view buf) {
  std::size_t lines = 0;
  const char* p = buf.data();
  const char* const end = p + buf.size();
  while (const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
    p = static_cast<const char*>(hit) + 1;
    ++lines;
  }
  return lines;
}

struct reply_tally {
  std::size_t lines = 0;
  std::size_t replies = 0;
  std::size_t enhanced = 0;
  std::size_t bad = 0;
  std::string first_bad;
};

reply_tally run_reply_stream(std::string_view buf) {
  reply_tally t;
  smtpkit::line_framer framer(512);
  smtpkit::reply_assembler assembler;
  while (!buf.empty()) {
    const smtpkit::line_result l = framer.next(buf);
    if (l.consumed == 0) break;
    buf.remove_prefix(l.consumed);
    const auto step = assembler.feed(l.line, l.ending);
    ++t.lines;
    if (step.complete) ++t.replies;
    bool good = step.diag.ok();
    if (good && !step.line.text.empty()) {
      const auto e = smtpkit::parse_enhanced_status(step.line.text);
      if (e.value.present) ++t.enhanced;
      good = e.ok();
    }
    if (!good && t.bad++ == 0) t.first_bad = std::string(l.line);
  }
  return t;
}

struct decode_sink {
  std::uint64_t octets = 0;
  std::uint64_t pieces = 0;
  std::uint32_t anomalies = 0;
  void body(std::string_view s) noexcept {
    octets += s.size();
    ++pieces;
  }
  void anomaly(smtpkit::data_anomaly, std::uint64_t) noexcept { ++anomalies; }
};

constexpr std::size_t data_piece = 64 * 1024;

struct decode_outcome {
  decode_sink sink;
  bool done = false;
  std::uint64_t consumed = 0;
};

decode_outcome run_data_decoder(std::string_view wire) {
  decode_outcome o;
  smtpkit::data_decoder decoder;
  for (std::size_t at = 0; at < wire.size() && !o.done; at += data_piece) {
    const auto r = decoder.feed(wire.substr(at, data_piece), o.sink);
    o.consumed += r.consumed;
    o.done = r.done;
  }
  return o;
}

// ---------------------------------------------------------------------------
// Benchmarks

void set_rates(benchmark::State& state, std::size_t bytes, std::size_t items) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
}

void BM_command_stream(benchmark::State& state) {
  const std::string_view buf = in().commands;
  const command_tally check = run_command_stream(buf);
  if (check.bad != 0) {
    state.SkipWithError(("command stream does not parse: " + check.first_bad).c_str());
    return;
  }
  for (auto _ : state) {
    command_tally t = run_command_stream(buf);
    benchmark::DoNotOptimize(t.fields);
    benchmark::DoNotOptimize(t.lines);
  }
  set_rates(state, buf.size(), check.lines);
  state.counters["lines"] = static_cast<double>(check.lines);
}
BENCHMARK(BM_command_stream);

// The same with one set of fast paths forced (parser/src/test_support.hpp):
// what a CPU with AVX-512 VBMI, with AVX2 only, or with neither gets. A set
// this CPU cannot run is skipped.
void BM_command_stream_forced(benchmark::State& state, const char* set) {
  const std::string before = smtpkit::detail::command_fast_path_name();
  if (!smtpkit::detail::use_command_fast_paths(set)) {
    state.SkipWithError((std::string("this CPU does not run the ") + set + " set").c_str());
    return;
  }
  BM_command_stream(state);
  (void)smtpkit::detail::use_command_fast_paths(before);
}
BENCHMARK_CAPTURE(BM_command_stream_forced, avx512, "avx512");
BENCHMARK_CAPTURE(BM_command_stream_forced, avx2, "avx2");
BENCHMARK_CAPTURE(BM_command_stream_forced, none, "none");

template <class Parse>
void command_stream_next(benchmark::State& state, Parse parse) {
  const std::string_view buf = in().commands;
  const command_tally check = run_command_stream_next(buf, parse);
  if (check.bad != 0) {
    state.SkipWithError(("command stream does not parse: " + check.first_bad).c_str());
    return;
  }
  for (auto _ : state) {
    command_tally t = run_command_stream_next(buf, parse);
    benchmark::DoNotOptimize(t.fields);
    benchmark::DoNotOptimize(t.lines);
  }
  set_rates(state, buf.size(), check.lines);
}

// The same stream a line at a time: next() and a fresh result per line.
void BM_command_stream_next(benchmark::State& state) {
  command_stream_next(state, [](std::string_view line) { return smtpkit::parse_command(line); });
}
BENCHMARK(BM_command_stream_next);

// The same with the general parser only: what CPUs without AVX-512 VBMI,
// which have no MAIL/RCPT and EHLO fast paths, get (a line at a time, as
// above).
void BM_command_stream_general(benchmark::State& state) {
  command_stream_next(state, [](std::string_view line) { return smtpkit::detail::parse_command_general(line); });
}
BENCHMARK(BM_command_stream_general);

// Only finding the lines of the same stream, timed the same way.
template <class Count>
void count_command_lines(benchmark::State& state, Count count) {
  const std::string_view buf = in().commands;
  const std::size_t lines = count(buf);
  for (auto _ : state) benchmark::DoNotOptimize(count(buf));
  set_rates(state, buf.size(), lines);
}

// The framer alone: how much of the above is framing.
void BM_command_framing(benchmark::State& state) { count_command_lines(state, frame_lines); }
BENCHMARK(BM_command_framing);

void BM_command_framing_next(benchmark::State& state) { count_command_lines(state, frame_lines_next); }
BENCHMARK(BM_command_framing_next);

void BM_command_stream_memchr(benchmark::State& state) { count_command_lines(state, memchr_lines); }
BENCHMARK(BM_command_stream_memchr);

// Reply lines as a client reads them: framed, validated by the assembler
// (codes, separators, multi-line consistency), enhanced status codes parsed.
void BM_reply_stream(benchmark::State& state) {
  const std::string_view buf = in().replies;
  const reply_tally check = run_reply_stream(buf);
  if (check.bad != 0) {
    state.SkipWithError(("reply stream does not parse: " + check.first_bad).c_str());
    return;
  }
  for (auto _ : state) {
    reply_tally t = run_reply_stream(buf);
    benchmark::DoNotOptimize(t.enhanced);
    benchmark::DoNotOptimize(t.replies);
  }
  set_rates(state, buf.size(), check.lines);
  state.counters["replies"] = static_cast<double>(check.replies);
}
BENCHMARK(BM_reply_stream);

// Whole EHLO responses: every keyword line checked, extensions decoded.
void BM_ehlo_reply(benchmark::State& state) {
  const auto& ehlo = in().ehlo;
  for (const auto& e : ehlo) {
    if (auto r = smtpkit::parse_ehlo_reply(e); !r.ok()) {
      state.SkipWithError(("EHLO response does not parse: " + std::string(r.diag.rule())).c_str());
      return;
    }
  }
  for (auto _ : state) {
    for (const auto& e : ehlo) {
      auto r = smtpkit::parse_ehlo_reply(e);
      benchmark::DoNotOptimize(r.value.extensions);
    }
  }
  set_rates(state, in().ehlo_bytes, ehlo.size());
}
BENCHMARK(BM_ehlo_reply);

void BM_parse_path(benchmark::State& state) {
  const auto& set = in().paths;
  for (const auto& p : set.paths) {
    if (auto r = smtpkit::parse_path(p.text, p.kind); !r.ok()) {
      state.SkipWithError(("path does not parse: " + std::string(p.text)).c_str());
      return;
    }
  }
  for (auto _ : state) {
    for (const auto& p : set.paths) {
      auto r = smtpkit::parse_path(p.text, p.kind);
      benchmark::DoNotOptimize(r.value.mbox.domain.text);
    }
  }
  set_rates(state, set.path_bytes, set.paths.size());
}
BENCHMARK(BM_parse_path);

void BM_parse_mailbox(benchmark::State& state) {
  const auto& set = in().paths;
  for (const auto m : set.mailboxes) {
    if (auto r = smtpkit::parse_mailbox(m); !r.ok()) {
      state.SkipWithError(("mailbox does not parse: " + std::string(m)).c_str());
      return;
    }
  }
  for (auto _ : state) {
    for (const auto m : set.mailboxes) {
      auto r = smtpkit::parse_mailbox(m);
      benchmark::DoNotOptimize(r.value.domain.text);
    }
  }
  set_rates(state, set.mailbox_bytes, set.mailboxes.size());
}
BENCHMARK(BM_parse_mailbox);

// The DATA stream fed as a server would read it, 64 KiB at a time: dot
// unstuffing, end-of-data detection and every anomaly check.
void BM_data_decoder(benchmark::State& state) {
  const data_body& body = in().data;
  const decode_outcome check = run_data_decoder(body.wire);
  if (!check.done || check.consumed != body.wire.size() || check.sink.octets != body.content) {
    state.SkipWithError("DATA body does not decode to its content");
    return;
  }
  for (auto _ : state) {
    decode_outcome o = run_data_decoder(body.wire);
    benchmark::DoNotOptimize(o.sink.octets);
  }
  set_rates(state, body.wire.size(), body.lines);
  state.counters["anomalies"] = check.sink.anomalies;  // the first 8-bit octet only
}
BENCHMARK(BM_data_decoder);

void BM_data_memchr(benchmark::State& state) {
  const std::string_view wire = in().data.wire;
  const std::size_t lines = memchr_lines(wire);
  for (auto _ : state) benchmark::DoNotOptimize(memchr_lines(wire));
  set_rates(state, wire.size(), lines);
}
BENCHMARK(BM_data_memchr);

// ---------------------------------------------------------------------------
// Summary: medians over the repetitions, and the ratios that the goals
// are stated in.

class summary_reporter : public benchmark::BenchmarkReporter {
 public:
  explicit summary_reporter(benchmark::BenchmarkReporter* display) : display_(display) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    // Repetitions arrive one by one, or only as aggregates under
    // --benchmark_report_aggregates_only: keep whichever comes.
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      auto& s = samples_[r.run_name.function_name];
      if (r.run_type == Run::RT_Iteration) {
        s.bytes.push_back(counter(r, "bytes_per_second"));
        s.items.push_back(counter(r, "items_per_second"));
        ++s.runs;
      } else if (r.aggregate_name == "median") {
        s.median_bytes = counter(r, "bytes_per_second");
        s.median_items = counter(r, "items_per_second");
        s.runs = static_cast<std::size_t>(r.repetitions);
      }
    }
  }
  void Finalize() override { display_->Finalize(); }

  void print(std::ostream& os) const {
    if (samples_.empty()) return;
    std::size_t reps = 0;
    for (const auto& [name, s] : samples_) reps = std::max(reps, s.runs);
    os << "\nSummary: median of " << reps << " run(s); MB/s = 10^6 bytes/s\n";
    os << "  " << std::left << std::setw(32) << "benchmark" << std::right << std::setw(12) << "MB/s" << std::setw(16)
       << "items/s"
       << "\n";
    for (const char* name : order_) {
      auto it = samples_.find(name);
      if (it == samples_.end()) continue;
      os << "  " << std::left << std::setw(32) << name << std::right << std::fixed << std::setprecision(1)
         << std::setw(12) << it->second.bytes_rate() / 1e6 << std::setw(14) << std::setprecision(2)
         << it->second.items_rate() / 1e6 << " M\n";
    }
    auto mbps = [&](const char* name) {
      auto it = samples_.find(name);
      return it == samples_.end() ? 0.0 : it->second.bytes_rate() / 1e6;
    };
    const double commands = mbps("BM_command_stream");
    const double commands_memchr = mbps("BM_command_stream_memchr");
    const double data = mbps("BM_data_decoder");
    const double data_memchr = mbps("BM_data_memchr");
    os << std::setprecision(3);
    if (commands > 0 && commands_memchr > 0)
      os << "  command stream / memchr('\\n') over the same bytes: " << commands / commands_memchr << "\n";
    if (data > 0 && data_memchr > 0)
      os << "  DATA decoder / memchr('\\n') over the same bytes:   " << data / data_memchr
         << (data / data_memchr >= 0.5 ? "  (goal >= 0.5: met)\n" : "  (goal >= 0.5: MISSED)\n");
    os << "  MAIL/RCPT and EHLO fast paths in use: " << smtpkit::detail::command_fast_path_name() << " (this CPU runs:";
    for (std::string_view set : smtpkit::detail::command_fast_path_choices()) os << " " << set;
    os << ")\n";
    if (commands > 0)
      os << std::setprecision(0) << "  command stream: " << commands
         << (commands >= 1000 ? " MB/s  (goal >= 1000 MB/s: met)\n" : " MB/s  (goal >= 1000 MB/s: MISSED)\n");
    // Each set forced in turn, side by side; the goal holds for each set.
    for (const char* set : {"avx512", "avx2", "none"}) {
      const double forced = mbps((std::string("BM_command_stream_forced/") + set).c_str());
      if (forced <= 0) continue;
      os << "  command stream, " << set << " forced: " << forced << " MB/s";
      if (commands > 0)
        os << std::setprecision(2) << " (" << forced / commands << " of the default)" << std::setprecision(0);
      os << (std::string_view(set) == "none" ? "\n"
             : forced >= 1000                ? "  (goal >= 1000 MB/s: met)\n"
                                             : "  (goal >= 1000 MB/s: MISSED)\n");
    }
  }

 private:
  struct samples {
    std::vector<double> bytes;
    std::vector<double> items;
    double median_bytes = -1;  // from a "median" aggregate, when reported
    double median_items = -1;
    std::size_t runs = 0;
    double bytes_rate() const { return median_bytes >= 0 ? median_bytes : median(bytes); }
    double items_rate() const { return median_items >= 0 ? median_items : median(items); }
  };
  static double counter(const Run& r, const char* name) {
    auto it = r.counters.find(name);
    return it == r.counters.end() ? 0.0 : it->second.value;
  }
  static double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  }

  static constexpr std::array<const char*, 15> order_{"BM_command_stream",
                                                      "BM_command_stream_forced/avx512",
                                                      "BM_command_stream_forced/avx2",
                                                      "BM_command_stream_forced/none",
                                                      "BM_command_stream_next",
                                                      "BM_command_stream_general",
                                                      "BM_command_framing",
                                                      "BM_command_framing_next",
                                                      "BM_command_stream_memchr",
                                                      "BM_reply_stream",
                                                      "BM_ehlo_reply",
                                                      "BM_parse_path",
                                                      "BM_parse_mailbox",
                                                      "BM_data_decoder",
                                                      "BM_data_memchr"};
  benchmark::BenchmarkReporter* display_;
  std::map<std::string, samples> samples_;
};

}  // namespace

int main(int argc, char** argv) {
  // The summary goes to stdout only under the console format, so JSON or
  // CSV output stays machine-readable.
  bool console = true;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).starts_with("--benchmark_format=") &&
        std::string_view(argv[i]) != "--benchmark_format=console")
      console = false;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::unique_ptr<benchmark::BenchmarkReporter> display(benchmark::CreateDefaultDisplayReporter());
  summary_reporter reporter(display.get());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print(console ? std::cout : std::cerr);
  benchmark::Shutdown();
  return 0;
}
