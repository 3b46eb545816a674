// cli/serve_cmd.cpp — `smtpkit serve`: the mock SMTP server.
#include <algorithm>
#include <iostream>
#include <tuple>

#include "smtpkit/mock/relay/relay.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/mock/server/console.hpp"
#include "smtpkit/mock/server/script_factory.hpp"
#include "smtpkit/mock/server/server.hpp"
#include "smtpkit/mock/view/view.hpp"
#include "report_io.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct serve_args {
  std::vector<std::string> listen;
  std::vector<std::string> tls_listen;
  std::vector<std::string> users;
  std::vector<std::string> no_ext;
  std::vector<std::string> scripts;
  bool strict_data = false;
  std::vector<std::string> data_ignore;
  std::string http;
  std::string pop3;
  std::string fail_on;
  policy_flags policy;
  bool no_check = false;
  bool quiet = false;
  int verbose = 0;
  std::size_t idle = 300, total = 3600, grace = 10, line_deadline = 60;
  std::vector<std::string> routes;
  std::string routes_file;
  std::vector<std::string> local_domains;
  double relay_retry = 1.0;
  mock::relay::relay_options relay;
  mock::server_config cfg;
};

int run_serve(serve_args& a) {
  auto& cfg = a.cfg;
  for (const auto& [flag, list, tls] :
       {std::tuple{"--listen", &a.listen, false}, std::tuple{"--tls-listen", &a.tls_listen, true}})
    for (const auto& l : *list) {
      mock::listen_spec spec;
      std::string why;
      if (!mock::parse_endpoint(l, {"127.0.0.1", true}, spec.host, spec.port, why)) {
        std::cerr << "smtpkit serve: " << flag << " " << l << ": " << why << "\n";
        return exit_usage;
      }
      spec.implicit_tls = tls;
      cfg.listens.push_back(spec);
    }
  for (const auto& u : a.users) {
    auto colon = u.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "smtpkit serve: --user " << u << ": expected NAME:PASSWORD\n";
      return exit_usage;
    }
    cfg.users.push_back({u.substr(0, colon), u.substr(colon + 1)});
  }
  for (const auto& e : a.no_ext) {
    auto& x = cfg.ext;
    if (e == "pipelining") x.pipelining = false;
    else if (e == "size") x.size = false;
    else if (e == "8bitmime") x.eightbitmime = false;
    else if (e == "smtputf8") x.smtputf8 = false;
    else if (e == "enhancedstatuscodes") x.enhancedstatuscodes = false;
    else if (e == "dsn") x.dsn = false;
    else if (e == "chunking") x.chunking = false;
    else if (e == "binarymime") x.binarymime = false;
    else if (e == "starttls") x.starttls = false;
    else if (e == "auth") x.auth = false;
  }
  mock::view::view_options web;
  for (const auto& [flag, text, out] :
       {std::tuple{"--http", &a.http, &web.http}, std::tuple{"--pop3", &a.pop3, &web.pop3}}) {
    if (text->empty()) continue;
    mock::listen_spec spec;
    std::string why;
    if (!mock::parse_endpoint(*text, {"127.0.0.1", true}, spec.host, spec.port, why)) {
      std::cerr << "smtpkit serve: " << flag << " " << *text << ": " << why << "\n";
      return exit_usage;
    }
    *out = spec;
  }
  if (!load_policy(a.policy, "smtpkit serve", cfg.policy)) return exit_usage;
  if (!a.fail_on.empty()) {
    conformance::level l;
    conformance::level_from_string(a.fail_on, l);
    cfg.fail_on = l;
  }
  cfg.check_client = !a.no_check;
  cfg.verbosity = a.quiet ? 0 : a.verbose > 0 ? 2 : 1;
  cfg.idle_timeout = std::chrono::seconds(a.idle);
  cfg.session_timeout = std::chrono::seconds(a.total);
  cfg.shutdown_grace = std::chrono::seconds(a.grace);
  cfg.line_deadline = std::chrono::seconds(a.line_deadline);
  for (const auto& n : a.data_ignore) {
    // RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII but ":").
    if (n.empty() || std::any_of(n.begin(), n.end(), [](char c) { return c == ':' || c < 33 || c > 126; })) {
      std::cerr << "smtpkit serve: --data-ignore " << n << ": expected a header field name\n";
      return exit_usage;
    }
  }
  auto& rt = a.relay.routes;
  std::string why;
  for (const auto& r : a.routes)
    if (!rt.add(r, why)) {
      std::cerr << "smtpkit serve: --route " << r << ": " << why << "\n";
      return exit_usage;
    }
  if (!a.routes_file.empty() && !rt.load(a.routes_file, why)) {
    std::cerr << "smtpkit serve: --routes: " << why << "\n";
    return exit_usage;
  }
  for (const auto& d : a.local_domains)
    if (!rt.add_local(d, why)) {
      std::cerr << "smtpkit serve: --local-domain " << d << ": " << why << "\n";
      return exit_usage;
    }
  if (!rt.empty() && cfg.discard) {
    std::cerr << "smtpkit serve: --route needs the messages: it cannot relay with --discard\n";
    return exit_usage;
  }
  if (a.relay_retry <= 0 || a.relay_retry > 86400 || a.relay.max_attempts < 1) {
    std::cerr << "smtpkit serve: --relay-retry takes seconds above 0, --relay-attempts at least 1\n";
    return exit_usage;
  }
  a.relay.first_retry = std::chrono::milliseconds(static_cast<long>(a.relay_retry * 1000));
  // Every script is loaded and checked before anything listens: a typo must
  // not leave a half-working server behind.
  std::vector<mock::script> scripts;
  for (const auto& path : a.scripts) {
    auto r = mock::load_script_file(path, side::server);
    if (auto* e = std::get_if<mock::script_error>(&r)) {
      std::cerr << e->to_string() << "\n";
      return exit_usage;
    }
    auto& s = std::get<mock::script>(r);
    s.strict_data = s.strict_data || a.strict_data;
    s.data_ignore.insert(s.data_ignore.end(), a.data_ignore.begin(), a.data_ignore.end());
    scripts.push_back(std::move(s));
  }
  try {
    const bool scripted = !scripts.empty();
    const bool viewed = web.http || web.pop3;
    // With the web view, scripts can also be set while the server runs.
    std::shared_ptr<mock::view::runtime_scripts> live;
    mock::server::behaviour_factory factory;
    if (viewed) {
      live = std::make_shared<mock::view::runtime_scripts>(std::move(scripts));
      factory = live->factory();
    } else if (scripted) {
      factory = mock::script_factory(std::move(scripts));
    }
    mock::server srv(cfg, std::move(factory));
    std::unique_ptr<mock::view::view> view;
    if (viewed) view = std::make_unique<mock::view::view>(srv, web, live);
    mock::console out(srv);
    std::unique_ptr<mock::relay::relay_agent> relay;
    if (!rt.empty()) relay = std::make_unique<mock::relay::relay_agent>(srv, std::move(a.relay));
    // A script's own findings (script.mismatch) travel as events only.
    if (scripted) srv.follow_events(true);
    int status = srv.run();
    out.finish(status);
    return status;
  } catch (const mock::setup_error& e) {
    std::cerr << "smtpkit serve: " << e.what() << "\n";
    return exit_usage;
  }
}

}  // namespace

void add_serve(CLI::App& app, runner& run) {
  auto a = std::make_shared<serve_args>();
  auto* sub = app.add_subcommand("serve", "Run the mock SMTP server: stores mail, checks each client live");
  sub->footer(
      "Listens on 127.0.0.1:2525 unless told; port 0 picks a free port (printed on stderr and in the\n"
      "'listening' event). Events (--events) are JSON lines, schema in docs/serve.md.\n"
      "SIGINT/SIGTERM: stop accepting, let messages in progress finish (--shutdown-grace), exit 0 —\n"
      "or 1 with --fail-on must|should when a client broke a rule of that level. Setup errors exit 2.");
  auto& c = a->cfg;
  sub->add_option("--listen", a->listen, "HOST:PORT to listen on (repeatable; port 0: any free port)");
  sub->add_option("--tls-listen", a->tls_listen, "HOST:PORT for implicit TLS, RFC 8314 (repeatable)");
  sub->add_option("--hostname", c.hostname, "Name in the greeting and EHLO reply")->capture_default_str();
  sub->add_option(
      "--maildir", c.maildir,
      "Store accepted messages in this Maildir (envelopes in DIR/envelopes.jsonl; default: a fresh folder under "
      "$TMPDIR, named at start)");
  sub->add_flag("--discard", c.discard, "Accept and forget messages (no storage)");
  sub->add_flag("--durable", c.durable,
                "Message, envelope and new/ on disk before the 250 (group commit: one sync per turn of the loop)");
  sub->add_option("--events", c.events, "Write JSON-lines events to FILE ('-': standard output)");
  sub->add_option("--transcripts", c.transcripts,
                  "Write one transcript per session to this folder, as RUN-sNNNNNN.smtp "
                  "(RUN: the UTC time the run started; no earlier file is ever replaced)");
  sub->add_option("--tls-cert", c.tls_cert, "PEM certificate (default: self-signed, made at start)");
  sub->add_option("--tls-key", c.tls_key, "PEM private key");
  sub->add_option("--script", a->scripts,
                  "Play this script (docs/dialogue-format.md) over the reference server (repeatable)");
  sub->add_flag("--strict-data", a->strict_data,
                "Scripts compare a message octet for octet, and SIZE too (default: not the Date, Message-ID, "
                "boundaries and other fields clients generate)");
  sub->add_option("--data-ignore", a->data_ignore,
                  "A header field scripts do not compare in a message, besides the generated ones (repeatable)");
  sub->add_option("--http", a->http,
                  "HOST:PORT of the web view, Mailpit's REST API and smtpkit's (e.g. 127.0.0.1:8025; port 0: any free "
                  "port; docs/serve.md)");
  sub->add_option("--pop3", a->pop3, "HOST:PORT to serve the Maildir over POP3 (RFC 1939; --user accounts)");
  sub->add_option("--user", a->users, "NAME:PASSWORD accepted by AUTH (repeatable; none: accept any)");
  sub->add_flag("--auth-required", c.auth_required, "Refuse MAIL (530) until the client authenticated");
  sub->add_option("--auth-mechanisms", c.auth_mechanisms, "SASL mechanisms to offer")
      ->delimiter(',')
      ->check(CLI::IsMember({"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}));
  sub->add_option("--no", a->no_ext, "Turn an extension off (repeatable)")
      ->delimiter(',')
      ->check(CLI::IsMember({"pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "dsn", "chunking",
                             "binarymime", "starttls", "auth"}));
  for (const char* ext : {"pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "dsn", "chunking",
                          "binarymime", "starttls", "auth"}) {
    std::string name = std::string("--no-") + ext;
    std::string e = ext;
    sub->add_flag_callback(
        name, [a, e] { a->no_ext.push_back(e); }, "Do not offer " + e);
  }
  sub->add_option("--max-size", c.max_size, "Largest message accepted, advertised as SIZE (octets)")
      ->capture_default_str();
  sub->add_option("--max-recipients", c.max_recipients, "Recipients per message (452 beyond)")->capture_default_str();
  sub->add_option("--max-sessions", c.max_sessions, "Sessions at once (421 beyond)")->capture_default_str();
  sub->add_option("--max-line", c.max_line, "Longest command line accepted (500 beyond)")->capture_default_str();
  sub->add_option("--max-errors", c.max_errors, "Error replies before 421 and close")->capture_default_str();
  sub->add_option("--idle-timeout", a->idle, "Seconds without input before 421 and close")->capture_default_str();
  sub->add_option("--session-timeout", a->total, "Seconds a session may last")->capture_default_str();
  sub->add_option("--line-deadline", a->line_deadline,
                  "Seconds a command line or TLS handshake may take from its first octet, and message data "
                  "beyond what --min-data-rate earns (0: off)")
      ->capture_default_str();
  sub->add_option("--min-data-rate", c.min_data_rate,
                  "Octets per second message data must average: each earns its share of a second beyond "
                  "--line-deadline, up to --max-size (0: no minimum)")
      ->capture_default_str();
  sub->add_option("--shutdown-grace", a->grace, "Seconds a message in progress (DATA or BDAT) gets on SIGTERM")
      ->capture_default_str();
  sub->add_flag("--lenient-bare-lf", c.lenient_bare_lf,
                "Take a bare LF as the end of a command line (like many servers)");
  sub->add_option("--fail-on", a->fail_on, "Exit 1 when a client broke a rule at this level")
      ->check(CLI::IsMember({"must", "should"}));
  sub->add_flag("--no-check", a->no_check, "Do not run the conformance engine on clients");
  sub->add_flag("-q,--quiet", a->quiet, "Say nothing on stderr but errors and why --fail-on fails");
  sub->add_flag("-v,--verbose", a->verbose, "Also show each session's opening, dialogue and close on stderr");
  sub->add_option("--route", a->routes,
                  "DOMAIN=HOST:PORT[,HOST:PORT...]: relay accepted mail for DOMAIN (.DOMAIN: its subdomains; *: "
                  "every other) to these next hops, in order (repeatable; docs/serve.md, \"Relaying\")");
  sub->add_option("--routes", a->routes_file,
                  "A routes file: lines DOMAIN PREFERENCE HOST:PORT, or DOMAIN local (lowest preference first)");
  sub->add_option("--local-domain", a->local_domains,
                  "Mail for this domain is stored here, never relayed, even by a * route (repeatable)");
  sub->add_option("--relay-attempts", a->relay.max_attempts,
                  "Delivery attempts per recipient before a 4xx becomes a bounce")
      ->capture_default_str();
  sub->add_option("--relay-retry", a->relay_retry, "Seconds before the first retry (doubling after each)")
      ->capture_default_str();
  sub->add_option("--max-hops", a->relay.max_hops,
                  "Received lines above which relayed mail is a loop and returned (RFC 5321 §6.3)")
      ->capture_default_str();
  add_policy_flags(sub, a->policy);
  sub->callback([a, &run] { run = [a] { return run_serve(*a); }; });
}

}  // namespace smtpkit::cli
