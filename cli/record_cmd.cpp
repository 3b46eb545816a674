// cli/record_cmd.cpp — `smtpkit record`: a proxy that writes one transcript
// per session (dialogue format, exact to the byte), with TLS terminated on
// both legs after STARTTLS (RFC 3207) so the dialogue inside is recorded.
// Limits: no implicit TLS (RFC 8314) upstream; see smtpkit/mock/record/recorder.hpp.
#include <iostream>

#include "smtpkit/mock/record/recorder.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct record_args {
  std::string listen;
  std::string upstream;
  std::size_t timing_min_ms = 20;
  std::size_t idle = 300;
  std::size_t connect = 10;
  mock::recorder_config cfg;
};

int run_record(record_args& a) {
  auto& cfg = a.cfg;
  std::string why;
  if (!mock::parse_endpoint(a.listen, {"127.0.0.1", true}, cfg.listen_host, cfg.listen_port, why)) {
    std::cerr << "smtpkit record: --listen " << a.listen << ": " << why << "\n";
    return exit_usage;
  }
  if (!mock::parse_endpoint(a.upstream, {"127.0.0.1", false}, cfg.upstream_host, cfg.upstream_port, why)) {
    std::cerr << "smtpkit record: --upstream " << a.upstream << ": " << why << "\n";
    return exit_usage;
  }
  if (cfg.tls_passthrough && (!cfg.tls_cert.empty() || !cfg.tls_key.empty())) {
    std::cerr
        << "smtpkit record: --tls-passthrough does not terminate TLS; --tls-cert/--tls-key make no sense with it\n";
    return exit_usage;
  }
  cfg.timing_min = std::chrono::milliseconds(a.timing_min_ms);
  cfg.idle_timeout = std::chrono::seconds(a.idle);
  cfg.connect_timeout = std::chrono::seconds(a.connect);
  try {
    mock::recorder rec(cfg);
    return rec.run();
  } catch (const mock::setup_error& e) {
    std::cerr << "smtpkit record: " << e.what() << "\n";
    return exit_usage;
  }
}

}  // namespace

void add_record(CLI::App& app, runner& run) {
  auto a = std::make_shared<record_args>();
  auto* sub = app.add_subcommand("record", "Proxy between a client and a server, writing one transcript per session");
  sub->footer(
      "Every octet is forwarded unchanged, both ways; DIR/RUN-sNNNNNN.smtp gets the session in the dialogue\n"
      "format (docs/dialogue-format.md), exact to the byte. RUN is the UTC time the run started (with -2, -3\n"
      "when a run of that second wrote there): a folder used again keeps every earlier file.\n"
      "After a 220 to STARTTLS, TLS is terminated on both legs and the dialogue inside is recorded after\n"
      "an @tls record (--tls-passthrough: relayed, not recorded). --tls: implicit TLS (RFC 8314, e.g. port\n"
      "465) on both legs, the whole dialogue inside it. --generalize: each transcript made a reusable script.\n"
      "Port 0 picks a free port (printed on stderr and in the 'listening' event).\n"
      "SIGINT/SIGTERM: stop, cut open sessions, write their transcripts, exit 0. Setup errors exit 2.");
  auto& c = a->cfg;
  sub->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0: any free port)")->required();
  sub->add_option("--upstream", a->upstream, "HOST:PORT of the server to record")->required();
  sub->add_option("--out", c.out_dir, "Folder for the transcripts (created if missing)")->required();
  sub->add_flag("--tls", c.implicit_tls,
                "Implicit TLS on both legs (RFC 8314): the client and the server speak TLS at once");
  sub->add_option("--tls-cert", c.tls_cert, "PEM certificate shown to the client in TLS (default: self-signed)");
  sub->add_option("--tls-key", c.tls_key, "PEM private key for --tls-cert");
  sub->add_option("--hostname", c.hostname, "Name in the self-signed certificate")->capture_default_str();
  sub->add_flag("--tls-passthrough", c.tls_passthrough,
                "Relay TLS without terminating it (its content is not recorded)");
  sub->add_flag("--upstream-verify", c.upstream_verify, "Verify the server's certificate and name (system CAs)");
  sub->add_flag("--timing", c.timing, "Write @pause records for the gaps between octets");
  sub->add_flag("--generalize", c.generalize,
                "Make each transcript a reusable script as its session ends: C~ patterns for what a client varies "
                "between runs (as `smtpkit script generalize`), the recorded lines kept as comments");
  sub->add_option("--timing-min", a->timing_min_ms, "Shortest gap written with --timing (ms)")->capture_default_str();
  sub->add_option("--events", c.events, "Write JSON-lines events to FILE ('-': standard output)");
  sub->add_option("--idle-timeout", a->idle, "Seconds without octets before a session is cut")->capture_default_str();
  sub->add_option("--connect-timeout", a->connect, "Seconds to connect to the server")->capture_default_str();
  sub->add_option("--max-sessions", c.max_sessions, "Sessions at once (closed beyond)")->capture_default_str();
  sub->callback([a, &run] { run = [a] { return run_record(*a); }; });
}

}  // namespace smtpkit::cli
