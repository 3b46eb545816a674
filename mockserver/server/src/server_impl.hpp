// server_impl.hpp — the server's shared state, seen by every session:
// configuration, storage, events (and the wait for a slow events reader),
// TLS, the session registry (for timeouts and shutdown), the descriptor
// reserve, and the finding and lost-output counters behind the exit status.
#pragma once

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <unordered_set>

#include "smtpkit/mock/common/event_log.hpp"
#include "smtpkit/mock/server/server.hpp"
#include "storage.hpp"
#include "smtpkit/mock/common/tls_context.hpp"

namespace smtpkit::mock {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

class session;

struct server::impl {
  server_config cfg;
  std::string transcript_prefix;  ///< "DIR/RUN-": this run's transcript names (files.hpp, new_run_id)
  behaviour_factory factory;
  asio::io_context io{1};
  std::vector<tcp::acceptor> acceptors;
  std::vector<bool> acceptor_tls;
  std::vector<bound_endpoint> bound;
  std::unique_ptr<message_store> store;
  event_log events;
  tls_setup tls;
  asio::signal_set signals{io};
  asio::steady_timer sweeper{io};
  std::unordered_set<session*> sessions;
  std::vector<std::shared_ptr<server_observer>> observers;
  std::vector<std::pair<std::string, event_log::json>> announcements;
  int event_followers = 0;  // server::follow_events
  std::size_t opened = 0;
  std::size_t messages = 0;
  std::size_t findings_by_level[4] = {0, 0, 0, 0};
  bool stopping = false;
  clock_type::time_point stop_deadline{};

  // A reader of --events that stops reading must not stop the server: the
  // log never blocks, and this waits for the reader to take more.
  std::unique_ptr<asio::posix::stream_descriptor> events_wait;
  bool events_armed = false;

  // Output the user asked for and did not get in full (exit status 2).
  std::size_t transcript_errors = 0;
  std::string transcript_error;

  // --durable: messages finished in one turn of the loop are committed as
  // one group, taken after that turn's handlers and synced on a thread of
  // its own while the loop goes on (the next group gathers meanwhile);
  // sessions wait on commit_done, cancelled when a group is done.
  bool committing = false;
  asio::steady_timer commit_done{io, clock_type::time_point::max()};
  std::unique_ptr<asio::thread_pool> syncer;

  // Out of descriptors, a client still gets a 421: one is kept in reserve.
  int spare_fd = -1;

  explicit impl(server_config c, behaviour_factory f);
  ~impl();
  void start_accepting();
  asio::awaitable<void> accept_loop(std::size_t index);
  /// The notice to print when --max-sessions had to come down, or "".
  std::string fit_sessions_to_descriptors();
  void refuse(tcp::socket& s, std::string_view line, const char* why);
  void refuse_without_descriptors(std::size_t index);
  void drain_accept_queues();
  void begin_shutdown();
  void sweep();
  void maybe_finish();
  /// Writes the queued events; when the reader is behind, waits for it
  /// without holding anything else up.
  void flush_events();
  void transcript_failed(const std::string& session, const std::string& path, int err);
  void schedule_commit();
  asio::awaitable<void> await_commit();
};

}  // namespace smtpkit::mock
