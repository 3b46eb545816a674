// message_text.cpp — Received lines and delivery status notifications
// (message_text.hpp).
#include "message_text.hpp"

#include <ctime>

#include "smtpkit/ascii.hpp"
#include "smtpkit/message.hpp"

namespace smtpkit::mock::relay {
namespace {

std::string str(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RFC 3461 §4: xtext "+XX" escapes.
std::string xtext_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && i + 2 < s.size()) {
      const int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// RFC 6533 §3 utf-8-addr-xtext: an address as ASCII, each non-ASCII
// character as \x{HEX} of its code point (undecodable octets as theirs).
std::string ascii_address(std::string_view a) {
  std::string out;
  char buf[16];
  for (std::size_t i = 0; i < a.size();) {
    const auto c = static_cast<unsigned char>(a[i]);
    if (c < 0x80) {
      if (c == '\\' || c == '+' || c == '=' || c < 0x21) {
        std::snprintf(buf, sizeof buf, "\\x{%X}", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    std::uint32_t cp = n == 4 ? c & 0x07u : n == 3 ? c & 0x0Fu : n == 2 ? c & 0x1Fu : c;
    bool ok = n > 1 && i + n <= a.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      const auto d = static_cast<unsigned char>(a[i + k]);
      ok = (d & 0xC0u) == 0x80u;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (!ok) {
      cp = c;
      n = 1;
    }
    std::snprintf(buf, sizeof buf, "\\x{%X}", cp);
    out += buf;
    i += n;
  }
  return out;
}

// Text from a peer (a reply, a decoded ENVID or ORCPT) in a 7-bit field:
// controls and 8-bit octets become '?'.
std::string ascii(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  return out;
}

// Returned text in the notification: CRLF line ends only and no NUL (the
// stored message may hold bare CR, LF or NUL, which the server recorded as
// findings), so the notification is mail data any hop can carry.
std::string crlf_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c == '\0' ? '?' : c;
    }
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Field text from the client: no line ends, no control octets.
std::string clean(std::string_view s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

}  // namespace

namespace {

// Where the header section ends (the empty line's start) and, in `body`,
// where the body starts.
std::size_t header_end(std::string_view msg, std::size_t* body) {
  std::size_t at = 0;
  while (at < msg.size()) {
    const std::size_t nl = msg.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? msg.size() : nl;
    std::string_view line = msg.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && nl != std::string_view::npos) {
      if (body != nullptr) *body = nl + 1;
      return at;
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  if (body != nullptr) *body = msg.size();
  return msg.size();
}

}  // namespace

std::string_view header_of(std::string_view msg) { return msg.substr(0, header_end(msg, nullptr)); }

std::size_t body_offset(std::string_view msg) {
  std::size_t body = 0;
  header_end(msg, &body);
  return body;
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string received_line(const nlohmann::ordered_json& env, const std::string& by, const std::string& id,
                          const std::string& for_rcpt, std::chrono::system_clock::time_point when) {
  std::string helo = clean(str(env, "helo"));
  if (helo.empty()) helo = "unknown";
  std::string peer = clean(str(env, "peer"));
  // "127.0.0.1:54321" or "[::1]:54321" -> the address, as an address literal.
  if (auto colon = peer.rfind(':'); colon != std::string::npos) peer.erase(colon);
  if (!peer.empty() && peer.front() == '[') peer = peer.substr(1, peer.size() - 2);
  std::string literal =
      peer.empty() ? std::string() : (peer.find(':') != std::string::npos ? "[IPv6:" + peer + "]" : "[" + peer + "]");
  const bool esmtp = env.value("esmtp", false);
  const bool tls = env.value("tls", false);
  const bool auth = env.contains("auth") && env["auth"].is_string();
  bool utf8 = false;
  if (auto p = env.find("mail_params"); p != env.end() && p->is_object())
    for (const auto& [k, v] : p->items()) utf8 = utf8 || iequals(k, "SMTPUTF8");
  // RFC 3848 (and RFC 6531 §4.3 for UTF8SMTP): S for TLS, A for AUTH.
  std::string with = utf8 ? "UTF8SMTP" : esmtp ? "ESMTP" : "SMTP";
  if (esmtp || utf8) {
    if (tls) with += "S";
    if (auth) with += "A";
  }
  std::string out = "Received: from " + helo + (literal.empty() ? "" : " (" + literal + ")") + "\r\n\tby " + by +
                    " (smtpkit) with " + with + " id " + id;
  if (!for_rcpt.empty()) out += "\r\n\tfor <" + clean(for_rcpt) + ">";
  out += "; " + rfc5322_date(when) + "\r\n";
  return out;
}

std::size_t count_received(std::string_view message) {
  std::size_t n = 0;
  std::string_view head = header_of(message);
  std::size_t at = 0;
  while (at < head.size()) {
    std::size_t nl = head.find('\n', at);
    std::size_t end = nl == std::string_view::npos ? head.size() : nl;
    std::string_view line = head.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    header_line h = classify_header_line(line);
    if (h.kind == header_line_kind::field && iequals(h.name, "Received")) ++n;
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return n;
}

bool has_8bit(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::string one_line(std::string_view reply) {
  std::string out;
  for (char c : reply) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

bool notify_has(std::string_view notify, std::string_view what) {
  while (!notify.empty()) {
    auto comma = notify.find(',');
    if (iequals(notify.substr(0, comma), what)) return true;
    if (comma == std::string_view::npos) break;
    notify.remove_prefix(comma + 1);
  }
  return false;
}

std::string status_of(std::uint16_t code, std::string_view reply) {
  // "550 5.1.1 text": the second word, when it reads as class.subject.detail.
  auto sp = reply.find(' ');
  if (sp != std::string_view::npos) {
    std::string_view word = reply.substr(sp + 1);
    word = word.substr(0, word.find(' '));
    int dots = 0;
    bool ok = word.size() >= 5 && (word[0] == '2' || word[0] == '4' || word[0] == '5') && word[1] == '.';
    for (char c : word) {
      if (c == '.') ++dots;
      else if (c < '0' || c > '9') ok = false;
    }
    if (ok && dots == 2 && word.back() != '.') return std::string(word);
  }
  return std::string(1, code >= 500 ? '5' : code >= 400 ? '4' : '2') + ".0.0";
}

std::string build_dsn(const dsn_input& in, std::chrono::system_clock::time_point now) {
  const std::string boundary = "smtpkit-dsn-" + in.id;
  const bool relayed = in.action == dsn_action::relayed;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + in.reporting_mta + ">\r\n";
  m += "To: <" + clean(in.to) + ">\r\n";
  m += std::string("Subject: ") +
       (relayed ? "Delivery Status Notification (relayed)" : "Undelivered Mail Returned to Sender") + "\r\n";
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "Message-ID: <dsn." + in.id + "@" + in.reporting_mta + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n\r\n";
  m += "This is a MIME-formatted delivery status notification (RFC 3464).\r\n\r\n";
  // The human part (RFC 6522 §3).
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "This is the mail system at " + in.reporting_mta + ".\r\n\r\n";
  m += relayed ? "Your message was relayed to a system that does not send delivery notifications:\r\n"
               : "Your message could not be delivered to these recipients:\r\n";
  // The notification stays 7-bit (a hop on the way back may offer
  // nothing else): UTF-8 addresses are written as RFC 6533 utf-8-addr-xtext.
  for (const auto& r : in.recipients) m += "\r\n<" + ascii_address(r.address) + ">: " + ascii(r.reply) + "\r\n";
  m += "\r\n";
  // The machine part (RFC 3464 §2.2, §2.3).
  m += "--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.reporting_mta + "\r\n";
  if (!in.envid.empty()) m += "Original-Envelope-Id: " + ascii(xtext_decode(in.envid)) + "\r\n";
  if (!in.arrival.empty()) m += "Arrival-Date: " + in.arrival + "\r\n";
  for (const auto& r : in.recipients) {
    m += "\r\n";
    if (!r.orcpt.empty()) m += "Original-Recipient: " + ascii(xtext_decode(r.orcpt)) + "\r\n";
    m += (is_ascii(r.address) ? "Final-Recipient: rfc822; " : "Final-Recipient: utf-8; ") + ascii_address(r.address) +
         "\r\n";
    m += std::string("Action: ") + (relayed ? "relayed" : "failed") + "\r\n";
    m += "Status: " + (relayed ? std::string("2.0.0") : status_of(r.code, r.reply)) + "\r\n";
    if (!r.remote_mta.empty()) m += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    if (!r.reply.empty() && !r.remote_mta.empty()) m += "Diagnostic-Code: smtp; " + ascii(r.reply) + "\r\n";
    m += "Last-Attempt-Date: " + rfc5322_date(now) + "\r\n";
  }
  m += "\r\n";
  // The message or its header (RFC 3462/6522 text/rfc822-headers).
  std::string_view original = in.original;
  if (!is_ascii(header_of(original))) {
    // An 8-bit header would make the notification 8-bit (RFC 6533's
    // message/global-headers): left out, and said.
    m += "--" + boundary + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    m += "The returned message's header is not 7-bit and is left out.\r\n";
  } else if (in.full && is_ascii(original)) {
    m += "--" + boundary + "\r\nContent-Type: message/rfc822\r\n\r\n";
    m += crlf_lines(original);
    if (!original.empty() && original.back() != '\n' && original.back() != '\r') m += "\r\n";
  } else {
    m += "--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n";
    m += crlf_lines(header_of(original));
  }
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace smtpkit::mock::relay
