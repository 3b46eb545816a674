// smtpkit/mock/script/script.hpp — scripts: the dialogue format (v1 transcripts)
// plus pattern records and @ directives (docs/dialogue-format.md). A script
// is played from one side: the records of that side are sent, the other
// side's records are expectations. Any v1 transcript is a valid script.
//
//   dialogue   C:/S:/C=/S= records, C~/S~ patterns, @tls, @close X
//   probing    @smuggle OCTETS (client scripts, after 354: an end-of-data probe),
//              @needs TEXT (client scripts: the next reply decides whether the scenario applies)
//   timing     @pause D, @rate N|off, @split N [GAP]|off
//   faults     @reset, @hang, @stall-tls D
//   rules      @rule [session=N] [nth=N] [times=N] [after=N] [per=session]
//                    [chance=P] [tls=yes|no] [auth=yes|no]
//                    PATTERN|@connect|@data   ...records...   @end
//              @fallback (rule bodies only): the answer the session would have
//              given without the rule goes here (later rules, dialogue or reference)
//   structure  @session N|*, @repeat N ... @end, @on-mismatch reply TEXT|close,
//              @seed N
//   mail data  @strict-data (compare a message octet for octet), @data-ignore FIELD...
//              (header fields not compared, besides the generated ones; message_match.hpp)
//   metadata   @scenario ID, @title TEXT, @group NAME, @checks ID..., @requires KEYWORD...,
//              @timeout D, @level must|should|may, @rfc TEXT, @on-close pass|fail
//   client     (scenarios served to a client, `smtpkit probe client`) @message TEXT,
//   scenarios  @rcpt ADDRESS..., @client [!]POLICY..., @serve OPTION..., @forbid PATTERN,
//              @expect body|delivered|exit-failure|exit-success...
//
// Loading validates everything (patterns compile, durations parse, blocks
// close) and reports the first problem as file:line:col: what was expected,
// so a bad script never starts a half-working server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "smtpkit/mock/script/pattern.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {

enum class op : std::uint8_t {
  send,          ///< this side sends `bytes` (captures substituted)
  expect_line,   ///< the peer sends one line matching `pat` (C:/C~ seen from the server)
  expect_raw,    ///< the peer sends exactly `bytes` (C=)
  tls,           ///< both sides start TLS here
  close,         ///< this side closes
  expect_close,  ///< the peer closes
  pause,         ///< wait `delay`
  rate,          ///< later sends at `n` octets per second (0: off)
  split,         ///< later sends in writes of `n` octets (0: off)
  reset,         ///< abort the connection (RST)
  hang,          ///< stop; keep the connection open until timeouts
  stall_tls,     ///< accept TLS but never complete the handshake, for `delay`
  fallback,      ///< (rules) the answer the session would give without the rule
  smuggle,       ///< (client) mail data with `bytes` where a line could end, then QUIT; the
                 ///< replies tell whether the server ended the data there (SMTP smuggling)
  needs,         ///< (client) if the next reply does not match, the scenario is not
                 ///< applicable: `bytes` says what the server must do for it to apply
};

struct step {
  op kind = op::send;
  std::string bytes;
  std::optional<pattern> pat;
  std::chrono::milliseconds delay{0};
  std::uint64_t n = 0;  ///< rate: octets per second; split: octets per write (delay: the gap)
  std::size_t line = 0;
};

/// A condition on the session a rule can ask for (tls=, auth=).
enum class when : std::uint8_t { any, yes, no };

struct rule_def {
  enum class trigger : std::uint8_t { line, connect, data } on = trigger::line;
  std::optional<pattern> pat;
  std::size_t session = 0;   ///< only the Nth session (1-based); 0: every session
  std::size_t nth = 0;       ///< only the Nth match; 0: every match
  std::size_t times = 0;     ///< answers at most N times; 0: no limit
  std::size_t after = 0;     ///< lets the first N matches pass
  bool per_session = false;  ///< count matches per session instead of per server
  double chance = 1.0;       ///< needs @seed
  when tls = when::any;      ///< tls=yes: only inside TLS; tls=no: only before it
  when auth = when::any;     ///< auth=yes: only once the client authenticated
  std::vector<step> body;
  bool has_fallback = false;  ///< the body holds @fallback
  std::size_t line = 0;
};

struct script_meta {
  std::string id;
  std::string title;
  std::string group;
  std::vector<std::string> checks;
  /// "KEYWORD", "KEYWORD:PARAM" (the keyword lists PARAM) or "!KEYWORD" (not advertised).
  std::vector<std::string> requires_;
  std::optional<std::chrono::milliseconds> timeout;
  /// "must", "should" or "may" (lower case); empty: the strictest level of `checks`.
  std::string level;
  std::string rfc;  ///< the requirement's RFC section, when no rule of `checks` names it
  /// The peer closing while an expectation is pending counts as meeting it
  /// (a refusal by closing; security scenarios).
  bool close_passes = false;

  // Client scenarios (conformance/client/, `smtpkit probe client`; serve ignores these).
  std::string message;       ///< @message (escapes, concatenated): what the client is given to send
  bool has_message = false;  ///< some @message was given (else the suite's default message)
  /// @client: what the client under test must be set up to do for the scenario
  /// to apply ("requires-tls", "auth", "implicit-tls", "verifies-cert"; "!x": must not).
  std::vector<std::string> client;
  std::vector<std::string> serve;  ///< @serve: options of the scenario's server ("size=100", "no-pipelining")
  std::vector<std::string> rcpts;  ///< @rcpt: the recipients the client is given ({rcpt}, {rcpt2}) instead of --rcpt
  struct forbidden {
    pattern pat;
    enum when tls = when::any;  ///< tls=yes: only inside TLS; tls=no: only before it
  };
  std::vector<forbidden> forbid;  ///< @forbid [tls=yes|no] PATTERN: client command lines that fail the scenario
  /// @expect: "body" (a stored message carries the given body, line ends made CRLF),
  /// "delivered" (every recipient got the message), "reported" (delivered, or the
  /// client exited with a failure status), "short-lines" (no line of a stored message
  /// over 1000 octets with its CRLF), "quiet-after-421" (nothing but QUIT after a 421),
  /// "exits" (the client ends by itself in time), "may-refuse" (a client that exits
  /// non-zero without connecting refused the message: a pass), "exit-failure", "exit-success".
  std::vector<std::string> expect;
  std::size_t message_line = 0;  ///< the first @message, for reports
};

struct script {
  std::string source;
  side plays = side::server;
  /// Dialogues by session: {0, steps} applies to every session without its own.
  std::vector<std::pair<std::size_t, std::vector<step>>> dialogues;
  std::vector<rule_def> rules;
  bool mismatch_closes = false;
  std::string mismatch_reply = "503 5.5.1 Unexpected command";
  std::optional<std::uint64_t> seed;
  /// Messages are compared octet for octet (@strict-data, serve --strict-data),
  /// and so are SIZE values; by default neither is (message_match.hpp).
  bool strict_data = false;
  std::vector<std::string> data_ignore;  ///< @data-ignore: more header fields not compared
  script_meta meta;
  std::vector<std::string> capture_names;  ///< every {name} a pattern can capture

  [[nodiscard]] bool has_dialogue() const noexcept;
  /// The dialogue for the Nth session (1-based), or nullptr.
  [[nodiscard]] const std::vector<step>* dialogue_for(std::size_t session) const noexcept;
};

struct script_error {
  std::string source;
  std::size_t line = 0;
  std::size_t column = 0;  ///< 1-based; 0 when the whole line is at fault
  std::string message;
  [[nodiscard]] std::string to_string() const;
};

using load_result = std::variant<script, script_error>;

/// `plays`: the side whose records are sent; the other side's are expected.
[[nodiscard]] load_result load_script(std::string_view text, std::string_view source, side plays);
[[nodiscard]] load_result load_script_file(const std::string& path, side plays);

/// "5s", "250ms", "1.5s", "2m" → milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);

}  // namespace smtpkit::mock
