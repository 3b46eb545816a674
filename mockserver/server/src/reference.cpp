// reference.cpp — the reference ESMTP server behaviour.
#include "reference.hpp"

#include <algorithm>

#include "smtpkit/mock/common/base64.hpp"
#include "smtpkit/mock/common/event_log.hpp"
#include "reply_text.hpp"
#include "sasl.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/utf8.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::mock {
namespace {

using json = nlohmann::ordered_json;
using smtpkit::iequals;

std::string text_of(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  return escape(s);
}

// Why a command was refused, as the reply text: rule, reason, section.
std::string why(const diagnostic& d) {
  return "Syntax error: " + std::string(d.rule()) + ": " + std::string(d.why()) + " (" + std::string(d.rfc()) + ")";
}

struct data_sink {
  message_writer* w;
  std::uint64_t max;
  bool& too_big;
  void body(std::string_view s) {
    if (too_big || w == nullptr) return;
    if (w->size() + s.size() > max) {
      too_big = true;
      return;
    }
    w->write(s);
  }
  void anomaly(data_anomaly, std::uint64_t) {}
};

}  // namespace

reference_server::reference_server(session_env& env)
    : env_(env), cfg_(env.cfg), framer_(env.cfg.max_line), decoder_(env.cfg.accept_eod) {}

reference_server::~reference_server() = default;

void reference_server::event_command(std::string_view line) {
  if (!env_.events.enabled() || quiet_) return;
  env_.events.emit({{"event", "command"}, {"session", env_.id}, {"line", text_of(line)}});
}

void reference_server::event_reply(int code, std::string_view text) {
  if (!env_.events.enabled() || quiet_ || replies_muted_) return;
  env_.events.emit({{"event", "reply"}, {"session", env_.id}, {"code", code}, {"text", text_of(text)}});
}

std::string reference_server::reply_line(int code, std::string_view esc, std::string_view text) const {
  std::string line = std::to_string(code);
  line += ' ';
  const int cls = code / 100;
  if (esc_ && !esc.empty() && cls != 3) {
    line += esc;
    line += ' ';
  }
  line += reply_text(text);
  return line;
}

void reference_server::reply(actions& out, int code, std::string_view esc, std::string_view text) {
  std::string line = reply_line(code, esc, text);
  event_reply(code, std::string_view(line).substr(4));
  line += "\r\n";
  out.write(line);
  if (code >= 500) note_error(out);
}

void reference_server::note_error(actions& out) {
  if (++errors_ <= cfg_.max_errors || mode_ == mode::closed) return;
  goodbye(out, "4.7.0", "Too many errors, closing");
}

// RFC 5321 §3.8: the server closes only after 221 or 421.
void reference_server::goodbye(actions& out, std::string_view esc, std::string_view why) {
  std::string line = "421 " + std::string(esc_ ? std::string(esc) + " " : "") + cfg_.hostname + " " + std::string(why);
  event_reply(421, std::string_view(line).substr(4));
  out.write(line + "\r\n");
  out.close();
  mode_ = mode::closed;
}

void reference_server::greet(actions& out) {
  if (hook_ && hook_->greeting(out)) return;
  std::string text = cfg_.hostname + " ESMTP smtpkit";
  event_reply(220, text);
  out.write("220 " + text + "\r\n");
}

void reference_server::receive(std::string_view in, actions& out) {
  if (mode_ == mode::closed || quit_) return;
  if (buf_.empty()) {
    // Common case: nothing held back; take the octets where they are.
    std::size_t used = on_input(in, out);
    if (used < in.size() && mode_ != mode::closed && mode_ != mode::tls_wait) buf_.assign(in.substr(used));
    if (mode_ == mode::tls_wait && used < in.size()) {
      if (env_.events.enabled())
        env_.events.emit({{"event", "discarded"},
                          {"session", env_.id},
                          {"octets", in.size() - used},
                          {"why", "sent after STARTTLS before TLS (RFC 3207 §4.2)"}});
    }
    return;
  }
  buf_.append(in);
  std::size_t used = on_input(buf_, out);
  if (mode_ == mode::tls_wait && used < buf_.size() && env_.events.enabled())
    env_.events.emit({{"event", "discarded"},
                      {"session", env_.id},
                      {"octets", buf_.size() - used},
                      {"why", "sent after STARTTLS before TLS (RFC 3207 §4.2)"}});
  if (mode_ == mode::tls_wait || mode_ == mode::closed) buf_.clear();
  else buf_.erase(0, used);
  if (buf_.capacity() > 4096 && buf_.size() < 1024) buf_.shrink_to_fit();
}

// Consumes as much of `in` as can be handled now; returns how much.
std::size_t reference_server::on_input(std::string_view in, actions& out) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::string_view rest = in.substr(pos);
    switch (mode_) {
      case mode::closed:
      case mode::tls_wait: return pos;  // the rest is discarded by the caller
      case mode::data: {
        data_sink sink{writer_.get(), cfg_.max_size, too_big_};
        auto r = decoder_.feed(rest, sink);
        pos += r.consumed;
        content_octets_ += r.consumed;
        if (r.done) finish_message(out);
        break;
      }
      case mode::bdat: {
        std::size_t n = rest.size() < bdat_left_ ? rest.size() : static_cast<std::size_t>(bdat_left_);
        if (bdat_store_ && writer_) {
          if (writer_->size() + n > cfg_.max_size) too_big_ = true;
          if (!too_big_) writer_->write(rest.substr(0, n));
        }
        bdat_left_ -= n;
        pos += n;
        content_octets_ += n;
        if (bdat_left_ == 0) {
          mode_ = mode::command;
          ++records_;
          if (!bdat_store_) break;  // refused chunk: its reply was sent with the command
          if (bdat_last_) {
            finish_message(out);
          } else if (too_big_) {
            reply(out, 552, "5.3.4", "Message size exceeds fixed maximum message size");
          } else {
            reply(out, 250, "2.0.0", std::to_string(n) + " octets received");
          }
        }
        break;
      }
      case mode::command:
      case mode::auth: {
        line_result r = framer_.next(rest);
        pos += r.consumed;  // need_more consumes too, inside an over-long line
        if (r.status == line_status::need_more) return pos;
        if (r.status == line_status::line) {
          line_diag_ = r.diag;
          on_line(r.line, r.ending, out);
        } else if (r.status == line_status::overflow_end) {
          ++records_;
          fragment_.clear();
          event_command("<line of " + std::to_string(r.length) + " octets>");
          reply(out, 500, "5.5.2", "Line too long (RFC 5321 §4.5.3.1.4)");
          if (mode_ == mode::auth) {
            sasl_.reset();
            mode_ = mode::command;
          }
        }
        break;
      }
    }
  }
  return pos;
}

void reference_server::on_line(std::string_view line, line_ending ending, actions& out) {
  ++records_;
  const bool bare = ending == line_ending::lf || ending == line_ending::cr;
  if (bare && !(cfg_.lenient_bare_lf && ending == line_ending::lf)) {
    // RFC 5321 §2.3.8: only CRLF ends a line; keep the piece until it does.
    if (fragment_.size() + line.size() + 1 > cfg_.max_line) {
      fragment_.clear();
      reply(out, 500, "5.5.2", "Line too long (RFC 5321 §4.5.3.1.4)");
      return;
    }
    fragment_.append(line);
    fragment_ += ending == line_ending::lf ? '\n' : '\r';
    return;
  }
  if (!fragment_.empty()) {
    std::string whole = fragment_ + std::string(line);
    fragment_.clear();
    event_command(whole);
    reply(out, 501, "5.5.2", "Syntax error: bare CR or LF in a command line (RFC 5321 §2.3.8)");
    return;
  }
  if (mode_ == mode::auth) {
    on_auth_line(line, out);
    return;
  }
  on_command(line, out);
}

void reference_server::on_command(std::string_view line, actions& out) {
  event_command(line);
  parse_options po;
  po.smtputf8 = cfg_.ext.smtputf8 && esmtp_;
  if (cfg_.lenient_bare_lf) po.relax = po.relax | lenient::bare_lf;
  command_result r = parse_command(line, po);
  // A NUL or control octet the framer saw is an invalid character code
  // whatever the verb's grammar lets through, or what NOOP and HELP take
  // as a free string: §4.1.2 wants the command refused.
  const bool free_text = r.cmd.kind == verb::noop || r.cmd.kind == verb::help;
  if ((r.ok() || free_text) && (line_diag_.code == errc::nul_byte || line_diag_.code == errc::control_char))
    r.diag = line_diag_;
  if (hook_ && hook_->command(line, r, out)) return;
  const command& c = r.cmd;
  switch (c.kind) {
    case verb::ehlo:
    case verb::helo:
      if (!r.ok()) return syntax_error(r, out);
      return ehlo(c, c.kind == verb::ehlo, out);
    case verb::mail: return mail(r, out);
    case verb::rcpt: return rcpt(r, out);
    case verb::data:
      if (!r.ok()) return syntax_error(r, out);
      return data(c, out);
    case verb::bdat: return bdat(r, out);
    case verb::rset:
      if (!r.ok()) return syntax_error(r, out);
      reset_transaction();
      return reply(out, 250, "2.0.0", "Ok");
    case verb::noop:
      // §4.1.1.9: a parameter string is ignored, but not invalid character
      // codes in it (§4.1.2: 501).
      if (invalid_characters(r)) return syntax_error(r, out);
      return reply(out, 250, "2.0.0", "Ok");
    case verb::quit:
      if (!r.ok()) return syntax_error(r, out);
      reply(out, 221, "2.0.0", cfg_.hostname + " Bye");
      out.close();
      quit_ = true;
      mode_ = mode::closed;
      reset_transaction();
      return;
    case verb::vrfy:
      if (!r.ok()) return syntax_error(r, out);
      return reply(out, 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    case verb::expn:
      if (!r.ok()) return syntax_error(r, out);
      return reply(out, 502, "5.5.1", "EXPN not available");
    case verb::help:
      // §4.1.1.8: an argument MAY be supported; invalid character codes
      // in it are refused all the same (§4.1.2: 501).
      if (invalid_characters(r)) return syntax_error(r, out);
      return reply(out, 214, "2.0.0",
                   "smtpkit mock server; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY STARTTLS AUTH");
    case verb::starttls: return starttls(c, out);
    case verb::auth: return auth(r, out);
    case verb::unknown:
    case verb::count_:
      if (r.diag.code == errc::empty_command || r.diag.code == errc::extra_space) return syntax_error(r, out);
      if (r.diag.code != errc::unknown_verb) return syntax_error(r, out);
      return reply(out, 500, "5.5.1", "Command unrecognized");
  }
}

bool reference_server::invalid_characters(const command_result& r) {
  const errc e = r.diag.code;
  return e == errc::eight_bit || e == errc::invalid_utf8 || e == errc::nul_byte || e == errc::control_char;
}

void reference_server::syntax_error(const command_result& r, actions& out) {
  // 501 for arguments; 500 when the line itself is unusable.
  int code = (r.diag.code == errc::nul_byte || r.diag.code == errc::control_char) ? 500 : 501;
  reply(out, code, "5.5.2", why(r.diag));
}

void reference_server::ehlo(const command& c, bool extended, actions& out) {
  // RFC 5321 §4.1.4: an accepted EHLO resets the state as RSET would.
  reset_transaction();
  hello_ = true;
  esmtp_ = extended;
  helo_ = std::string(c.client.text);
  if (!extended) {
    esc_ = false;
    reply(out, 250, "", cfg_.hostname);
    return;
  }
  esc_ = cfg_.ext.enhancedstatuscodes;
  std::vector<std::string> lines{cfg_.hostname + " Hello " + text_of(c.client.text)};
  const auto& e = cfg_.ext;
  if (e.pipelining) lines.emplace_back("PIPELINING");
  if (e.size) lines.push_back("SIZE " + std::to_string(cfg_.max_size));
  if (e.eightbitmime || e.smtputf8) lines.emplace_back("8BITMIME");  // RFC 6531 §3.1: SMTPUTF8 needs 8BITMIME
  if (e.smtputf8) lines.emplace_back("SMTPUTF8");
  if (e.enhancedstatuscodes) lines.emplace_back("ENHANCEDSTATUSCODES");
  if (e.dsn) lines.emplace_back("DSN");
  if (e.chunking) lines.emplace_back("CHUNKING");
  if (e.chunking && e.binarymime) lines.emplace_back("BINARYMIME");
  if (e.starttls && env_.tls_available && !env_.tls) lines.emplace_back("STARTTLS");
  // HELP is answered (214) and not among the commands RFC 5321 §4.5.1
  // requires, so §4.1.1.1 wants it listed: "The EHLO response MUST contain
  // keywords [...] for all commands not listed as "required"".
  lines.emplace_back("HELP");
  if (e.auth && !cfg_.auth_mechanisms.empty()) {
    std::string a = "AUTH";
    for (const auto& m : cfg_.auth_mechanisms) a += " " + m;
    lines.push_back(a);
  }
  std::string block;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    block += "250";
    block += i + 1 < lines.size() ? '-' : ' ';
    block += reply_text(lines[i]);
    block += "\r\n";
  }
  if (env_.events.enabled() && !quiet_ && !replies_muted_) {
    json l = json::array();
    for (auto& s : lines) l.push_back(s);
    env_.events.emit({{"event", "reply"}, {"session", env_.id}, {"code", 250}, {"text", lines.front()}, {"lines", l}});
  }
  out.write(block);
}

void reference_server::reset_transaction() {
  if (writer_) {
    writer_->abort();
    writer_.reset();
  }
  txn_ = false;
  mail_from_.clear();
  mail_params_ = json::object();
  rcpts_.clear();
  rcpts_.shrink_to_fit();
  smtputf8_ = false;
  body_ = body_type::none;
  used_data_ = used_bdat_ = too_big_ = false;
}

namespace {

json params_json(const param_list& params) {
  json j = json::object();
  for (const auto& p : params) j[text_of(p.keyword)] = p.has_value ? json(text_of(p.value)) : json(true);
  return j;
}

// A parameter the server did not advertise, or nullptr.
const char* unoffered(const mail_params& t, const extensions_config& e, bool esmtp) {
  if (!esmtp && t.present != 0) return "parameters need EHLO";
  if (t.has(param_id::size) && !e.size) return "SIZE";
  if (t.has(param_id::body) && t.body == body_type::binary_mime && !(e.chunking && e.binarymime))
    return "BODY=BINARYMIME";
  if (t.has(param_id::body) && !e.eightbitmime && !e.smtputf8 && t.body != body_type::binary_mime) return "BODY";
  if (t.has(param_id::smtputf8) && !e.smtputf8) return "SMTPUTF8";
  if ((t.has(param_id::ret) || t.has(param_id::envid) || t.has(param_id::notify) || t.has(param_id::orcpt)) && !e.dsn)
    return "DSN parameters";
  if (t.has(param_id::auth) && !e.auth) return "AUTH";
  if (t.has(param_id::mt_priority)) return "MT-PRIORITY";
  if (t.has(param_id::requiretls)) return "REQUIRETLS";
  return nullptr;
}

}  // namespace

// MAIL and RCPT alike: 555 for a parameter unknown or not offered (RFC
// 5321 §4.1.1.11), else the syntax error if the command has one. True when
// it answered.
bool reference_server::refused_params(const command_result& r, actions& out) {
  const command& c = r.cmd;
  if (r.diag.code == errc::param_unknown) {
    for (const auto& p : c.params)
      if (param_from_keyword(p.keyword) == param_id::count_) {
        reply(out, 555, "5.5.4", "Unsupported parameter " + text_of(p.keyword) + " (RFC 5321 §4.1.1.11)");
        return true;
      }
  }
  if (!r.ok()) {
    syntax_error(r, out);
    return true;
  }
  if (const char* what = unoffered(c.typed, cfg_.ext, esmtp_)) {
    reply(out, 555, "5.5.4", std::string(what) + " not supported here (RFC 5321 §4.1.1.11)");
    return true;
  }
  return false;
}

void reference_server::mail(const command_result& r, actions& out) {
  if (!hello_) return reply(out, 503, "5.5.1", "Send EHLO or HELO first (RFC 5321 §4.1.4)");
  if (txn_) return reply(out, 503, "5.5.1", "Nested MAIL command (RFC 5321 §4.1.4)");
  if (cfg_.auth_required && auth_user_.empty()) return reply(out, 530, "5.7.0", "Authentication required");
  const command& c = r.cmd;
  if (refused_params(r, out)) return;
  if (c.typed.has(param_id::size) && c.typed.size > cfg_.max_size)
    return reply(out, 552, "5.3.4", "Message size exceeds fixed maximum message size (RFC 1870 §6.1)");
  if (c.address.mbox.utf8 && !c.typed.has(param_id::smtputf8))
    return reply(out, 553, "5.6.7", "UTF-8 address needs the SMTPUTF8 parameter (RFC 6531 §3.4)");
  reset_transaction();
  txn_ = true;
  mail_from_ = c.address.null ? std::string() : text_of(c.address.mbox.text);
  mail_params_ = params_json(c.params);
  smtputf8_ = c.typed.has(param_id::smtputf8);
  body_ = c.typed.body;
  reply(out, 250, "2.1.0", "Ok");
}

void reference_server::rcpt(const command_result& r, actions& out) {
  if (!txn_) return reply(out, 503, "5.5.1", "Need MAIL before RCPT (RFC 5321 §4.1.4)");
  const command& c = r.cmd;
  if (refused_params(r, out)) return;
  if (c.address.mbox.utf8 && !smtputf8_)
    return reply(out, 553, "5.6.7", "UTF-8 address needs SMTPUTF8 on MAIL (RFC 6531 §3.4)");
  if (rcpts_.size() >= cfg_.max_recipients)
    return reply(out, 452, "4.5.3", "Too many recipients (RFC 5321 §4.5.3.1.10)");
  std::string addr = c.address.postmaster ? std::string("Postmaster") : text_of(c.address.mbox.text);
  rcpts_.emplace_back(std::move(addr), params_json(c.params));
  reply(out, 250, "2.1.5", "Ok");
}

void reference_server::data(const command&, actions& out) {
  if (!txn_) return reply(out, 503, "5.5.1", "Need MAIL command (RFC 5321 §4.1.4)");
  if (rcpts_.empty()) return reply(out, 554, "5.5.1", "No valid recipients");
  if (body_ == body_type::binary_mime)
    return reply(out, 503, "5.5.1", "BODY=BINARYMIME needs BDAT, not DATA (RFC 3030 §3)");
  if (used_bdat_) return reply(out, 503, "5.5.1", "DATA after BDAT in one transaction (RFC 3030 §2)");
  used_data_ = true;
  writer_ = env_.store.begin();
  too_big_ = false;
  decoder_.reset();
  content_octets_ = 0;
  mode_ = mode::data;
  reply(out, 354, "", "End data with <CR><LF>.<CR><LF>");
}

void reference_server::bdat(const command_result& r, actions& out) {
  const command& c = r.cmd;
  if (!r.ok()) return syntax_error(r, out);  // without a valid size there is no chunk to skip
  bdat_left_ = c.chunk_size;
  bdat_last_ = c.last;
  bdat_store_ = false;
  // Refusals still read and discard the chunk (RFC 3030 §2).
  auto refuse = [&](int code, std::string_view esc, std::string_view text) {
    reply(out, code, esc, text);
    if (bdat_left_ > 0) mode_ = mode::bdat;
  };
  content_octets_ = 0;
  if (!cfg_.ext.chunking) return refuse(502, "5.5.1", "BDAT not available (CHUNKING not offered)");
  if (!txn_) return refuse(503, "5.5.1", "Need MAIL command (RFC 5321 §4.1.4)");
  if (rcpts_.empty()) return refuse(554, "5.5.1", "No valid recipients");
  if (used_data_) return refuse(503, "5.5.1", "BDAT after DATA in one transaction (RFC 3030 §2)");
  used_bdat_ = true;
  bdat_store_ = true;
  if (!writer_) {
    writer_ = env_.store.begin();
    too_big_ = false;
  }
  if (bdat_left_ > 0) {
    mode_ = mode::bdat;
    return;
  }
  // BDAT 0 [LAST]
  if (bdat_last_) finish_message(out);
  else reply(out, 250, "2.0.0", "0 octets received");
}

json reference_server::envelope() const {
  json rc = json::array();
  for (const auto& [addr, params] : rcpts_) rc.push_back({{"address", addr}, {"params", params}});
  json e{{"session", env_.id},      {"peer", env_.peer},
         {"helo", text_of(helo_)},  {"esmtp", esmtp_},
         {"mail_from", mail_from_}, {"mail_params", mail_params_},
         {"rcpt_to", rc},           {"transport", used_bdat_ ? "BDAT" : "DATA"},
         {"tls", env_.tls}};
  if (env_.tls) e["tls_version"] = env_.tls_version;
  if (env_.tls) e["tls_cipher"] = env_.tls_cipher;
  e["auth"] = auth_user_.empty() ? json(nullptr) : json(text_of(auth_user_));
  return e;
}

input_progress reference_server::progress() const {
  input_progress p;
  p.records = records_;
  switch (mode_) {
    case mode::data:
    case mode::bdat:
      p.what = input_progress::kind::content;
      p.octets = std::min<std::uint64_t>(content_octets_, cfg_.max_size);
      // A refused chunk is not stored, but an endless one is still endless.
      p.over_limit = too_big_ || content_octets_ > cfg_.max_size;
      break;
    case mode::command:
    case mode::auth:
      if (!buf_.empty() || !fragment_.empty() || framer_.discarding()) p.what = input_progress::kind::line;
      break;
    case mode::tls_wait:
    case mode::closed: break;
  }
  return p;
}

void reference_server::finish_message(actions& out) {
  mode_ = mode::command;
  ++records_;
  if (hook_ && hook_->end_of_data(out)) {
    reset_transaction();
    return;
  }
  if (too_big_) {
    reset_transaction();
    return reply(out, 552, "5.3.4", "Message size exceeds fixed maximum message size (RFC 1870 §6.1)");
  }
  if (!writer_) writer_ = env_.store.begin();
  // Built only for someone who reads it (a Maildir's journal, the events).
  json env = env_.store.keeps_envelopes() || env_.events.enabled() ? envelope() : json::object();
  std::shared_ptr<commit_ticket> ticket;
  stored s = writer_->commit(env, ticket);
  writer_.reset();
  reset_transaction();
  if (s.pending) {
    // --durable: the message is in a group the server commits at the end
    // of this turn of its loop; the session sends the 250 only after that,
    // and 421 (closing) if the group could not be committed.
    std::string line = reply_line(250, "2.0.0", "Ok: queued as " + s.id);
    std::string fail = "421 " + std::string(esc_ ? "4.3.0 " : "") + cfg_.hostname +
                       " Local error in processing: message not stored, closing";
    ticket->failure_reply = fail;
    ticket->report = [this, env = std::move(env), line, fail, quiet = quiet_](const stored& r) mutable {
      if (!r.ok) {
        store_failed(r);
        mode_ = mode::closed;
        if (!quiet) event_reply(421, std::string_view(fail).substr(4));
        return;
      }
      message_stored(r, env);
      if (!quiet) event_reply(250, std::string_view(line).substr(4));
    };
    out.push({act::commit, {}, {}, 0, std::move(ticket)});
    out.write(line + "\r\n");
    return;
  }
  if (!s.ok) {
    store_failed(s);
    return reply(out, 451, "4.3.0", "Local error in processing: message not stored");
  }
  message_stored(s, env);
  reply(out, 250, "2.0.0", "Ok: queued as " + s.id);
}

void reference_server::store_failed(const stored& s) {
  env_.store.note_failure(s.error);
  if (env_.events.enabled()) env_.events.emit({{"event", "store-error"}, {"session", env_.id}, {"error", s.error}});
}

void reference_server::message_stored(const stored& s, json& env) {
  ++messages_;
  if (!env_.events.enabled()) return;
  env["size"] = s.size;
  env["sha256"] = s.sha256;
  json ev{
      {"event", "message"}, {"session", env_.id}, {"id", s.id}, {"path", s.path}, {"envelope_path", s.envelope_path}};
  if (!s.envelope_path.empty()) ev["envelope_offset"] = s.envelope_offset;
  ev["size"] = s.size;
  ev["sha256"] = s.sha256;
  ev["envelope"] = std::move(env);
  env_.events.emit(std::move(ev));
}

void reference_server::starttls(const command& c, actions& out) {
  if (!cfg_.ext.starttls || !env_.tls_available) return reply(out, 502, "5.5.1", "STARTTLS not available");
  if (!c.argument.empty()) return reply(out, 501, "5.5.4", "Syntax: STARTTLS takes no arguments (RFC 3207 §4)");
  if (env_.tls) return reply(out, 503, "5.5.1", "TLS already active (RFC 3207 §4.2)");
  reply(out, 220, "2.0.0", "Ready to start TLS");
  out.start_tls();
  mode_ = mode::tls_wait;
}

void reference_server::tls_started(actions&) {
  // RFC 3207 §4.2: forget everything learnt before the handshake.
  reset_transaction();
  hello_ = esmtp_ = esc_ = false;
  helo_.clear();
  auth_user_.clear();
  sasl_.reset();
  buf_.clear();
  fragment_.clear();
  framer_.reset();
  mode_ = mode::command;
}

void reference_server::auth(const command_result& r, actions& out) {
  const command& c = r.cmd;
  if (!cfg_.ext.auth || cfg_.auth_mechanisms.empty()) return reply(out, 502, "5.5.1", "AUTH not available");
  if (!esmtp_) return reply(out, 503, "5.5.1", "Send EHLO first");
  if (!auth_user_.empty()) return reply(out, 503, "5.5.1", "Already authenticated (RFC 4954 §4)");
  if (txn_) return reply(out, 503, "5.5.1", "AUTH not allowed during a mail transaction (RFC 4954 §4)");
  if (!r.ok() && r.diag.code != errc::auth_mechanism) return syntax_error(r, out);
  bool offered = false;
  for (const auto& m : cfg_.auth_mechanisms)
    if (iequals(m, c.mechanism)) offered = true;
  if (!offered || !r.ok()) return reply(out, 504, "5.5.4", "Unrecognized authentication type");
  sasl_ = make_sasl(c.mechanism, cfg_.users, cfg_.hostname);
  if (!sasl_) return reply(out, 504, "5.5.4", "Unrecognized authentication type");
  std::optional<std::string> initial;
  if (c.has_initial_response) {
    if (c.initial_response == "=") {
      initial = std::string();
    } else {
      initial = base64_decode(c.initial_response);
      if (!initial) {
        sasl_.reset();
        return reply(out, 501, "5.5.2", "Cannot decode the initial response (RFC 4954 §4)");
      }
    }
  }
  auth_step(sasl_->start(initial), out);
}

void reference_server::on_auth_line(std::string_view line, actions& out) {
  event_command(line);
  if (line == "*") {
    sasl_.reset();
    mode_ = mode::command;
    return reply(out, 501, "5.7.0", "Authentication cancelled (RFC 4954 §4)");
  }
  auto decoded = line.empty() ? std::optional<std::string>(std::string()) : base64_decode(line);
  if (!decoded) {
    sasl_.reset();
    mode_ = mode::command;
    return reply(out, 501, "5.5.2", "Cannot decode the response (RFC 4954 §4)");
  }
  auth_step(sasl_->next(*decoded), out);
}

void reference_server::auth_step(const sasl_step& s, actions& out) {
  switch (s.what) {
    case sasl_step::kind::challenge: {
      mode_ = mode::auth;
      std::string b64 = base64_encode(s.challenge);
      event_reply(334, b64);
      out.write("334 " + b64 + "\r\n");  // RFC 4954 §4: "334" SP [base64]
      return;
    }
    case sasl_step::kind::success:
      mode_ = mode::command;
      auth_user_ = s.user.empty() ? std::string("anonymous") : s.user;
      sasl_.reset();
      if (env_.events.enabled())
        env_.events.emit({{"event", "auth"}, {"session", env_.id}, {"user", text_of(auth_user_)}});
      return reply(out, 235, "2.7.0", "Authentication successful");
    case sasl_step::kind::failure:
      mode_ = mode::command;
      sasl_.reset();
      return reply(out, 535, "5.7.8", "Authentication credentials invalid");
    case sasl_step::kind::malformed:
      mode_ = mode::command;
      sasl_.reset();
      return reply(out, 501, "5.5.2", "Malformed authentication response");
  }
}

void reference_server::peer_closed() {
  reset_transaction();
  mode_ = mode::closed;
}

void reference_server::timed_out(actions& out) {
  if (mode_ == mode::closed) return;
  reset_transaction();
  goodbye(out, "4.4.2", "Timeout exceeded, closing");
}

void reference_server::shutting_down(actions& out) {
  if (mode_ == mode::closed) return;
  reset_transaction();
  goodbye(out, "4.3.2", "Service shutting down, closing");
}

}  // namespace smtpkit::mock
