// session.hpp — one client connection: reads octets, hands them to the
// behaviour, carries out the actions it returns (writes, pauses, TLS,
// close, faults), and feeds the same octets, exactly as they crossed the
// wire, to the conformance engine and the transcript.
//
// Memory: a plain-text session reads into one buffer shared by all sessions
// of the thread; only while it waits for more does it hold a small buffer
// of its own (512 octets, which the wait reads into), and a session whose
// client never spoke holds none. Behaviours, the engine and the transcript
// keep only what they must. TLS sessions own a buffer (OpenSSL reads are
// not zero-length).
#pragma once

#include "server_impl.hpp"
#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {

class session {
 public:
  session(server::impl& srv, tcp::socket sock, bool implicit_tls, std::size_t ordinal);
  ~session();

  asio::awaitable<void> run();
  /// Sweeper: which timeout has passed — "session", "idle", "line" (a
  /// command line not finished within --line-deadline), "data" (message
  /// data slower than --min-data-rate, or going on past --max-size),
  /// "handshake" — or nullptr.
  [[nodiscard]] const char* overdue(clock_type::time_point now) const;
  /// Sweeper: a timeout passed; the first call says 421, the next closes.
  void timeout(const char* why);
  /// Shutdown grace is over (or the session is idle while stopping).
  void shutdown();

  clock_type::time_point started;
  clock_type::time_point last_activity;
  [[nodiscard]] bool busy() const { return beh_ && beh_->busy(); }
  [[nodiscard]] bool ending() const { return ending_; }

 private:
  asio::awaitable<std::size_t> read_some(char*& data);
  /// During a scripted pause: takes what the client has already sent and
  /// records it (transcript, engine, observers) at once, so the record shows
  /// when it arrived; the behaviour gets it after the pause.
  asio::awaitable<void> take_early();
  asio::awaitable<bool> write_all(std::string_view bytes);
  asio::awaitable<bool> execute(std::vector<action> list);
  asio::awaitable<bool> handshake();
  void client_bytes(std::string_view b);
  void server_bytes(std::string_view b);
  void finish();
  void note_progress(clock_type::time_point now);
  void flush_transcript(bool final);
  void report_finding(const conformance::finding& f);
  conformance::engine* engine();

  server::impl& srv_;
  tcp::socket sock_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<char[]> tls_buf_;
  bool implicit_tls_;
  session_env env_;
  std::unique_ptr<behaviour> beh_;
  std::unique_ptr<conformance::engine> engine_;
  std::string engine_backlog_;  // server octets sent before the engine was made
  std::string early_;           // client octets recorded during a pause, not yet given to the behaviour
  bool early_eof_ = false;      // the client closed during a pause
  std::unique_ptr<transcript_writer> rec_;
  std::vector<std::unique_ptr<session_tap>> taps_;  // the server's observers
  std::string transcript_path_;
  std::string transcript_error_;  // why the transcript could not be written
  bool transcript_started_ = false;
  bool timed_out_ = false;
  bool shutdown_ = false;
  bool ending_ = false;
  bool peer_closed_ = false;
  std::size_t findings_ = 0;
  unsigned eager_reads_ = 0;
  bool drained_ = false;  // the last read emptied the socket: wait before reading again
  bool spoke_ = false;    // the client has sent something
  static constexpr std::size_t wait_buf_size = 512;
  std::unique_ptr<char[]> wait_buf_;  // what a wait reads into (made at the first wait after the client spoke)
  // Deadlines: when the line, transfer or handshake under way began, and
  // when its content went past --max-size.
  input_progress progress_;
  clock_type::time_point record_start_{};
  clock_type::time_point over_since_{};
  bool handshaking_ = false;
};

}  // namespace smtpkit::mock
