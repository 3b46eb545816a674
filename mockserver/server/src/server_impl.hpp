// server_impl.hpp — the server's shared state, seen by every session:
// configuration, storage, events, TLS, the session registry (for timeouts
// and shutdown) and the finding counters behind the exit status.
#pragma once

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

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

  explicit impl(server_config c, behaviour_factory f);
  void start_accepting();
  asio::awaitable<void> accept_loop(std::size_t index);
  void begin_shutdown();
  void sweep();
  void maybe_finish();
};

}  // namespace smtpkit::mock
