// reference.hpp — the reference ESMTP server: what `smtpkit serve` does with
// no script. It accepts every well-formed message and stores it, answers
// every command as RFC 5321 §4.3.2 lists, advertises and implements
// PIPELINING (RFC 2920), SIZE (1870), 8BITMIME (6152), SMTPUTF8 (6531),
// ENHANCEDSTATUSCODES (2034, 3463), DSN (3461), CHUNKING and BINARYMIME
// (3030), STARTTLS (3207) and AUTH (4954) — each can be turned off — and
// tells a client exactly which rule a rejected command broke.
//
// Strict like the grammar: only CRLF ends a command line (a line ended by a
// bare LF or CR is refused once the CRLF arrives, §2.3.8) and only
// <CRLF>.<CRLF> ends the data, unless the configuration asks to emulate a
// lenient or smuggling-prone server.
//
// Scripts plug in through command_hook: a hook sees each parsed command
// first and may answer it; otherwise this server does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtpkit/command.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/mock/server/behaviour.hpp"
#include "smtpkit/mock/server/config.hpp"
#include "storage.hpp"

namespace smtpkit::mock {

class sasl_exchange;

/// Lets a script answer commands before the reference server does.
class command_hook {
 public:
  virtual ~command_hook() = default;
  /// The greeting; true when the hook wrote it.
  virtual bool greeting(actions& out) {
    (void)out;
    return false;
  }
  /// A complete command line; true when the hook answered it.
  virtual bool command(std::string_view line, const command_result& parsed, actions& out) = 0;
  /// After <CRLF>.<CRLF> or BDAT LAST, before the message is stored; true
  /// when the hook answered (the message is then not stored).
  virtual bool end_of_data(actions& out) {
    (void)out;
    return false;
  }
};

class reference_server final : public behaviour {
 public:
  explicit reference_server(session_env& env);
  ~reference_server() override;

  void greet(actions& out) override;
  void receive(std::string_view octets, actions& out) override;
  void tls_started(actions& out) override;
  void peer_closed() override;
  void timed_out(actions& out) override;
  void shutting_down(actions& out) override;
  [[nodiscard]] std::size_t buffered() const override { return buf_.size() + fragment_.size(); }
  /// In DATA, inside a BDAT chunk, or between the chunks of a BDAT
  /// transaction (RFC 3030 §2): shutdown grace applies to all three.
  [[nodiscard]] bool busy() const override {
    return mode_ == mode::data || mode_ == mode::bdat || (used_bdat_ && writer_ != nullptr);
  }

  [[nodiscard]] input_progress progress() const override;

  void set_hook(command_hook* h) noexcept { hook_ = h; }
  /// No "command"/"reply" events while set: a script sends its own reply
  /// instead of this server's and reports that one.
  void set_quiet(bool q) noexcept { quiet_ = q; }
  /// No "reply" events while set (its commands still are): a rule answers
  /// in this server's place, and the commands pipelined after it are news.
  void set_replies_muted(bool m) noexcept { replies_muted_ = m; }
  [[nodiscard]] bool authenticated() const noexcept { return !auth_user_.empty(); }
  /// Write one reply with this session's conventions (enhanced status code
  /// only once ENHANCEDSTATUSCODES was advertised).
  void reply(actions& out, int code, std::string_view esc, std::string_view text);
  /// The same reply's line, without CRLF and without its event.
  [[nodiscard]] std::string reply_line(int code, std::string_view esc, std::string_view text) const;

 private:
  enum class mode : std::uint8_t { command, data, bdat, auth, tls_wait, closed };

  void step(std::string_view in, actions& out);
  std::size_t on_input(std::string_view in, actions& out);
  void on_line(std::string_view line, line_ending ending, actions& out);
  void on_command(std::string_view line, actions& out);
  void on_auth_line(std::string_view line, actions& out);
  void auth_step(const struct sasl_step& s, actions& out);
  void finish_message(actions& out);
  void store_failed(const stored& s);
  void message_stored(const stored& s, nlohmann::ordered_json& env);
  void ehlo(const command& c, bool extended, actions& out);
  bool refused_params(const command_result& r, actions& out);
  void mail(const command_result& r, actions& out);
  void rcpt(const command_result& r, actions& out);
  void data(const command& c, actions& out);
  void bdat(const command_result& r, actions& out);
  void auth(const command_result& r, actions& out);
  void starttls(const command& c, actions& out);
  void syntax_error(const command_result& r, actions& out);
  /// Invalid character codes (RFC 5321 §4.1.2): 8-bit without SMTPUTF8,
  /// invalid UTF-8, NUL, control characters.
  static bool invalid_characters(const command_result& r);
  void reset_transaction();
  void note_error(actions& out);
  void goodbye(actions& out, std::string_view esc, std::string_view why);
  void event_command(std::string_view line);
  void event_reply(int code, std::string_view text);
  nlohmann::ordered_json envelope() const;

  session_env& env_;
  const server_config& cfg_;
  command_hook* hook_ = nullptr;
  bool quiet_ = false;
  bool replies_muted_ = false;
  mode mode_ = mode::command;
  std::string buf_;       // unconsumed octets (partial line)
  std::string fragment_;  // a line ended by bare LF/CR, waiting for its CRLF
  diagnostic line_diag_;  // what the framer saw in the current line (NUL, control octets)
  line_framer framer_;
  data_decoder decoder_;
  std::uint64_t bdat_left_ = 0;
  bool bdat_store_ = false;
  bool bdat_last_ = false;
  std::uint64_t records_ = 0;         // lines and transfers finished (progress())
  std::uint64_t content_octets_ = 0;  // of the DATA or BDAT chunk under way

  // session
  bool hello_ = false;
  bool esmtp_ = false;
  bool esc_ = false;
  std::string helo_;
  std::string auth_user_;
  std::unique_ptr<sasl_exchange> sasl_;
  std::size_t errors_ = 0;
  bool quit_ = false;

  // transaction
  bool txn_ = false;
  std::string mail_from_;
  nlohmann::ordered_json mail_params_;
  std::vector<std::pair<std::string, nlohmann::ordered_json>> rcpts_;
  bool smtputf8_ = false;
  body_type body_ = body_type::none;
  bool used_data_ = false;
  bool used_bdat_ = false;
  bool too_big_ = false;
  std::unique_ptr<message_writer> writer_;
  std::uint64_t messages_ = 0;
};

}  // namespace smtpkit::mock
