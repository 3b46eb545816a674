// sender.cpp — one message to one server (smtpkit/mock/client/sender.hpp).
// RFC 5321 §3.3 (the transaction), §4.1.1.4 and §4.5.2 (DATA and
// transparency), §4.2 (replies: read by their first digit), RFC 3207
// (STARTTLS), RFC 4954 (AUTH PLAIN), RFC 3030 (BDAT).
#include "smtpkit/mock/client/sender.hpp"

#include "smtpkit/mock/client/connection.hpp"
#include "smtpkit/mock/common/base64.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {
namespace {

using detail::clock_type;
using detail::io_status;

constexpr std::size_t max_reply_line = 64u * 1024;
constexpr std::size_t max_reply = 1u << 20;
constexpr std::size_t max_transcript = 8u << 20;

class session {
 public:
  session(outgoing_message& m, const sender_options& o) : m_(m), o_(o) {}

  send_result run() {
    deadline_ = clock_type::now() + o_.session_timeout;
    w_.comment("smtpkit sender: to " + o_.target.describe());
    play();
    if (conn_ && !closed_) {
      conn_->shutdown_write();
      w_.close(side::client);
    }
    w_.flush();
    r_.transcript = w_.take();
    return std::move(r_);
  }

 private:
  clock_type::time_point step() const { return std::min(clock_type::now() + o_.step_timeout, deadline_); }

  void record(side who, std::string_view bytes) {
    if (w_.str().size() > max_transcript) return;
    w_.sent(who, bytes);
  }

  bool fail(std::string why) {
    if (r_.error.empty()) r_.error = std::move(why);
    return false;
  }

  bool write(std::string_view bytes) {
    if (conn_->write_all(bytes, step()) != io_status::ok) return fail("the connection broke while sending");
    record(side::client, bytes);
    return true;
  }

  // One whole reply (RFC 5321 §4.2.1: lines "NNN-" continue it).
  bool reply(sent_reply& out, std::optional<clock_type::time_point> until = std::nullopt) {
    out = {};
    std::string text;
    for (;;) {
      const std::size_t nl = in_.find('\n');
      if (nl == std::string::npos) {
        if (in_.size() > max_reply_line) return fail("a reply line longer than 64 KiB");
        if (closed_) return fail("the server closed the connection");
        std::string chunk;
        // Waits in slices of 200 ms, so that a caller that gives up (the
        // server stopping) is heard while a peer is silent.
        const auto limit = until ? *until : step();
        const auto slice = std::min(limit, clock_type::now() + std::chrono::milliseconds(200));
        io_status st = conn_->read_some(chunk, 16384, slice);
        if (st == io_status::timeout) {
          if (o_.cancelled && o_.cancelled()) return fail("given up (the sender was stopped)");
          if (clock_type::now() < limit) continue;
          if (until) return false;
          return fail("no reply within " + std::to_string(o_.step_timeout.count()) + " ms");
        }
        if (st != io_status::ok) {
          closed_ = true;
          w_.close(side::server);
          continue;
        }
        record(side::server, chunk);
        in_ += chunk;
        continue;
      }
      std::string line = in_.substr(0, nl > 0 && in_[nl - 1] == '\r' ? nl - 1 : nl);
      in_.erase(0, nl + 1);
      if (!text.empty()) text += "\n";
      text += line;
      if (text.size() > max_reply) return fail("a reply longer than 1 MiB");
      auto p = parse_reply_line(line);
      if (p.value.separator == '-') continue;
      out.code = p.value.code;
      out.text = std::move(text);
      // A line that is no reply at all ends the session (§4.2: a client
      // must not guess).
      if (out.code == 0) return fail("not a reply: " + out.text);
      return true;
    }
  }

  bool command(const std::string& line, sent_reply& out) { return write(line + "\r\n") && reply(out); }

  static bool positive(const sent_reply& r) { return r.code >= 200 && r.code < 300; }

  bool hello() {
    sent_reply rep;
    if (!command("EHLO " + o_.helo, rep)) return false;
    if (positive(rep)) {
      r_.esmtp = true;
      r_.ehlo.clear();
      std::size_t at = 0;
      while (at <= rep.text.size()) {
        std::size_t e = rep.text.find('\n', at);
        if (e == std::string::npos) e = rep.text.size();
        if (!r_.ehlo.empty()) r_.ehlo += "\r\n";
        r_.ehlo += rep.text.substr(at, e - at);
        at = e + 1;
      }
      return true;
    }
    // RFC 5321 §3.2: a server that does not take EHLO gets HELO.
    if (rep.code < 500) return fail("EHLO refused: " + rep.text);
    if (!command("HELO " + o_.helo, rep)) return false;
    if (!positive(rep)) return fail("HELO refused: " + rep.text);
    r_.esmtp = false;
    r_.ehlo = rep.text;
    return true;
  }

  void play() {
    std::string err;
    if (!o_.target.command.empty()) conn_ = detail::client_conn::spawn(o_.target.command, err);
    else conn_ = detail::client_conn::dial(o_.target.host, o_.target.port, step(), err);
    if (!conn_) {
      fail(err);
      return;
    }
    r_.connected = true;
    std::shared_ptr<SSL_CTX> ctx;
    auto tls = [&]() -> bool {
      ctx = detail::make_client_tls(o_.target.insecure, err);
      if (!ctx) return fail(err);
      in_.clear();
      w_.tls();
      const std::string name = o_.target.tls_name.empty() ? o_.target.host : o_.target.tls_name;
      if (conn_->start_tls(ctx.get(), name, step(), err) != io_status::ok) return fail("TLS: " + err);
      r_.tls = conn_->tls_info();
      return true;
    };
    if (o_.target.implicit_tls && !tls()) return;
    sent_reply rep;
    if (!reply(rep)) return;
    r_.greeting = rep.text;
    if (rep.code != 220) {
      fail("greeting " + rep.text);
      quit();
      return;
    }
    if (!hello()) return quit();
    if (o_.starttls) {
      if (!r_.esmtp || !ehlo_has(extension::starttls)) {
        fail("the server does not offer STARTTLS");
        return quit();
      }
      if (!command("STARTTLS", rep)) return;
      if (rep.code != 220) {
        fail("STARTTLS refused: " + rep.text);
        return quit();
      }
      if (!tls()) return;
      // RFC 3207 §4.2: everything learnt before TLS is forgotten.
      if (!hello()) return quit();
    }
    if (!o_.user.empty()) {
      const std::string token = base64_encode(std::string(1, '\0') + o_.user + std::string(1, '\0') + o_.password);
      if (!command("AUTH PLAIN " + token, rep)) return;
      if (rep.code != 235) {
        fail("AUTH refused: " + rep.text);
        return quit();
      }
    }
    ehlo_info info;
    if (r_.esmtp) info = parse_ehlo_reply(r_.ehlo).value;
    if (o_.adapt) {
      if (auto why = o_.adapt(info, m_)) {
        r_.refused = *why;
        return quit();
      }
    }
    transaction(info);
  }

  bool ehlo_has(extension e) const { return parse_ehlo_reply(r_.ehlo).value.has(e); }

  void transaction(const ehlo_info& info) {
    std::string mail = "MAIL FROM:<" + m_.reverse_path + ">";
    for (const auto& p : m_.params) mail += " " + p;
    if (!command(mail, r_.mail)) return;
    if (!positive(r_.mail)) return quit();
    bool any = false;
    for (const auto& rc : m_.recipients) {
      std::string line = "RCPT TO:<" + rc.address + ">";
      for (const auto& p : rc.params) line += " " + p;
      sent_reply rep;
      if (!command(line, rep)) return;
      any = any || positive(rep);
      r_.rcpt.push_back(std::move(rep));
    }
    if (!any) return quit();
    if (m_.bdat) {
      if (!info.has(extension::chunking)) {
        fail("BDAT without CHUNKING offered");
        return quit();
      }
      if (!write("BDAT " + std::to_string(m_.content.size()) + " LAST\r\n") || !write(m_.content)) return;
      if (!reply(r_.data)) return;
      return quit();
    }
    sent_reply rep;
    if (!command("DATA", rep)) return;
    if (rep.code != 354) {
      r_.data = rep;
      return quit();
    }
    if (m_.raw) {
      if (!write(m_.content) || !write(".\r\n")) return;
    } else if (!write(dot_stuff(m_.content))) {
      return;
    }
    if (!reply(r_.data)) return;
    if (m_.raw) {
      // A server that took something inside the data for its end answers
      // the lines after it as commands: those replies come unasked.
      const auto until = clock_type::now() + std::chrono::milliseconds(500);
      sent_reply extra;
      while (r_.unasked.size() < 64 && reply(extra, until)) r_.unasked.push_back(std::move(extra));
      if (!r_.error.empty()) return;
    }
    quit();
  }

  void quit() {
    if (closed_ || !conn_) return;
    sent_reply rep;
    std::string keep = r_.error;
    if (write("QUIT\r\n")) reply(rep);
    r_.error = keep;  // what the server does after QUIT changes nothing
  }

  outgoing_message& m_;
  const sender_options& o_;
  send_result r_;
  std::unique_ptr<detail::client_conn> conn_;
  clock_type::time_point deadline_{};
  std::string in_;
  bool closed_ = false;
  transcript_writer w_;
};

}  // namespace

sent_reply send_result::outcome(std::size_t i) const {
  if (mail.code == 0 || mail.code >= 300) return mail;
  if (i >= rcpt.size() || rcpt[i].code == 0) return {};
  if (rcpt[i].code >= 300) return rcpt[i];
  return data;
}

send_result send_message(outgoing_message m, const sender_options& o) { return session(m, o).run(); }

std::string dot_stuff(std::string_view content) {
  std::string out;
  out.reserve(content.size() + content.size() / 64 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (line_start && c == '.') out += '.';
    line_start = false;
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < content.size() && content[i + 1] == '\n') ++i;
      line_start = true;
    } else if (c == '\n') {
      out += "\r\n";
      line_start = true;
    } else {
      out += c;
    }
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace smtpkit::mock
