// relay_probe.cpp — `smtpkit probe relay` (relay_probe.hpp): submissions
// to the relay with smtpkit's sender, a sink that records what the relay
// passes on, and a verdict per check from what arrived (and how).
#include "smtpkit/mock/probe/relay_probe.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "message_text.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/message.hpp"
#include "smtpkit/mock/client/sender.hpp"
#include "smtpkit/mock/common/endpoint.hpp"
#include "smtpkit/mock/common/envelope.hpp"
#include "smtpkit/mock/common/files.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/mock/server/script_factory.hpp"
#include "smtpkit/mock/server/server.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {
namespace {

using conformance::level;
using conformance::outcome;
using json = nlohmann::ordered_json;
using steady = std::chrono::steady_clock;
using namespace std::string_literals;

// --- the checks ----------------------------------------------------------------------------

enum class kind : std::uint8_t {
  eod,
  dot_lines,
  long_line,
  empty_lines,
  no_final_crlf,
  eight_bit,
  eight_bit_to_7bit,
  utf8,
  utf8_to_ascii,
  binarymime,
  reverse_path,
  recipients,
  dsn_params,
  size,
  received_added,
  received_kept,
  return_path,
  dsn_on_5xx,
  retry_4xx,
  loop,
  client_rules,
};

struct check_def {
  kind k;
  std::string id;
  std::string group;
  std::string title;
  level lvl;
  std::string rfc;
  bool seven_bit = false;  ///< runs against the sink without 8BITMIME, SMTPUTF8, BINARYMIME, CHUNKING
  std::string variant;     ///< eod: the octets
};

const std::vector<check_def>& defs() {
  static const std::vector<check_def> d = [] {
    std::vector<check_def> v;
    // The end-of-data variants of the server probe (conformance/server/security/smuggling-*).
    const std::pair<const char*, std::string> variants[] = {
        {"lf-dot-lf", "\n.\n"},     {"lf-dot-crlf", "\n.\r\n"}, {"crlf-dot-lf", "\r\n.\n"},
        {"cr-dot-cr", "\r.\r"},     {"cr-dot-crlf", "\r.\r\n"}, {"crlf-dot-cr", "\r\n.\r"},
        {"cr-dot-lf", "\r.\n"},     {"lf-dot-cr", "\n.\r"},     {"crlf-dot-nul", "\r\n.\0\r\n"s},
        {"nul-dot", "\r\n\0.\r\n"s}};
    for (const auto& [name, octets] : variants) {
      const bool nul = std::string_view(name).find("nul") != std::string_view::npos;
      v.push_back({kind::eod, "relay.eod."s + name, "End of data",
                   escape(octets) + " in a message is refused or normalised, never passed on raw",
                   nul ? level::should : level::must, "RFC 5321 §4.1.1.4, §2.3.8", false, octets});
    }
    auto add = [&v](kind k, std::string id, std::string group, std::string title, level lvl, std::string rfc,
                    bool seven = false) {
      v.push_back({k, std::move(id), std::move(group), std::move(title), lvl, std::move(rfc), seven, {}});
    };
    const level M = level::must, S = level::should, Y = level::may;
    const std::string t = "Transparency", b = "8-bit", e = "Envelope", r = "Trace", x = "Errors";
    add(kind::dot_lines, "relay.transparency.dot-lines", t,
        "lines that start with \".\" arrive unchanged (dot-stuffing kept across the hop)", M,
        "RFC 5321 §4.5.2, §3.6.3");
    add(kind::long_line, "relay.transparency.long-line", t, "a line of 998 octets arrives unchanged", M,
        "RFC 5321 §4.5.3.1.6, §3.6.3");
    add(kind::empty_lines, "relay.transparency.empty-lines", t, "empty lines in the body arrive unchanged", M,
        "RFC 5321 §3.6.3");
    add(kind::no_final_crlf, "relay.transparency.no-final-crlf", t,
        "a message whose last line has no CRLF (BDAT) arrives whole", M, "RFC 3030 §3, RFC 5321 §3.6.3");
    add(kind::eight_bit, "relay.8bit.declared", b, "BODY=8BITMIME mail is passed on declared (or converted)", M,
        "RFC 6152 §3");
    add(kind::eight_bit_to_7bit, "relay.8bit.to-7bit-hop", b,
        "8-bit mail for a hop without 8BITMIME is converted or returned, never sent undeclared", M, "RFC 6152 §3",
        true);
    add(kind::utf8, "relay.smtputf8.declared", b, "SMTPUTF8 mail is passed on with SMTPUTF8", M, "RFC 6531 §3.4, §3.2");
    add(kind::utf8_to_ascii, "relay.smtputf8.to-ascii-hop", b,
        "SMTPUTF8 mail for a hop without SMTPUTF8 is returned, never sent undeclared", M, "RFC 6531 §3.2", true);
    add(kind::binarymime, "relay.8bit.binarymime", b,
        "BODY=BINARYMIME mail goes on with BDAT and BINARYMIME (or converted), never over DATA", M, "RFC 3030 §3");
    add(kind::reverse_path, "relay.envelope.reverse-path", e, "the reverse-path arrives unchanged", M,
        "RFC 5321 §3.6.3, §4.1.1.2");
    add(kind::recipients, "relay.envelope.recipients", e, "every recipient of the domain gets the message", M,
        "RFC 5321 §3.3");
    add(kind::dsn_params, "relay.envelope.dsn-parameters", e,
        "RET, ENVID, NOTIFY and ORCPT are relayed to a hop that offers DSN", M, "RFC 3461 §5.2.1");
    add(kind::size, "relay.envelope.size", e, "SIZE is declared to a hop that offers SIZE", Y, "RFC 1870 §6");
    add(kind::received_added, "relay.trace.received-added", r, "the relay adds a Received line on top", M,
        "RFC 5321 §4.4");
    add(kind::received_kept, "relay.trace.received-kept", r,
        "earlier Received lines are kept, unchanged and in order, below the new one", M, "RFC 5321 §4.4");
    add(kind::return_path, "relay.trace.no-return-path", r, "a relay does not add Return-Path", S,
        "RFC 5321 §4.4, §3.6.3");
    add(kind::dsn_on_5xx, "relay.errors.dsn-on-5xx", x,
        "a 5xx from the next hop comes back to the sender as a delivery status notification", M,
        "RFC 5321 §3.6.3, §4.5.5, RFC 3464");
    add(kind::retry_4xx, "relay.errors.retry-4xx", x, "a 4xx from the next hop is retried", M,
        "RFC 5321 §4.5.4.1, §4.2.5");
    add(kind::loop, "relay.errors.loop", x, "a message with 150 Received lines is not passed on (a loop)", Y,
        "RFC 5321 §6.3");
    add(kind::client_rules, "relay.client-rules", "Client rules",
        "everything the relay sent the sink keeps the client rules", M, "RFC 5321");
    return v;
  }();
  return d;
}

bool chosen(const check_def& c, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  for (const auto& o : only)
    if (c.id == o || (c.id.size() > o.size() && c.id.compare(0, o.size(), o) == 0 && c.id[o.size()] == '.') ||
        iequals(c.group, o))
      return true;
  return false;
}

// --- the sink ----------------------------------------------------------------------------------

struct arrival {
  std::string session;
  std::string path;
  json envelope;
  std::string content;  ///< read once the phase is over
};

/// Records every session's octets (the client's alone too, as they came)
/// and every message the sink stored.
class sink_watch final : public server_observer {
 public:
  struct session_data {
    std::string client;  ///< the relay's octets, raw (capped at 32 MiB)
    transcript_writer w;
  };

  std::unique_ptr<session_tap> session_opened(const std::string& id, const std::string&, bool) override {
    auto d = std::make_shared<session_data>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      sessions_.emplace_back(id, d);
    }
    return std::make_unique<tap>(d);
  }
  void message_stored(const stored_message& m, const json& envelope) override {
    std::lock_guard<std::mutex> lock(mu_);
    arrivals_.push_back({m.session, m.path, envelope, {}});
  }

  /// Messages stored so far (paths and envelopes; content not read).
  std::vector<arrival> arrivals() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrivals_;
  }
  // After the server stopped:
  std::vector<std::pair<std::string, std::shared_ptr<session_data>>>& sessions() { return sessions_; }

 private:
  class tap final : public session_tap {
   public:
    explicit tap(std::shared_ptr<session_data> d) : d_(std::move(d)) {}
    void octets(side who, std::string_view bytes) override {
      if (who == side::client && d_->client.size() < (32u << 20)) d_->client.append(bytes);
      d_->w.sent(who, bytes);
    }
    void tls_started() override { d_->w.tls(); }
    void closed(side who) override { d_->w.close(who); }
    void finding(const json&, side) override {}
    void ended(std::size_t) override {}

   private:
    std::shared_ptr<session_data> d_;
  };

  std::mutex mu_;
  std::vector<arrival> arrivals_;
  std::vector<std::pair<std::string, std::shared_ptr<session_data>>> sessions_;
};

const char* sink_rules =
    "# The probe's sink: refuses reject-TOKEN, defers defer-TOKEN once.\n"
    "@rule RCPT TO:<reject-{who}>{*}\n"
    "S: 550 5.1.1 <reject-{who}> refused by the probe's sink\n"
    "@end\n"
    "@rule times=1 RCPT TO:<defer-{who}>{*}\n"
    "S: 451 4.3.0 <defer-{who}> deferred once by the probe's sink\n"
    "@end\n";

// --- submissions ---------------------------------------------------------------------------------

struct submission {
  const check_def* def = nullptr;
  std::string token;
  std::string body;  ///< the body as submitted (after the header's empty line)
  outgoing_message msg;
  std::string needs;  ///< an extension the relay must offer, or ""
  bool sent = false;
  send_result result;
  bool accepted = false;  ///< the relay said 2xx to the message
  std::string not_applicable;
  steady::time_point at{};
  std::vector<arrival> copies;   ///< what reached the sink with the token (not notifications)
  std::vector<arrival> notices;  ///< notifications (null reverse-path) that name the token
};

std::string random_run_id() {
  std::random_device rd;
  std::mt19937_64 g(rd());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 6; ++i) s += hex[g() % 16];
  return s;
}

std::string header_lines(const std::string& from, const std::string& to, const std::string& subject,
                         const std::string& token) {
  return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject +
         "\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <" + token +
         "@probe.smtpkit.test>\r\nX-Smtpkit-Probe: " + token +
         "\r\nReceived: from origin.example.test ([192.0.2.1])\r\n\tby mx1.example.test with ESMTP id P1; Thu, 01 "
         "Jan 2026 00:00:01 +0000\r\nReceived: from author.example.test ([192.0.2.2])\r\n\tby origin.example.test "
         "with ESMTPSA id P0; Thu, 01 Jan 2026 00:00:00 +0000\r\n";
}

submission build(const check_def& c, const relay_probe_options& o, const std::string& sender,
                 const std::string& token) {
  submission s;
  s.def = &c;
  s.token = token;
  std::string local = "t-" + token;
  if (c.k == kind::dsn_on_5xx) local = "reject-" + token;
  if (c.k == kind::retry_4xx) local = "defer-" + token;
  if (c.k == kind::utf8 || c.k == kind::utf8_to_ascii) local = "\xc3\xbc-" + token;  // "ü-TOKEN"
  const std::string rcpt = local + "@" + o.domain;
  std::string extra;  // header fields after the common ones
  auto& m = s.msg;
  m.reverse_path = sender;
  m.recipients.push_back({rcpt, {}});
  switch (c.k) {
    case kind::eod:
      s.body = "before-" + token + c.variant + "after-" + token + "\r\nlast line\r\n";
      m.raw = true;
      break;
    case kind::dot_lines: s.body = "first\r\n.\r\n..\r\n.x " + token + "\r\n...y\r\n. \r\nx.\r\nlast\r\n"; break;
    case kind::long_line: s.body = token + " " + std::string(998 - token.size() - 1, 'x') + "\r\nlast\r\n"; break;
    case kind::empty_lines: s.body = "\r\nfirst " + token + "\r\n\r\n\r\nafter two empty lines\r\n\r\n"; break;
    case kind::no_final_crlf:
      s.body = "first " + token + "\r\nno line end after this";
      m.bdat = true;
      s.needs = "CHUNKING";
      break;
    case kind::eight_bit:
    case kind::eight_bit_to_7bit:
      extra = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";
      s.body = "caf\xc3\xa9 na\xc3\xafve " + token + " \xe2\x80\x94 8-bit text\r\n";
      m.params.push_back("BODY=8BITMIME");
      s.needs = "8BITMIME";
      break;
    case kind::utf8:
    case kind::utf8_to_ascii:
      extra = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";
      s.body =
          "Gr\xc3\xbc\xc3\x9f"
          "e " +
          token + "\r\n";
      m.params.push_back("SMTPUTF8");
      m.params.push_back("BODY=8BITMIME");
      s.needs = "SMTPUTF8";
      break;
    case kind::binarymime:
      extra = "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n";
      s.body = "bin " + token + " \x01\x02\xff bare\rCR bare\nLF "s + std::string(1, '\0') + " end\r\n";
      m.params.push_back("BODY=BINARYMIME");
      m.bdat = true;
      s.needs = "BINARYMIME";
      break;
    case kind::recipients:
      m.recipients.push_back({"t2-" + token + "@" + o.domain, {}});
      s.body = "two recipients " + token + "\r\n";
      break;
    case kind::dsn_params:
      m.params.push_back("RET=HDRS");
      m.params.push_back("ENVID=" + token);
      m.recipients[0].params = {"NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;o-" + token + "@" + o.domain};
      s.body = "dsn parameters " + token + "\r\n";
      s.needs = "DSN";
      break;
    case kind::loop: {
      for (int i = 0; i < 150; ++i)
        extra += "Received: from hop" + std::to_string(150 - i) + ".example.test by hop" + std::to_string(151 - i) +
                 ".example.test; Thu, 01 Jan 2026 00:00:00 +0000\r\n";
      s.body = "a loop " + token + "\r\n";
      break;
    }
    default: s.body = "check " + c.id + " " + token + "\r\n"; break;
  }
  m.content = header_lines(sender, rcpt, "smtpkit probe relay: " + c.id, token) + extra + "\r\n" + s.body;
  return s;
}

// --- reading what arrived ----------------------------------------------------------------------

std::string read_all(const std::string& path) {
  std::string text;
  (void)read_file(path, text);  // gone since: judged as empty
  return text;
}

struct field {
  std::string name;
  std::string text;  ///< the whole field, folded lines included, line ends as they came
};
std::vector<field> header_fields(std::string_view m) {
  std::vector<field> out;
  std::string_view head = m.substr(0, relay::body_offset(m));
  for (std::size_t at = 0; at < head.size();) {
    std::size_t nl = head.find('\n', at);
    std::size_t end = nl == std::string_view::npos ? head.size() : nl + 1;
    std::string_view line = head.substr(at, end - at);
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    header_line h = classify_header_line(bare);
    if (h.kind == header_line_kind::field) out.push_back({std::string(h.name), std::string(line)});
    else if (h.kind == header_line_kind::continuation && !out.empty()) out.back().text += line;
    at = end;
  }
  return out;
}

std::string param_of(const json& params, std::string_view key) { return envelope_param(params, key, "(no value)"); }
bool has_param(const json& params, std::string_view key) { return has_envelope_param(params, key); }

// Bare CR, bare LF or NUL: what no line of SMTP mail data may hold.
std::string oddities(std::string_view s) {
  bool cr = false, lf = false, nul = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\0') nul = true;
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) cr = true;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) lf = true;
  }
  std::string out;
  for (auto [on, name] : {std::pair{cr, "bare CR"}, std::pair{lf, "bare LF"}, std::pair{nul, "NUL"}})
    if (on) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::string rcpt_list(const json& env) {
  std::string out;
  if (auto it = env.find("rcpt_to"); it != env.end() && it->is_array())
    for (const auto& r : *it) out += (out.empty() ? "" : " ") + r.value("address", std::string());
  return out;
}

std::string first_line(std::string_view s) {
  s = s.substr(0, s.find('\n'));
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return std::string(s);
}

/// An arrival for the submission's own recipients (token in RCPT), not a
/// notification about it (token in the text only).
bool is_copy(const arrival& a, const submission& s) { return rcpt_list(a.envelope).find(s.token) != std::string::npos; }

/// What a notification says went wrong: its first Diagnostic-Code or
/// Status field, or its Subject.
std::string notice_says(const arrival& n) {
  for (const char* f : {"Diagnostic-Code:", "Status:"})
    if (auto at = n.content.find(f); at != std::string::npos) return first_line(std::string_view(n.content).substr(at));
  for (const auto& fl : header_fields(n.content))
    if (iequals(fl.name, "Subject")) return first_line(fl.text);
  return "a notification";
}

// --- verdicts ------------------------------------------------------------------------------------

struct verdict {
  outcome result = outcome::pass;
  std::string reason;
  std::vector<std::string> notes;
  std::optional<conformance::eod_result> eod;
  const arrival* shown = nullptr;  ///< the copy whose session the report shows
  std::optional<level> lvl = {};   ///< what a failure weighs, when not the check's level
};

verdict fail(std::string why) { return {outcome::fail, std::move(why), {}, {}, nullptr, {}}; }
verdict pass(std::string why) { return {outcome::pass, std::move(why), {}, {}, nullptr, {}}; }

std::string submission_reply(const submission& s) {
  if (!s.result.error.empty() && s.result.data.code == 0) return s.result.error;
  const sent_reply r = s.result.outcome(0);
  return r.code == 0 ? (s.result.error.empty() ? "no reply" : s.result.error) : first_line(r.text);
}

class judge {
 public:
  judge(const relay_probe_options& o, std::string sender) : o_(o), sender_(std::move(sender)) {}

  verdict operator()(const submission& s) const {
    const auto& c = *s.def;
    if (c.k == kind::eod && !s.result.unasked.empty()) {
      // RFC 5321 §4.1.1.4: only <CRLF>.<CRLF> ends the data.
      std::string codes;
      for (const auto& r : s.result.unasked) codes += " " + std::to_string(r.code);
      verdict v = fail("the relay took " + escape(c.variant) +
                       " as the end of the data: it answered the lines after it as "
                       "commands (replies" +
                       codes + " after the one to the message) and would run smuggled commands");
      std::vector<std::uint16_t> all{s.result.data.code};
      for (const auto& r : s.result.unasked) all.push_back(r.code);
      v.eod = conformance::eod_result{escape(c.variant), "ended-data-at-relay", all, v.reason};
      return v;
    }
    if (c.k == kind::retry_4xx) return retry(s);
    if (c.k == kind::dsn_on_5xx) return dsn(s);
    if (!s.accepted) {
      const std::string why = "the relay refused the submission: " + submission_reply(s);
      // Refusing is always allowed for what a hop must not pass on.
      switch (c.k) {
        case kind::eod: {
          verdict v = pass(why);
          v.eod = conformance::eod_result{escape(c.variant),
                                          "refused",
                                          {s.result.data.code},
                                          "the relay refused the submission: " + submission_reply(s)};
          return v;
        }
        case kind::loop:
        case kind::eight_bit_to_7bit:
        case kind::utf8_to_ascii:
        case kind::binarymime: return pass(why);
        default: return {outcome::error, why, {}, {}, nullptr, {}};
      }
    }
    if (s.copies.empty()) {
      const bool returned = !s.notices.empty();
      switch (c.k) {
        case kind::loop: return pass(returned ? "not passed on; a notification came back" : "not passed on");
        case kind::eight_bit_to_7bit:
        case kind::utf8_to_ascii:
          if (returned) return pass("returned to the sender (a notification came back), not sent undeclared");
          break;
        case kind::eod:
          if (returned) {
            verdict v = pass("returned to the sender with a notification");
            v.eod =
                conformance::eod_result{escape(c.variant), "refused", {}, "returned to the sender with a notification"};
            return v;
          }
          break;
        default: break;
      }
      if (returned)
        return {outcome::error,
                "accepted (" + submission_reply(s) + "), then returned to the sender instead of passed on (" +
                    notice_says(s.notices.front()) + ")",
                {},
                {},
                nullptr,
                {}};
      return {outcome::error,
              "accepted (" + submission_reply(s) + ") but nothing reached the sink within " +
                  std::to_string(o_.wait.count() / 1000) + " s" +
                  (c.seven_bit ? "; a notification that is itself 8-bit or SMTPUTF8 cannot come back over the 7-bit "
                                 "sink either: the relay's log says whether it returned the mail"
                               : ""),
              {},
              {},
              nullptr,
              {}};
    }
    const arrival& a = s.copies.front();
    verdict v = arrived(s, a);
    v.shown = &a;
    return v;
  }

 private:
  verdict arrived(const submission& s, const arrival& a) const {
    const auto& c = *s.def;
    const std::string& got = a.content;
    const std::string_view body = std::string_view(got).substr(relay::body_offset(got));
    const json mail_params = a.envelope.value("mail_params", json::object());
    switch (c.k) {
      case kind::eod: return eod(s, a);
      case kind::dot_lines:
      case kind::long_line:
      case kind::empty_lines:
        if (body == s.body) return pass("arrived unchanged");
        return fail("the body changed on the way: sent " + escape(s.body.substr(0, 200)) + ", arrived " +
                    escape(body.substr(0, 200)));
      case kind::no_final_crlf:
        if (body == s.body || body == s.body + "\r\n")
          return pass(body == s.body ? "arrived unchanged" : "arrived with a CRLF added to the last line");
        return fail("the body changed on the way: sent " + escape(s.body) + ", arrived " + escape(body.substr(0, 200)));
      case kind::eight_bit: {
        const bool declared = iequals(param_of(mail_params, "BODY"), "8BITMIME");
        if (relay::has_8bit(got) && !declared)
          return fail("8-bit octets arrived without BODY=8BITMIME (the sink offers 8BITMIME)");
        return pass(declared ? "passed on with BODY=8BITMIME" : "converted to 7 bit");
      }
      case kind::eight_bit_to_7bit:
        if (relay::has_8bit(got)) return fail("8-bit octets sent to a hop that does not offer 8BITMIME");
        return pass("converted to 7 bit for the 7-bit hop");
      case kind::utf8:
        if (!has_param(mail_params, "SMTPUTF8")) return fail("arrived without SMTPUTF8 (its recipient is UTF-8)");
        return pass("passed on with SMTPUTF8");
      case kind::utf8_to_ascii: {
        // RFC 6531 §3.2: no SMTPUTF8 at the next hop, the mail is returned;
        // a local part rewritten (punycode) is no longer the sender's recipient.
        std::string why = "passed on to a hop without SMTPUTF8, recipient as it arrived: " + rcpt_list(a.envelope);
        if (relay::has_8bit(got) && !iequals(param_of(mail_params, "BODY"), "8BITMIME"))
          why += "; its UTF-8 text went as 8-bit octets without BODY=8BITMIME";
        return fail(why);
      }
      case kind::binarymime: {
        const bool binary = iequals(param_of(mail_params, "BODY"), "BINARYMIME");
        const std::string transport = a.envelope.value("transport", std::string());
        if (binary && transport == "BDAT") return pass("passed on with BDAT and BODY=BINARYMIME");
        if (!oddities(body).empty() || (relay::has_8bit(body) && !iequals(param_of(mail_params, "BODY"), "8BITMIME")))
          return fail("binary octets (" + oddities(body) + ") passed on over " + transport +
                      (binary ? "" : " without BODY=BINARYMIME"));
        return pass("converted for the hop");
      }
      case kind::reverse_path: {
        const std::string from = a.envelope.value("mail_from", std::string());
        if (from == sender_) return pass("arrived from <" + from + ">");
        return fail("the reverse-path changed: sent <" + sender_ + ">, arrived <" + from + ">");
      }
      case kind::recipients: {
        std::string all;
        for (const auto& cp : s.copies) all += " " + rcpt_list(cp.envelope);
        std::string missing;
        for (const auto& r : s.msg.recipients)
          if (all.find(r.address) == std::string::npos) missing += " " + r.address;
        if (missing.empty())
          return pass("both recipients got it (" + std::to_string(s.copies.size()) + " transaction" +
                      (s.copies.size() == 1 ? ")" : "s)"));
        return fail("never arrived for" + missing);
      }
      case kind::dsn_params: {
        std::string missing;
        for (const char* k : {"RET", "ENVID"})
          if (!has_param(mail_params, k)) missing += " "s + k;
        json rp = json::object();
        if (auto it = a.envelope.find("rcpt_to"); it != a.envelope.end() && it->is_array() && !it->empty())
          rp = (*it)[0].value("params", json::object());
        for (const char* k : {"NOTIFY", "ORCPT"})
          if (!has_param(rp, k)) missing += " "s + k;
        if (missing.empty()) {
          std::string changed;
          if (param_of(mail_params, "ENVID") != s.token) changed += " ENVID";
          if (!iequals(param_of(rp, "NOTIFY"), "SUCCESS,FAILURE")) changed += " NOTIFY=" + param_of(rp, "NOTIFY");
          if (!changed.empty()) return fail("relayed changed:" + changed);
          return pass("RET, ENVID, NOTIFY and ORCPT relayed");
        }
        return fail("not relayed to a hop that offers DSN:" + missing);
      }
      case kind::size:
        if (has_param(mail_params, "SIZE")) return pass("SIZE=" + param_of(mail_params, "SIZE") + " declared");
        return {outcome::not_done, "no SIZE declared to a hop that offers SIZE", {}, {}, nullptr, {}};
      case kind::received_added:
      case kind::received_kept:
      case kind::return_path: return trace(s, a);
      case kind::loop: return {outcome::not_done, "passed on with 150 Received lines", {}, {}, nullptr, {}};
      default: return pass("arrived");
    }
  }

  verdict trace(const submission& s, const arrival& a) const {
    const auto sent = header_fields(s.msg.content);
    auto got = header_fields(a.content);
    // A Return-Path above everything is the no-return-path check's finding.
    if (s.def->k != kind::return_path)
      while (!got.empty() && iequals(got.front().name, "Return-Path")) got.erase(got.begin());
    std::vector<std::string> sent_received, got_received;
    for (const auto& f : sent)
      if (iequals(f.name, "Received")) sent_received.push_back(f.text);
    for (const auto& f : got)
      if (iequals(f.name, "Received")) got_received.push_back(f.text);
    switch (s.def->k) {
      case kind::received_added: {
        if (got.empty() || !iequals(got.front().name, "Received") ||
            std::find(sent_received.begin(), sent_received.end(), got.front().text) != sent_received.end()) {
          if (got_received.size() > sent_received.size())
            return fail("a Received line was added, but not on top (RFC 5321 §4.4: prepended)");
          return fail("no Received line added; the first field is " + (got.empty() ? "none" : got.front().name));
        }
        const std::string& line = got.front().text;
        // RFC 5321 §4.4: Stamp = From-domain By-domain Opt-info [CFWS] ";"
        // FWS date-time; the FROM clause MUST be supplied in SMTP.
        std::string flat;
        for (char ch : line.substr(line.find(':') + 1)) flat += (ch == '\r' || ch == '\n' || ch == '\t') ? ' ' : ch;
        std::string lower;
        for (char ch : flat) lower += to_lower_ascii(ch);
        const auto first = lower.find_first_not_of(' ');
        const auto semi = flat.rfind(';');
        std::string missing;
        if (first == std::string::npos || lower.compare(first, 5, "from ") != 0) missing += ", no FROM clause first";
        if (lower.find(" by ") == std::string::npos) missing += ", no BY clause";
        if (semi == std::string::npos || !find_date_time(std::string_view(flat).substr(semi + 1)).found())
          missing += ", no \"; date-time\" at its end";
        if (!missing.empty())
          return fail("the Received line it added is not well formed (RFC 5321 §4.4" + missing +
                      "): " + escape(line.substr(0, 200)));
        return pass("added: " + escape(line.substr(0, 200)));
      }
      case kind::received_kept: {
        // The submitted lines must be there, unchanged, consecutive, in order, and only below new ones.
        auto it = std::search(got_received.begin(), got_received.end(), sent_received.begin(), sent_received.end());
        if (it == got_received.end()) return fail("the earlier Received lines did not arrive unchanged and in order");
        if (it + static_cast<long>(sent_received.size()) != got_received.end())
          return fail("a Received line was inserted below the earlier ones");
        return pass("kept, below " + std::to_string(it - got_received.begin()) + " new one(s)");
      }
      case kind::return_path:
        for (const auto& f : got)
          if (iequals(f.name, "Return-Path")) return fail("a relay added " + escape(first_line(f.text)));
        return pass("no Return-Path added");
      default: return pass("");
    }
  }

  verdict eod(const submission& s, const arrival& a) const {
    const auto& c = *s.def;
    const std::string before = "before-" + s.token, after = "after-" + s.token;
    const std::string esc = escape(c.variant);
    verdict v;
    v.eod = conformance::eod_result{esc, "", {}, ""};
    auto outcome_is = [&](outcome r, std::string result, std::string why) {
      v.result = r;
      v.reason = why;
      v.eod->result = std::move(result);
      v.eod->detail = std::move(why);
      return v;
    };
    const std::string_view got = a.content;
    if (got.find(after) == std::string_view::npos)
      return outcome_is(outcome::fail, "ended-data-at-relay",
                        "what followed the variant never arrived: the relay took " + esc +
                            " as the end of the data (it would run smuggled commands)");
    // The octets between the markers as they crossed the wire to the sink.
    std::string between;
    if (!a.session.empty()) {
      const std::string& wire = raw_of(a.session);
      auto b = wire.find(before);
      auto e = b == std::string::npos ? std::string::npos : wire.find(after, b);
      if (e != std::string::npos) between = wire.substr(b + before.size(), e - b - before.size());
    }
    if (between.empty()) {
      auto b = got.find(before);
      auto e = b == std::string_view::npos ? std::string_view::npos : got.find(after, b);
      if (e != std::string_view::npos) between = std::string(got.substr(b + before.size(), e - b - before.size()));
    }
    const std::string odd = oddities(between);
    if (between == c.variant)
      return outcome_is(outcome::fail, "passed-raw",
                        "passed on unchanged: " + esc + " reached the next hop as it was sent (" + odd +
                            "); an inbound server that takes it as the end of data runs what follows");
    if (!odd.empty())
      return outcome_is(outcome::fail, "passed-altered",
                        "passed on with " + odd + ": sent " + esc + ", the next hop got " + escape(between));
    return outcome_is(outcome::pass, "normalised", "the next hop got " + escape(between));
  }

  verdict dsn(const submission& s) const {
    if (!s.accepted) return pass("refused at submission (" + submission_reply(s) + "): the sender learns at once");
    if (s.notices.empty()) {
      if (!s.copies.empty()) return fail("the sink refused the recipient with 550, yet it arrived");
      return fail("no notification came back to <" + sender_ + "> within " + std::to_string(o_.wait.count() / 1000) +
                  " s after the next hop's 550 (a silent drop)");
    }
    const arrival& n = s.notices.front();
    verdict v;
    v.shown = &n;
    const std::string from = n.envelope.value("mail_from", std::string());
    if (!from.empty()) {
      v.result = outcome::fail;
      v.reason = "the notification came from <" + from + ">, not the null reverse-path (RFC 5321 §4.5.5)";
      return v;
    }
    const std::string head(std::string_view(n.content).substr(0, relay::body_offset(n.content)));
    std::string lower_head;
    for (char ch : head) lower_head += to_lower_ascii(ch);
    const bool report = lower_head.find("multipart/report") != std::string::npos &&
                        lower_head.find("delivery-status") != std::string::npos;
    const bool status_part = n.content.find("message/delivery-status") != std::string::npos ||
                             n.content.find("message/global-delivery-status") != std::string::npos;
    if (!report || !status_part) {
      v.result = outcome::fail;
      v.reason =
          "a notification came back, but not in the RFC 3464 form (multipart/report; "
          "report-type=delivery-status), which RFC 5321 §3.6.3 says SHOULD be used";
      v.lvl = level::should;
      return v;
    }
    v.result = outcome::pass;
    v.reason = "an RFC 3464 notification came back from <>";
    return v;
  }

  verdict retry(const submission& s) const {
    if (!s.accepted)
      return {outcome::error, "the relay refused the submission: " + submission_reply(s), {}, {}, nullptr, {}};
    if (!s.copies.empty()) {
      verdict v = pass("retried after the 451 and delivered");
      v.shown = &s.copies.front();
      return v;
    }
    if (!s.notices.empty()) return fail("gave up after one 451: a notification came back instead of a retry");
    return {outcome::error,
            "no retry within " + std::to_string(o_.retry_wait.count() / 1000) +
                " s (many MTAs wait minutes before the first retry: raise --retry-wait)",
            {},
            {},
            nullptr,
            {}};
  }

 public:
  std::map<std::string, std::string> raw_sessions;  ///< session id -> the relay's octets

 private:
  const std::string& raw_of(const std::string& session) const {
    static const std::string none;
    auto it = raw_sessions.find(session);
    return it == raw_sessions.end() ? none : it->second;
  }
  const relay_probe_options& o_;
  std::string sender_;
};

// --- running ---------------------------------------------------------------------------------------

struct phase_out {
  std::vector<std::pair<std::string, std::string>> transcripts;  ///< session id, transcript
  std::map<std::string, std::string> raw;
  std::string error;
};

class runner {
 public:
  runner(const relay_probe_options& o, conformance::report& rep) : o_(o), rep_(rep) {
    sender_ = o.sender.empty() ? "relay-probe@" + o.domain : o.sender;
    run_id_ = random_run_id();
    work_ = make_temp_dir("smtpkit-relay-probe");
  }
  ~runner() {
    std::error_code ec;
    if (!work_.empty()) std::filesystem::remove_all(work_, ec);
  }

  void run() {
    std::vector<submission> subs;
    std::size_t n = 0;
    for (const auto& c : defs()) {
      if (!chosen(c, o_.only) || c.k == kind::client_rules) continue;
      char num[8];
      std::snprintf(num, sizeof num, "%02zu", ++n);
      subs.push_back(build(c, o_, sender_, "rp" + run_id_ + "-" + num));
    }
    std::vector<std::pair<std::string, std::string>> all_transcripts;
    judge j(o_, sender_);
    for (bool seven : {false, true}) {
      std::vector<submission*> here;
      for (auto& s : subs)
        if (s.def->seven_bit == seven) here.push_back(&s);
      if (here.empty()) continue;
      phase_out out = phase(here, seven);
      if (!out.error.empty()) {
        rep_.target.unreachable = true;
        rep_.target.unreachable_reason = out.error;
        return;
      }
      all_transcripts.insert(all_transcripts.end(), out.transcripts.begin(), out.transcripts.end());
      j.raw_sessions.insert(out.raw.begin(), out.raw.end());
      for (auto* s : here) sessions_of_[s] = out.transcripts;
    }
    for (auto& s : subs) add_case(s, j);
    const check_def& cr = defs().back();
    if (chosen(cr, o_.only)) client_rules(cr, all_transcripts);
    pairs();
  }

 private:
  // One sink, the phase's submissions, the wait for what they bring.
  phase_out phase(std::vector<submission*>& subs, bool seven) {
    phase_out out;
    server_config cfg;
    listen_spec ls;
    std::string why;
    if (!parse_endpoint(sink_addr_.empty() ? o_.sink_listen : sink_addr_, {"127.0.0.1", true}, ls.host, ls.port, why)) {
      out.error = "--sink-listen " + o_.sink_listen + ": " + why;
      return out;
    }
    cfg.listens.push_back(ls);
    cfg.hostname = o_.sink_hostname;
    cfg.maildir = work_ + (seven ? "/seven-bit" : "/full");
    cfg.verbosity = 0;
    cfg.check_client = true;
    cfg.idle_timeout = std::chrono::seconds(60);
    if (seven) {
      cfg.ext.eightbitmime = cfg.ext.smtputf8 = cfg.ext.binarymime = cfg.ext.chunking = false;
    }
    auto loaded = load_script(sink_rules, "probe relay sink", side::server);
    std::optional<server> srv;
    auto watch = std::make_shared<sink_watch>();
    try {
      srv.emplace(cfg, script_factory({std::get<script>(loaded)}));
    } catch (const std::exception& e) {
      out.error = std::string("the sink cannot listen: ") + e.what();
      return out;
    }
    srv->watch(watch);
    const auto& ep = srv->endpoints().front();
    if (sink_addr_.empty()) {
      sink_addr_ = ep.host + ":" + std::to_string(ep.port);
      rep_.target.name = o_.submit.describe() + " (sink " + sink_addr_ + ")";
      if (o_.on_sink) o_.on_sink(sink_addr_);
    }
    // The sink's server stops on SIGINT/SIGTERM: then so does the run.
    std::atomic<bool> sink_ended{false};
    std::thread loop([&] {
      srv->run();
      sink_ended = true;
    });

    // Submit, one after another.
    for (auto* s : subs) {
      if (sink_ended) break;
      sender_options so;
      so.target = o_.submit;
      so.helo = o_.helo;
      so.starttls = o_.starttls;
      so.user = o_.user;
      so.password = o_.password;
      so.step_timeout = o_.step_timeout;
      so.session_timeout = o_.step_timeout * 4;
      const std::string needs = s->needs;
      std::string* na = &s->not_applicable;
      so.adapt = [needs, na](const ehlo_info& info, outgoing_message&) -> std::optional<std::string> {
        auto offers = [&](std::string_view k) {
          ehlo_keywords kw(info.raw);
          ehlo_keyword one;
          while (kw.next(one))
            if (one.names(k)) return true;
          return false;
        };
        if (!needs.empty() && !offers(needs)) {
          *na = "the relay does not offer " + needs;
          return *na;
        }
        if (needs == "BINARYMIME" && !offers("CHUNKING")) {
          *na = "the relay does not offer CHUNKING";
          return *na;
        }
        return std::nullopt;
      };
      s->at = steady::now();
      s->result = send_message(s->msg, so);
      s->sent = true;
      if (!s->result.connected && rep_.target.greeting.empty() && s == subs.front() && !submitted_) {
        out.error = "the relay " + o_.submit.describe() + " cannot be reached: " + s->result.error;
        srv->stop();
        loop.join();
        return out;
      }
      submitted_ = true;
      if (rep_.target.greeting.empty() && !s->result.greeting.empty()) {
        rep_.target.greeting = first_line(s->result.greeting);
        std::string_view e = s->result.ehlo;
        for (std::size_t k = 0; (k = e.find('\n')) != std::string_view::npos || !e.empty();) {
          std::string_view line = e.substr(0, k);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.size() > 4) rep_.target.ehlo.emplace_back(line.substr(4));
          if (k == std::string_view::npos) break;
          e.remove_prefix(k + 1);
        }
        if (!rep_.target.ehlo.empty()) rep_.target.ehlo.erase(rep_.target.ehlo.begin());  // the greeting line
        rep_.target.tls = s->result.tls;
      }
      const auto final_code = s->result.data.code;
      s->accepted = s->not_applicable.empty() && final_code >= 200 && final_code < 300;
    }

    // Wait for each accepted submission's copies (and notifications).
    auto done = [&](const submission& s, const std::vector<arrival>& got) {
      if (!s.accepted) return true;
      bool copy = false, notice = false;
      for (const auto& a : got) {
        (is_copy(a, s) ? copy : notice) = true;
      }
      switch (s.def->k) {
        case kind::dsn_on_5xx: return notice || copy;
        case kind::retry_4xx: return copy || notice;
        case kind::recipients: return got.size() >= 2 || notice;
        default: return copy || notice;
      }
    };
    std::map<std::string, std::string> contents;  // path -> content
    auto matching = [&](const submission& s) {
      std::vector<arrival> got;
      for (auto a : watch->arrivals()) {
        auto it = contents.find(a.path);
        if (it == contents.end()) it = contents.emplace(a.path, read_all(a.path)).first;
        a.content = it->second;
        if (a.content.find(s.token) != std::string::npos || rcpt_list(a.envelope).find(s.token) != std::string::npos)
          got.push_back(std::move(a));
      }
      return got;
    };
    while (!sink_ended) {
      bool all = true;
      const auto now = steady::now();
      for (auto* s : subs) {
        const auto limit = s->def->k == kind::retry_4xx ? o_.retry_wait : o_.wait;
        if (now - s->at > limit) continue;
        if (!done(*s, matching(*s))) all = false;
      }
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    // Late copies of what was expected not to arrive (a loop, a 7-bit
    // hop) get a moment more, so that "not passed on" is not a race.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (auto* s : subs)
      for (auto& a : matching(*s)) {
        // A copy goes to the submission's recipients; anything else that
        // names the token (in its text) is about it: a notification.
        (is_copy(a, *s) ? s->copies : s->notices).push_back(std::move(a));
      }
    const bool interrupted = sink_ended;
    srv->stop();
    loop.join();
    srv.reset();
    if (interrupted) out.error = "interrupted (SIGINT or SIGTERM): the checks not yet judged are left out";
    for (auto& [id, d] : watch->sessions()) {
      d->w.flush();
      out.transcripts.emplace_back(id, d->w.take());
      out.raw[id] = std::move(d->client);
    }
    return out;
  }

  conformance::session_report judged(const std::string& id, const std::string& text) {
    conformance::session_report d;
    auto t = read_transcript(text, id);
    conformance::engine_options eo;
    eo.judge_server = false;
    if (t.ok()) d = conformance::check_transcript(*t.value, eo);
    d.source = "sink " + id;
    d.transcript = text;
    conformance::apply(o_.policy, d);
    return d;
  }

  void add_case(submission& s, const judge& j) {
    const check_def& c = *s.def;
    conformance::report_case rc;
    rc.kind = conformance::case_kind::scenario;
    rc.id = c.id;
    rc.title = c.title;
    rc.classname = "smtpkit.relay." + c.group;
    rc.rfc = c.rfc;
    rc.lvl = c.lvl;
    conformance::session_report dialogue;
    if (!s.not_applicable.empty()) {
      rc.played = outcome::not_applicable;
      rc.played_reason = s.not_applicable;
    } else {
      verdict v = j(s);
      rc.played = v.result;
      rc.played_reason = v.reason;
      rc.notes = v.notes;
      rc.eod = v.eod;
      if (v.lvl) rc.lvl = *v.lvl;
      if (v.shown != nullptr) {
        for (const auto& [id, text] : sessions_of_[&s])
          if (id == v.shown->session) dialogue = judged(id, text);
        rc.notes.push_back("arrived at the sink from <" + v.shown->envelope.value("mail_from", std::string()) +
                           "> for " + rcpt_list(v.shown->envelope) + " (" + v.shown->session + ")");
      }
    }
    if (dialogue.transcript.empty()) {
      // Nothing arrived: the submission itself shows what happened.
      dialogue.source = "submission " + s.token;
      dialogue.transcript = s.result.transcript;
    }
    // The sink session's client findings are the client-rules check's;
    // here they are notes.
    conformance::settle(rc, dialogue);
    conformance::apply(o_.policy, rc, dialogue);
    if (o_.on_result) o_.on_result(rc);
    add(c.group, std::move(rc), std::move(dialogue));
  }

  void client_rules(const check_def& c, const std::vector<std::pair<std::string, std::string>>& sessions) {
    conformance::report_case rc;
    rc.kind = conformance::case_kind::scenario;
    rc.id = c.id;
    rc.title = c.title;
    rc.classname = "smtpkit.relay.client";
    rc.rfc = c.rfc;
    rc.lvl = c.lvl;
    // One dialogue of every session the relay opened to the sink, one after another.
    conformance::session_report all;
    all.source = "sink sessions";
    std::size_t lines = 0;
    for (const auto& [id, text] : sessions) {
      conformance::session_report d = judged(id, text);
      std::string head = "# sink session " + id + "\n";
      for (auto f : d.findings) {
        if (f.line > 0) f.line += lines + 1;
        all.findings.push_back(std::move(f));
      }
      all.transcript += head + text;
      lines += 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    }
    for (std::size_t i = 0; i < all.findings.size(); ++i) {
      rc.findings.push_back(i);
      const std::string rule = all.findings[i].r().id;
      if (std::find(rc.checks.begin(), rc.checks.end(), rule) == rc.checks.end()) rc.checks.push_back(rule);
    }
    rc.played = sessions.empty() ? outcome::not_applicable : outcome::pass;
    rc.played_reason = sessions.empty() ? "the relay opened no session to the sink"
                                        : std::to_string(sessions.size()) + " session(s) judged";
    conformance::settle(rc, all);
    conformance::apply(o_.policy, rc, all);
    if (o_.on_result) o_.on_result(rc);
    add(c.group, std::move(rc), std::move(all));
  }

  // The smuggling pairs: variants this hop passes on raw that an inbound
  // hop takes as the end of the data; one case per inbound hop and variant.
  void pairs() {
    if (o_.inbound.empty()) return;
    std::vector<conformance::report_case> made;
    for (const auto& suite : rep_.suites) {
      if (suite.name != "End of data") continue;
      for (const auto& in : o_.inbound)
        for (const auto& c : suite.cases) {
          if (!c.eod) continue;
          std::string inbound_result;
          for (const auto& [variant, result] : in.eod)
            if (variant == c.eod->variant) inbound_result = result;
          conformance::report_case pc;
          pc.kind = conformance::case_kind::scenario;
          pc.id = "relay.pair." + c.id.substr(std::string("relay.eod.").size()) + "[" + in.name + "]";
          pc.title = c.eod->variant + " through this hop to " + in.name;
          pc.classname = "smtpkit.relay.pairs";
          pc.rfc = "RFC 5321 §4.1.1.4";
          pc.lvl = level::must;
          const bool raw = c.eod->result == "passed-raw" || c.eod->result == "passed-altered";
          if (inbound_result.empty()) {
            pc.played = outcome::not_applicable;
            pc.played_reason = in.name + " has no result for " + c.eod->variant;
          } else if (raw && inbound_result == "accepted-as-end-of-data") {
            pc.played = outcome::fail;
            pc.played_reason = "SMTP smuggling: this hop passes " + c.eod->variant + " on (" + c.eod->result +
                               ") and " + in.name + " ends the data at it";
          } else {
            pc.played = outcome::pass;
            pc.played_reason = "this hop: " + c.eod->result + "; " + in.name + ": " + inbound_result;
          }
          conformance::session_report none;
          conformance::settle(pc, none);
          made.push_back(std::move(pc));
        }
    }
    for (auto& pc : made) {
      if (o_.on_result) o_.on_result(pc);
      add("Smuggling pairs", std::move(pc), {});
    }
  }

  void add(const std::string& group, conformance::report_case c, conformance::session_report d) {
    auto suite = std::find_if(rep_.suites.begin(), rep_.suites.end(), [&](const auto& g) { return g.name == group; });
    if (suite == rep_.suites.end()) {
      rep_.suites.push_back({});
      suite = rep_.suites.end() - 1;
      suite->name = group;
    }
    if (!d.transcript.empty() || !d.findings.empty()) {
      rep_.dialogues.push_back(std::move(d));
      c.dialogue = rep_.dialogues.size() - 1;
    }
    suite->cases.push_back(std::move(c));
  }

  const relay_probe_options& o_;
  conformance::report& rep_;
  std::string sender_;
  std::string run_id_;
  std::string work_;
  std::string sink_addr_;
  bool submitted_ = false;  ///< a submission reached the relay: later failures to connect are errors of their check
  std::map<const submission*, std::vector<std::pair<std::string, std::string>>> sessions_of_;
};

}  // namespace

std::vector<relay_check_info> relay_checks() {
  std::vector<relay_check_info> out;
  for (const auto& c : defs()) out.push_back({c.id, c.group, c.title, c.lvl, c.rfc});
  return out;
}

conformance::report run_relay_probe(const relay_probe_options& o, std::string tool) {
  conformance::report rep;
  rep.kind = conformance::report_kind::scenarios;
  rep.tool = std::move(tool);
  rep.target.name = o.submit.describe();
  const auto started = steady::now();
  runner(o, rep).run();
  rep.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
  return rep;
}

bool read_inbound_report(const std::string& path, std::vector<std::pair<std::string, std::string>>& out,
                         std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = path + ": cannot read";
    return false;
  }
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = path + ": not a JSON report (smtpkit probe server --format json)";
    return false;
  }
  // Every case's "outcome" of kind end-of-data, wherever the report keeps it.
  std::vector<const json*> stack{&j};
  while (!stack.empty()) {
    const json* x = stack.back();
    stack.pop_back();
    if (x->is_object()) {
      if (auto it = x->find("outcome");
          it != x->end() && it->is_object() && it->value("kind", std::string()) == "end-of-data")
        out.emplace_back(it->value("variant", std::string()), it->value("result", std::string()));
      for (const auto& [k, v] : x->items()) stack.push_back(&v);
    } else if (x->is_array()) {
      for (const auto& v : *x) stack.push_back(&v);
    }
  }
  if (out.empty()) {
    why =
        path + ": no end-of-data results in it (run `smtpkit probe server --only security.smuggling` on the next hop)";
    return false;
  }
  return true;
}

}  // namespace smtpkit::mock
