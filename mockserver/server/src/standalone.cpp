// standalone.cpp — the reference server session with its own environment
// (smtpkit/mock/server/standalone.hpp).
#include "smtpkit/mock/server/standalone.hpp"

#include "reference.hpp"
#include "smtpkit/mock/common/event_log.hpp"
#include "storage.hpp"

namespace smtpkit::mock {
namespace {

class standalone_reference final : public behaviour {
 public:
  explicit standalone_reference(const server_config& cfg)
      : cfg_(cfg),
        store_(message_store::discard(false)),
        env_{cfg_, *store_, events_, "s000001", "in-process", 1, false, {}, {}, false, {}},
        ref_(env_) {}

  void greet(actions& out) override { ref_.greet(out); }
  void receive(std::string_view octets, actions& out) override { ref_.receive(octets, out); }
  void tls_started(actions& out) override { ref_.tls_started(out); }
  void peer_closed() override { ref_.peer_closed(); }
  void timed_out(actions& out) override { ref_.timed_out(out); }
  void shutting_down(actions& out) override { ref_.shutting_down(out); }
  [[nodiscard]] std::size_t buffered() const override { return ref_.buffered(); }
  [[nodiscard]] bool busy() const override { return ref_.busy(); }
  [[nodiscard]] input_progress progress() const override { return ref_.progress(); }

 private:
  server_config cfg_;
  event_log events_;  // disabled: nothing is built or written
  std::unique_ptr<message_store> store_;
  session_env env_;
  reference_server ref_;
};

}  // namespace

std::unique_ptr<behaviour> make_reference_behaviour(const server_config& cfg) {
  return std::make_unique<standalone_reference>(cfg);
}

}  // namespace smtpkit::mock
