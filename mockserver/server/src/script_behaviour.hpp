// script_behaviour.hpp — a session that plays scripts (docs/dialogue-format.md,
// "Scripts in the server") over the reference ESMTP server (RFC 5321 §4.3.2,
// reference.hpp).
//
// Three layers answer a client, first match wins:
//   1. rules (@rule): any command line (or the connect, or the end of data)
//      matching a rule's trigger, when the rule's counters select it;
//   2. the session's dialogue: the script's S: records are sent, its C:/C=/C~
//      records are expected; a deviating line is a "script.mismatch" finding
//      and @on-mismatch applies (reply and stay, or close). A C: record takes
//      the command in any case of verb, tag and keywords (RFC 5321 §2.4,
//      command_match.hpp). Mail data after a 354 the dialogue sent is not a
//      command stream: it is taken whole, never answered before its end
//      (RFC 5321 §4.1.1.4), compared with the recorded message as
//      message_match.hpp says, and the recorded reply follows its end, also
//      when it differed (a finding), unless @on-mismatch close;
//   3. the reference server: everything else, and the whole session once the
//      dialogue has ended.
// A rule's @fallback puts the answer without it inside the rule's own: the
// answer of the rules after it, else of layers 2/3.
//
// The reference server follows the dialogue in the shadow: every line the
// dialogue takes and accepts (2xx/3xx), and the mail data inside a message,
// is given to it too, with its replies dropped and its events quiet. A
// message the dialogue accepts is stored as usual (a "message" event), and
// when the dialogue ends the reference server is in step (a transaction
// open, a message begun, a QUIT said).
//
// A rule that accepts a command (its last reply 2xx/3xx) lets the reference
// server take the command for its state, with the rule's reply sent instead
// of the reference's: a custom EHLO reply or a 354 to DATA keep the session
// working. A rule that refuses (or says nothing) keeps it from the reference.
//
// Limits: rules do not see BDAT commands or AUTH continuation lines (their
// framing stays with the reference server); a rule's 250 to a command the
// reference refuses leaves the two disagreeing; rule counters shared per
// server assume the server's one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/mock/script/message_match.hpp"
#include "smtpkit/mock/script/script.hpp"

namespace smtpkit::mock {

namespace script_detail {
/// A client line without its terminator (CRLF, or the bare LF a C= record keeps).
inline std::string_view content_of(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}
/// The octets a list of actions puts on the wire.
inline std::string wire_of(const actions& a) {
  std::string s;
  for (const auto& x : a.list())
    if (x.kind == act::write || x.kind == act::throttle) s += x.bytes;
  return s;
}
}  // namespace script_detail

/// The scripts of one server and what their rules have counted so far; one
/// per server, shared by its sessions (all on the server's one thread).
class script_set {
 public:
  explicit script_set(std::vector<script> scripts);

  struct counter {
    std::uint64_t matches = 0;  ///< lines (connects, ends of data) the trigger matched
    std::uint64_t answers = 0;  ///< of which the rule answered
  };
  struct dialogue_choice {
    std::size_t script = 0;
    const std::vector<step>* steps = nullptr;
  };

  [[nodiscard]] const std::vector<script>& scripts() const noexcept { return scripts_; }
  /// Session N plays the first script's `@session N` dialogue; else the
  /// dialogues for every session, dealt out in turn (N-1 mod their count).
  [[nodiscard]] dialogue_choice dialogue_for(std::size_t ordinal) const;
  counter& server_counter(std::size_t script, std::size_t rule) { return counts_[script][rule]; }
  /// Next number in [0, 1) from the script's @seed (splitmix64: the same on
  /// every platform, unlike the standard distributions).
  double draw(std::size_t script);

 private:
  std::vector<script> scripts_;
  std::vector<std::vector<counter>> counts_;
  std::vector<std::uint64_t> rng_;
  std::vector<std::size_t> rotation_;
};

class script_behaviour final : public behaviour, private command_hook {
 public:
  script_behaviour(session_env& env, std::shared_ptr<script_set> set, std::unique_ptr<reference_server> ref);
  ~script_behaviour() override;

  void greet(actions& out) override;
  void receive(std::string_view octets, actions& out) override;
  void tls_started(actions& out) override;
  void peer_closed() override;
  void timed_out(actions& out) override;
  void shutting_down(actions& out) override;
  [[nodiscard]] std::size_t buffered() const override { return buf_.size() + ref_->buffered(); }
  [[nodiscard]] bool busy() const override { return ref_->busy() || (active_ && (in_data_ || chunk_left_ > 0)); }
  /// The dialogue's own partial line while it plays; the reference server's progress after.
  [[nodiscard]] input_progress progress() const override {
    if (!active_) return ref_->progress();
    return {buf_.empty() ? input_progress::kind::nothing : input_progress::kind::line, pos_, 0, false};
  }

  /// True while the session's dialogue is still being played.
  [[nodiscard]] bool in_dialogue() const noexcept { return active_; }

 private:
  struct pacing {
    std::uint64_t rate = 0;   // octets per second; 0: at once
    std::uint64_t split = 0;  // octets per write; 0: one write
    std::chrono::milliseconds gap{20};
  };
  struct chosen {
    std::size_t script = 0;
    const rule_def* rule = nullptr;
    captures caps;
    std::size_t next = 0;  // where the rules after this one start (for @fallback)
  };
  // What the reference server writes for a command a rule took: replaced by
  // the rule's answer, or paced and followed by the rest of the rule's body.
  struct region {
    bool open = false;
    bool replace = false;
    std::size_t begin = 0;
    std::vector<action> replacement;
    pacing pace;
    std::vector<action> tail;
  };

  // command_hook: the reference server asks before answering.
  bool command(std::string_view line, const command_result& parsed, actions& out) override;
  bool end_of_data(actions& out) override;

  std::optional<chosen> pick(rule_def::trigger on, std::string_view line, std::size_t from);
  void compile(const chosen& c, std::size_t from, std::size_t to, pacing& p, actions& out);
  bool answer_with_rules(rule_def::trigger on, std::string_view line, std::size_t from, actions& out,
                         const std::function<void(actions&)>& base, bool reference);
  bool hook_answer(rule_def::trigger on, std::string_view line, actions& out);
  std::string send(std::string_view bytes, const std::vector<std::string>& names, const pacing& p, actions& out);
  static void paced(std::string_view bytes, const pacing& p, actions& out);
  void append_paced(actions& out, std::vector<action> list, const pacing& p);
  void settle(actions& out);

  // dialogue
  void dialogue_run(actions& out);
  void dialogue_line(std::string_view line, actions& out);
  std::size_t data_run(std::string_view avail, actions& out);
  bool bdat_line(std::string_view line);
  std::size_t chunk_run(std::string_view avail, actions& out);
  void end_of_chunk(actions& out);
  void compare_message_now(const std::vector<expected_record>& expected, std::size_t at_line);
  void end_of_message(actions& out, bool reply);
  std::size_t recorded_message(std::vector<expected_record>* out, std::size_t& dot, std::size_t& end) const;
  [[nodiscard]] bool command_matches(const step& s, std::string_view line);
  void note(std::size_t line, const std::string& text, const std::vector<std::string>& varied);
  void play_sends(actions& out);
  [[nodiscard]] bool expects(const step& s) const noexcept;
  [[nodiscard]] std::string expected_bytes(const step& s) const;
  bool line_expected(std::string_view line);
  void advance(std::string_view line);
  void skip_answer();
  void mismatch(std::string_view received, actions& out);
  void finding(std::string_view received, const std::string& why);
  void finding_at(std::string_view received, const std::string& why, const std::string& expected, std::size_t line,
                  std::string_view excerpt);
  void take_over(actions& out);
  void shadow(std::string_view taken);

  // events
  void event_command(std::string_view content);
  void note_replies(std::string_view bytes);
  void event_rule(const chosen& c, std::string_view input);
  [[nodiscard]] bool authenticated() const { return ref_->authenticated(); }
  [[nodiscard]] const script& dscript() const { return set_->scripts()[dscript_]; }

  session_env& env_;
  std::shared_ptr<script_set> set_;
  std::unique_ptr<reference_server> ref_;
  std::vector<std::vector<script_set::counter>> session_counts_;
  captures caps_;

  std::size_t dscript_ = 0;
  const std::vector<step>* steps_ = nullptr;
  std::size_t pos_ = 0;
  bool active_ = false;               // the dialogue is being played
  bool tls_wait_ = false;             // @tls sent; octets until the handshake are discarded
  bool in_data_ = false;              // between a 354 the dialogue sent and the client's "."
  bool auth_response_ = false;        // the dialogue sent a 334: the next line answers it (RFC 4954 §4)
  bool auth_line_ = false;            // the line being taken is such an answer, not a command
  data_decoder data_;                 // finds the end of the mail data, as the reference server does
  std::string message_;               // the client's mail data so far, as sent, up to message_limit_
  std::uint64_t message_octets_ = 0;  // all of it, the final "." line included
  std::size_t message_limit_ = 0;     // the recorded message's size and some more
  // A BDAT chunk the dialogue takes (RFC 3030 §2): its octets are never
  // commands, and its reply comes after it.
  std::uint64_t chunk_left_ = 0;
  std::uint64_t chunk_recorded_ = 0;  // the size the script's BDAT record gave
  bool chunk_refused_ = false;        // the BDAT line was not what the script waits for
  bool message_differs_ = false;      // the last comparison found a difference
  bool at_line_start_ = true;
  bool closed_ = false;  // a close, reset or hang was asked for
  pacing pace_;
  std::string buf_;             // client octets the dialogue has not taken yet
  std::uint64_t offset_ = 0;    // client octets the dialogue took so far
  std::size_t limit_;           // longest line the dialogue waits for
  std::string answer_;          // what the dialogue sent for the line just taken
  std::string shadow_pending_;  // taken octets the reference has not been given yet
  bool shadow_ = false;         // the reference is being given a dialogue's line
  bool shadow_store_ = false;
  bool mismatched_ = false;
  std::size_t findings_ = 0;  // script.mismatch findings of this session

  region region_;
  pacing marker_pace_;  // pacing the rules around the reference's reply asked for
  std::string reply_carry_;
  std::vector<std::string> reply_lines_;
};

}  // namespace smtpkit::mock
