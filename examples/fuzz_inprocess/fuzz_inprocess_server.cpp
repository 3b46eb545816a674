// examples/fuzz_inprocess/fuzz_inprocess_server.cpp — a structure-aware,
// oracle-checked libFuzzer harness for an SMTP server, in process: here
// smtpkit's own reference ESMTP server (what `smtpkit serve` runs), fed
// through its socket-free behaviour interface. Copy it and put your server
// behind the three functions of server_session (docs/fuzzing.md,
// "In-process: the mutator and the oracle under libFuzzer").
//
// What SMTPKIT_FUZZ_SERVER gives: inputs are dialogues (the client side of
// a session as transcript text, so recorded sessions are seeds and crash
// files are dialogues), mutated by smtpkit's grammar mutator; each is played
// to a fresh session and both directions go through the conformance engine;
// a MUST violation (a 250 to RCPT without MAIL, to a malformed path, an end
// of data at a bare LF...) or a reply owed when the client closed aborts,
// printing the rule, its RFC section and the dialogue.
//
// Build: the `fuzz` preset (`cmake --build --preset fuzz --target
// fuzz_inprocess_server`); seeds in corpus/inprocess_server/. Without
// libFuzzer it runs over its seeds as the ctest fuzz_inprocess_server_replay.
// Limits: no TLS in process (the reference server is built without it).
#include <memory>

#include "smtpkit/fuzz/libfuzzer.hpp"
#include "smtpkit/mock/server/standalone.hpp"

namespace {

// The user's part: a session of the server, bytes in, bytes out.
class reference_session final : public smtpkit::fuzz::server_session {
 public:
  reference_session() : server_(smtpkit::mock::make_reference_behaviour(config())) {}
  void greet(std::string& out) override { server_->greet(acts_), take(out); }
  void receive(std::string_view in, std::string& out) override { server_->receive(in, acts_), take(out); }
  void client_closed(std::string&) override { server_->peer_closed(), closed_ = true; }
  [[nodiscard]] bool closed() const override { return closed_; }

 private:
  static smtpkit::mock::server_config config() {
    smtpkit::mock::server_config c;
    c.hostname = "mx.smtpkit.test";  // fully qualified, as RFC 5321 §2.3.5 asks of the greeting
    return c;
  }
  // What the behaviour asked its connection to do: the octets to send up to a close, as a socket session does.
  void take(std::string& out) {
    for (const auto& a : acts_.take()) {
      if (closed_) break;
      if (a.kind == smtpkit::mock::act::write || a.kind == smtpkit::mock::act::throttle) out += a.bytes;
      if (a.kind == smtpkit::mock::act::close || a.kind == smtpkit::mock::act::reset) closed_ = true;
    }
  }
  std::unique_ptr<smtpkit::mock::behaviour> server_;
  smtpkit::mock::actions acts_;
  bool closed_ = false;
};

std::unique_ptr<smtpkit::fuzz::server_session> make_session() { return std::make_unique<reference_session>(); }

}  // namespace

SMTPKIT_FUZZ_SERVER(make_session)
