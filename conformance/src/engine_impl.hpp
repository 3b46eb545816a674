// engine_impl.hpp — state of the conformance engine, shared by the event
// plumbing (engine.cpp), the client judge (judge_client.cpp), the server
// judge (judge_server.cpp) and the session state machine (state.cpp):
// one struct per side (its stream and what only its judge keeps), the
// session state both judges read, and the ledger of findings (ledger.hpp).
#pragma once

#include <string>
#include <vector>

#include "ledger.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/params.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::conformance {

/// What a session has established; the server's view, or (for the client
/// view) the same with pending commands assumed to succeed.
struct smtp_state {
  bool hello = false;  ///< EHLO or HELO accepted
  bool esmtp = false;  ///< by EHLO
  std::uint32_t ext = 0;
  std::uint64_t size_limit = 0;
  std::string auth_mechs;
  bool tls = false;
  bool authed = false;
  enum class txn : std::uint8_t { none, mail, rcpt } t = txn::none;
  int rcpts = 0;
  bool txn_smtputf8 = false;
  body_type body = body_type::none;
  bool used_data = false;
  bool used_bdat = false;
  bool bdat_last = false;
  bool bdat_failed = false;  ///< a BDAT of this transaction got 4xx/5xx (RFC 3030 §2)
  bool mail_tried = false;   ///< a MAIL was sent since the last reset, accepted or not
  bool rcpt_tried = false;   ///< a RCPT was sent since the last reset, accepted or not
  bool quit = false;

  [[nodiscard]] bool has(extension e) const noexcept { return (ext >> static_cast<unsigned>(e)) & 1u; }
  void reset_txn() noexcept {
    t = txn::none;
    rcpts = 0;
    txn_smtputf8 = false;
    body = body_type::none;
    used_data = used_bdat = bdat_last = bdat_failed = false;
    mail_tried = rcpt_tried = false;
  }
};

/// Octets of a line an excerpt shows.
constexpr std::size_t excerpt_max = 160;

/// The first excerpt_max octets of a line, escaped (dialogue format), "..."
/// if cut.
std::string excerpt_of(std::string_view line);

/// The excerpt of a line, escaped only when a finding needs it: most lines
/// and replies give none, and escaping each one was a visible share of
/// `smtpkit serve`'s CPU per message.
class lazy_excerpt {
 public:
  explicit lazy_excerpt(std::string_view line) : line_(line) {}
  operator std::string_view() const {
    if (!done_) {
      text_ = excerpt_of(line_);
      done_ = true;
    }
    return text_;
  }

 private:
  std::string_view line_;
  mutable std::string text_;
  mutable bool done_ = false;
};

enum class pending_kind : std::uint8_t { command, data_end, bdat_chunk, auth_response };

struct pending {
  pending_kind kind = pending_kind::command;
  verb v = verb::unknown;
  std::uint64_t offset = 0;
  std::string raw;  ///< the line's first excerpt_max + 1 octets (all excerpt_of needs), or a placeholder
  std::string excerpt() const { return excerpt_of(raw); }
  line_ending ending = line_ending::crlf;
  errc grammar = errc::ok;  ///< first grammar error of the line
  // facts the judges need
  bool rset_plain = true;
  bool postmaster = false;
  bool postmaster_bare = false;  ///< RCPT TO:<Postmaster>, no domain (§4.5.1)
  std::string rcpt_domain;       ///< RCPT: the domain, lower case (empty for <Postmaster>)
  bool mail_smtputf8 = false;
  body_type body = body_type::none;
  bool size_declared = false;
  std::uint64_t size = 0;
  bool bdat_last = false;
  bool auth_cancel = false;
  bool auth_initial = false;
  bool sync_point = false;
  bool extension_verb = false;    ///< unknown to the grammar but advertised
  bool data_had_variant = false;  ///< data_end: the data held a "." variant (smuggling candidate)
  bool over_limit = false;        ///< command: longer than §4.5.3.1.4 allows (with its extensions)
  // A client line that holds a bare CR or LF (RFC 5321 §2.3.8) is framed in
  // pieces, one entry each, grouped by `group` up to the piece ended by
  // CRLF; the replies show whether the server framed them so (`split`) or
  // as the one line they are (the entries are then joined into one).
  std::uint32_t group = 0;               ///< 0: not part of such a line
  line_ending bare = line_ending::none;  ///< the bare terminator that opened the group
  bool split = false;                    ///< the server answered the pieces one by one
  /// A BDAT whose chunk the client never finished before it closed: owed
  /// no reply (RFC 3030 §2: the reply follows the chunk), but a server that
  /// answered the command at once (it refused it) may still be answering it.
  bool taken_back = false;
};

/// FIFO of commands awaiting replies. A vector with a moving head: no
/// allocation until the first command (std::deque allocates when built,
/// which an idle session of the mock server cannot afford).
class pending_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  pending& front() { return items_[head_]; }
  const pending& front() const { return items_[head_]; }
  pending& back() { return items_.back(); }
  const pending& back() const { return items_.back(); }
  void push_back(pending p) { items_.push_back(std::move(p)); }
  void pop_back() {
    items_.pop_back();
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }
  void push_front(pending p) {
    if (head_ > 0) items_[--head_] = std::move(p);
    else items_.insert(items_.begin(), std::move(p));
  }
  void pop_front() {
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }
  [[nodiscard]] auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  [[nodiscard]] auto end() const { return items_.end(); }
  [[nodiscard]] auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  [[nodiscard]] auto end() { return items_.end(); }

 private:
  std::vector<pending> items_;
  std::size_t head_ = 0;
};

enum class client_mode : std::uint8_t {
  lines,          ///< commands
  data,           ///< mail data after 354
  bdat,           ///< a BDAT chunk
  auth_response,  ///< the next line answers a 334 challenge
  paused,         ///< awaiting a reply that decides how to read what follows
  tls_wait,       ///< 220 to STARTTLS seen; nothing may come before TLS
  closed,
};

/// The client's stream and what only the client judge keeps. The server
/// judge moves `mode` (a 354 starts the data, a 220 to STARTTLS stops the
/// stream), because replies decide how the client's next octets are read.
struct client_side {
  std::string buf;
  std::uint64_t off = 0;  // stream offset of buf[0]
  line_framer framer{1u << 16};
  client_mode mode = client_mode::lines;
  data_decoder decoder;
  std::uint64_t data_start = 0;
  std::uint64_t last_variant_end = UINT64_MAX;  // stream offset just past the last "." variant
  bdat_reader chunk;
  bool early_reported = false;
  bool paused_reported = false;
  bool first_after_tls = false;
  std::uint32_t open_group = 0;               ///< the group of a line whose last piece ended bare, awaiting CRLF
  line_ending open_bare = line_ending::none;  ///< the bare terminator that opened it
  std::uint32_t groups = 0;                   ///< groups opened so far
  /// The client closed while octets it sent were held for a reply (sent
  /// after DATA before 354, say): the close takes effect once the reply has
  /// decided how to read them (a server refusing DATA reads a QUIT there).
  bool close_pending = false;
};

/// A reply to the first piece of a complete group, held until the dialogue
/// shows how the server framed the line: a second reply with nothing else
/// to answer means it split the line at the bare CR/LF; the client's next
/// command, a close, or TLS means it read one line.
struct held_reply {
  bool active = false;
  std::uint16_t code = 0;
  std::uint64_t offset = 0;
  std::string text;
  std::vector<std::string> texts;
  bool bad = false;
};

/// The server's stream, the reply being assembled, and what only the server
/// judge keeps.
struct server_side {
  std::string buf;
  std::uint64_t off = 0;
  line_framer framer{1u << 16};
  reply_assembler assembler;
  std::string reply_text;  // lines of the reply being assembled, CRLF-joined
  std::uint64_t reply_offset = 0;
  std::uint16_t reply_code = 0;
  std::vector<std::string> reply_texts;
  bool reply_bad = false;
  bool refused = false;  // greeting was 554
  bool quit_replied = false;
  bool tls_pending = false;            // 220 to STARTTLS seen, TLS not yet started
  bool answered_variant_data = false;  // the last reply answered data that held a "." variant
  bool answered_over_limit = false;    // the last reply answered a command line past §4.5.3.1.4's limit
  std::size_t injected_commands = 0;   // client commands discarded by TLS
  bool esc_unadvertised_reported = false;
  held_reply held;
  std::uint32_t bare_accepted_group = 0;
  engine::bare_framing framing;  // what the replies showed of bare-CR/LF lines
  std::uint32_t negative = 0;    // 5yz replies after the greeting
  bool last_negative = false;    // the last of those replies was 5yz
  std::uint32_t replies = 0;     // replies after the greeting
  bool last_closing = false;     // the last reply was a 221  // the last group found taken as
                                 // commands: one finding a line
};

/// What one side establishes and the other side's judge reads: the state
/// replies set up, the commands awaiting them, how the session ends.
struct session_state {
  bool greeted = false;
  smtp_state st;
  pending_queue queue;
  bool got_421 = false;
  bool desync = false;
  bool injected_from_server = false;
  bool replies_after_tls = false;
  bool silent_since_tls = false;  // TLS started and neither side has sent an octet since
  bool client_closed = false;
  bool server_closed = false;
  /// Domains the server accepted a recipient at (up to 16): the dialogue's
  /// evidence that it provides mail service for them (RFC 5321 §4.5.1).
  std::vector<std::string> served_domains;
};

struct engine::impl {
  explicit impl(engine_options o);

  engine_options opts;
  ledger verdicts;  // every check, of either judge, goes through it
  std::function<void(const exchange&)> on_exchange;
  void tell_exchange(exchange::kind k, verb v, std::uint16_t code) const;

  client_side client;
  server_side server;
  session_state session;

  // --- plumbing (engine.cpp) ---
  void pump_client();
  /// Frames one line of commands or of a SASL response; false when the
  /// buffer holds no whole line yet.
  bool pump_client_line();
  void pump_server();
  void server_line(const line_result& r, std::uint64_t at);
  void resume_client();
  void take_client_cr();

  // --- client judge (judge_client.cpp) ---
  [[nodiscard]] smtp_state client_view() const;
  void client_line(std::string_view line, line_ending ending, std::uint8_t flags, diagnostic framing, std::uint64_t at);
  void client_auth_line(std::string_view line, std::uint64_t at);
  void client_data(std::string_view piece);
  void client_paused_bytes(std::uint64_t at);
  void client_close();

  // --- server judge (judge_server.cpp) ---
  void server_reply(std::uint64_t at);
  /// A reply matched with the command it answers: judged, applied.
  void answered(const pending& p, std::uint16_t code, std::uint64_t at);
  /// How the client's next octets are read after that reply.
  void steer_client(const pending& p, std::uint16_t code);
  void greeting(std::uint16_t code, std::string_view text, std::uint64_t at);
  void judge(const pending& p, std::uint16_t code, std::uint64_t at);
  void judge_ehlo(std::string_view text, std::uint64_t at);
  void judge_esc(std::uint16_t code, std::uint64_t at);
  void server_close();
  void unsolicited(std::uint16_t code, std::uint64_t at);
  /// The pieces of a bare-CR/LF line at the front of the queue: complete
  /// when its CRLF piece has been framed.
  [[nodiscard]] bool group_complete(std::uint32_t group) const;
  /// The server framed the group at its bare terminators: one command each.
  void split_group(std::uint32_t group);
  /// The server read the group as one line: its pieces become one command.
  void join_group(std::uint32_t group);
  /// The held reply answers the group as one line (join_group), or its
  /// first piece (split: true). `shown`: the dialogue showed it (false:
  /// counting could not tell, and the line is taken whole as a guess).
  void answer_held(bool split, bool shown = true);
  /// A reply without a command that the dialogue accounts for (a server
  /// that cut the data short, answered injected commands, closes with 421).
  [[nodiscard]] bool explain_unsolicited(std::uint16_t code, std::uint64_t at);
};

/// Apply a command's outcome to a state (code 0: assume success).
void apply(smtp_state& s, const pending& p, std::uint16_t code, const ehlo_info* ehlo = nullptr);

/// Commands after which a pipelining client must wait (RFC 2920 §3.1,
/// RFC 3207 §4, RFC 4954 §4).
bool is_sync_point(const pending& p);

}  // namespace smtpkit::conformance
