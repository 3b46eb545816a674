// proxy.hpp — internals of `smtpkit record` (smtpkit/mock/record/recorder.hpp):
// the tracker that finds STARTTLS in the client's octets and the reply
// that answers it in the server's, and one proxied session.
//
// The tracker follows both streams only as far as the switch to TLS needs:
// command lines, mail data after a 354 (RFC 5321 §4.1.1.4, so a "STARTTLS"
// line inside a message is not taken for the command) and BDAT chunks
// (RFC 3030 §2). Replies are matched to client units (a command line, an
// end of data) by counting, the greeting first (RFC 2920 §3.1). Memory is
// bounded by the line framers' limits.
#pragma once

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "smtpkit/mock/common/event_log.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/mock/record/recorder.hpp"
#include "smtpkit/reply.hpp"
#include "smtpkit/transcript.hpp"
#include "smtpkit/mock/common/tls_context.hpp"

namespace smtpkit::mock {

class dialogue_tracker {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Client octets in order; returns the offset in `chunk` just past a
  /// STARTTLS command line, or npos.
  std::size_t client(std::string_view chunk);

  struct reply_end {
    std::size_t at = npos;  ///< offset in the chunk just past the reply to STARTTLS
    int code = 0;
  };
  /// Server octets in order; finds the end of the reply to STARTTLS.
  reply_end server(std::string_view chunk);

  [[nodiscard]] bool starttls_pending() const noexcept { return starttls_unit_ != 0; }

 private:
  enum class mode : std::uint8_t { command, data, bdat };
  struct null_sink {
    void body(std::string_view) {}
    void anomaly(data_anomaly, std::uint64_t) {}
  };

  mode mode_ = mode::command;
  std::uint64_t units_ = 0;      // client units sent: command lines and ends of data
  std::uint64_t replies_ = 0;    // complete server replies, the greeting first
  std::uint64_t data_unit_ = 0;  // the DATA command awaiting its reply
  std::uint64_t starttls_unit_ = 0;
  std::uint64_t bdat_left_ = 0;
  line_framer client_framer_{4096};
  std::string client_buf_;
  data_decoder data_;
  line_framer server_framer_{4096};
  std::string server_buf_;
  reply_assembler replies_in_;
};

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

class proxy_session;

struct recorder::impl {
  recorder_config cfg;
  std::string prefix;  // "DIR/RUN-": this run's transcript names (files.hpp, new_run_id)
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  bound_endpoint bound;
  event_log events;
  tls_setup client_leg_tls;                          // we are the server to the client
  std::unique_ptr<asio::ssl::context> upstream_tls;  // we are the client to the server
  asio::signal_set signals{io};
  asio::steady_timer sweeper{io};
  std::unordered_set<std::shared_ptr<proxy_session>> sessions;
  std::size_t opened = 0;
  bool stopping = false;

  explicit impl(recorder_config c);
  asio::awaitable<void> accept_loop();
  void begin_shutdown();
  void sweep();
};

/// One client connection and its upstream connection.
class proxy_session : public std::enable_shared_from_this<proxy_session> {
 public:
  proxy_session(recorder::impl& r, tcp::socket client, std::size_t ordinal);
  asio::awaitable<void> run();
  /// Sweeper: idle too long, a close's grace period over, or stopping.
  void check(clock_type::time_point now);
  void stop();

 private:
  struct leg {
    explicit leg(tcp::socket s) : sock(std::move(s)) {}
    tcp::socket sock;
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  };

  asio::awaitable<void> pump(side from);
  asio::awaitable<bool> write(leg& to, std::string_view bytes);
  /// TLS starts here (after a 220 to STARTTLS, or at once with implicit
  /// TLS): records @tls; true when both legs are to be terminated
  /// (start_tls), false when the octets are relayed (--tls-passthrough).
  bool tls_begins();
  asio::awaitable<bool> start_tls();
  void record(side who, std::string_view bytes);
  void peer_closed(side who);
  void flush_transcript(bool final);
  void finish();
  leg& of(side s) { return s == side::client ? client_ : upstream_; }

  recorder::impl& r_;
  leg client_;
  leg upstream_;
  std::string id_;
  std::string peer_;
  std::string path_;
  bool file_started_ = false;
  void generalize_transcript();
  transcript_writer rec_;
  std::size_t since_lf_[2] = {0, 0};
  std::uint64_t octets_[2] = {0, 0};
  clock_type::time_point last_activity_;
  clock_type::time_point last_octet_;
  bool any_octet_ = false;
  clock_type::time_point grace_until_ = clock_type::time_point::max();
  bool closed_[2] = {false, false};
  int pumps_ = 0;
  bool stopped_ = false;
  bool finished_ = false;

  dialogue_tracker tracker_;
  bool tracking_ = true;  // until TLS starts
  bool passthrough_ = false;
  bool gate_open_ = true;  // the client pump waits while the reply to STARTTLS is awaited
  asio::steady_timer gate_;
};

}  // namespace smtpkit::mock
