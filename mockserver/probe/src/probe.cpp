// probe.cpp — loading scenario suites and running them against a server
// (smtpkit/mock/probe/probe.hpp): the values scenarios may use, one instance per
// relay domain, verdicts from expectations and the findings of @checks.
#include "smtpkit/mock/probe/probe.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <filesystem>
#include <map>
#include <set>

#include "smtpkit/mock/common/base64.hpp"
#include "smtpkit/ascii.hpp"

namespace smtpkit::mock {
namespace {

namespace fs = std::filesystem;
using conformance::outcome;

bool uses(const script& s, std::string_view name) {
  std::string token;
  token.reserve(name.size() + 2);
  token.append(1, '{').append(name).append(1, '}');
  if (const auto* d = s.dialogue_for(1))
    for (const auto& st : *d)
      if (st.kind == op::send && st.bytes.find(token) != std::string::npos) return true;
  return false;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = smtpkit::to_lower_ascii(ch);
  return s;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

void check_meta(scenario& sc, side judged, std::vector<std::string>& errors, std::set<std::string>& ids) {
  const auto& m = sc.s.meta;
  auto bad = [&](std::string what) { errors.push_back(sc.file + ": " + what); };
  if (m.id.empty()) bad("no @scenario ID");
  if (m.title.empty()) bad("no @title");
  if (m.group.empty()) bad("no @group");
  if (!m.id.empty() && !ids.insert(m.id).second) bad("@scenario " + m.id + " is used by another file too");
  if (judged == side::server) {
    if (sc.s.dialogue_for(1) == nullptr) bad("no dialogue");
    if (!sc.s.rules.empty()) bad("@rule blocks are for scripts served to clients, not server scenarios");
    const bool client_only =
        m.has_message || !m.client.empty() || !m.serve.empty() || !m.forbid.empty() || !m.expect.empty();
    if (client_only) bad("@message, @client, @serve, @forbid and @expect are for client scenarios (probe client)");
  }
  // The scenario's level: @level, else the strictest of its rules.
  std::optional<conformance::level> lvl;
  std::string rfc = m.rfc;
  for (const auto& id : m.checks) {
    int i = conformance::find_rule(id);
    if (i < 0) {
      bad("@checks " + id + ": no such rule (see `smtpkit rules`)");
      continue;
    }
    const auto& r = conformance::catalogue()[static_cast<std::size_t>(i)];
    if (r.binds != judged)
      bad("@checks " + id +
          (judged == side::server ? ": a client rule; server scenarios judge the server"
                                  : ": a server rule; client scenarios judge the client"));
    if (r.lvl != conformance::level::advice && (!lvl || static_cast<int>(r.lvl) < static_cast<int>(*lvl))) lvl = r.lvl;
    if (m.rfc.empty() && rfc.find(r.rfc) == std::string::npos) {
      if (!rfc.empty()) rfc += ", ";
      rfc += r.rfc;
    }
  }
  if (!m.level.empty()) conformance::level_from_string(m.level, sc.level);
  else if (lvl) sc.level = *lvl;
  else bad("neither @level nor @checks: say how much a failure weighs");
  sc.rfc = rfc;
}

}  // namespace

suite load_suite(const std::vector<std::string>& paths, side judged) {
  suite out;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".smtp") found.push_back(e.path().string());
      if (found.empty()) out.errors.push_back(p + ": no *.smtp scenario files");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      out.errors.push_back(p + ": no such file or folder");
    }
  }
  std::set<std::string> ids;
  for (const auto& f : files) {
    auto r = load_script_file(f, judged == side::server ? side::client : side::server);
    if (auto* e = std::get_if<script_error>(&r)) {
      out.errors.push_back(e->to_string());
      continue;
    }
    scenario sc;
    sc.file = f;
    sc.s = std::move(std::get<script>(r));
    check_meta(sc, judged, out.errors, ids);
    out.scenarios.push_back(std::move(sc));
  }
  // Folder by folder, then by ID ("basics.ehlo" before "basics.ehlo-...").
  std::stable_sort(out.scenarios.begin(), out.scenarios.end(), [](const scenario& a, const scenario& b) {
    auto da = fs::path(a.file).parent_path(), db = fs::path(b.file).parent_path();
    if (da != db) return da < db;
    return a.s.meta.id < b.s.meta.id;
  });
  return out;
}

bool selected(const scenario& sc, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  const auto& m = sc.s.meta;
  for (const auto& o : only) {
    if (smtpkit::iequals(o, m.group) || o == m.id) return true;
    if (m.id.size() > o.size() && m.id.compare(0, o.size(), o) == 0 && m.id[o.size()] == '.') return true;
  }
  return false;
}

namespace {

scenario_result judge(const scenario& sc, driver_result run, const std::string& instance,
                      const conformance::policy& policy) {
  scenario_result r;
  const auto& m = sc.s.meta;
  r.group = m.group;
  auto& c = r.verdict;
  c.kind = conformance::case_kind::scenario;
  c.id = m.id + instance;
  c.title = m.title;
  c.classname = "smtpkit.probe." + lower(m.group);
  c.file = sc.file;
  c.rfc = sc.rfc;
  c.checks = m.checks;
  c.lvl = sc.level;
  switch (run.status) {
    case run_status::error: c.played = outcome::error; break;
    case run_status::not_applicable: c.played = outcome::not_applicable; break;
    case run_status::failed: c.played = outcome::fail; break;
    case run_status::completed: c.played = outcome::pass; break;
  }
  c.played_reason = run.reason;
  for (const auto& e : run.expectations)
    if (!e.ok) c.mismatches.push_back({e.line, e.expected, e.received});
  if (const auto& sm = run.smuggle)
    c.eod = conformance::eod_result{sm->variant, std::string(to_string(sm->outcome)), sm->codes, sm->detail};
  for (std::size_t i = 0; i < run.report.findings.size(); ++i)
    if (std::find(m.checks.begin(), m.checks.end(), run.report.findings[i].r().id) != m.checks.end())
      c.findings.push_back(i);
  c.tls = run.tls;
  c.elapsed = run.elapsed;
  conformance::apply(policy, run.report);
  conformance::apply(policy, c, run.report);
  r.run = std::move(run);
  return r;
}

}  // namespace

probe_result run_probe(const suite& su, const probe_options& o) {
  probe_result rep;
  rep.target = o.base.target.describe();
  const auto started = std::chrono::steady_clock::now();

  captures base_vars{{"helo", o.base.helo}, {"from", o.from}};
  const std::string rcpt = o.rcpts.empty() ? std::string("rcpt@example.test") : o.rcpts.front();
  base_vars.emplace_back("rcpt", rcpt);
  base_vars.emplace_back("rcpt2", o.rcpts.size() > 1 ? o.rcpts[1] : rcpt);
  base_vars.emplace_back("rcpt_domain", domain_of(rcpt));
  std::vector<std::pair<std::string, std::string>> unavailable;
  if (o.auth) {
    const auto& [user, pass] = *o.auth;
    base_vars.emplace_back("auth_user", user);
    base_vars.emplace_back("auth_pass", pass);
    base_vars.emplace_back("auth_plain", base64_encode(std::string(1, '\0') + user + std::string(1, '\0') + pass));
    base_vars.emplace_back("auth_user_b64", base64_encode(user));
    base_vars.emplace_back("auth_pass_b64", base64_encode(pass));
  } else {
    for (const char* n : {"auth_user", "auth_pass", "auth_plain", "auth_user_b64", "auth_pass_b64"})
      unavailable.emplace_back(n, "needs credentials: --auth USER:PASSWORD");
  }

  // Every (scenario, relay domain) to run, in suite order.
  struct task {
    const scenario* sc;
    std::string relay;
  };
  std::vector<task> tasks;
  for (const auto& sc : su.scenarios) {
    if (!selected(sc, o.only)) continue;
    if (uses(sc.s, "relay")) {
      for (const auto& d : o.relay_domains) tasks.push_back({&sc, d});
    } else {
      tasks.push_back({&sc, {}});
    }
  }
  std::vector<std::optional<scenario_result>> results(tasks.size());
  std::mutex mu;
  auto run_one = [&](std::size_t k) {
    const task& t = tasks[k];
    const std::string suffix = t.relay.empty() ? std::string() : "[" + t.relay + "]";
    driver_options d = o.base;
    d.variables = base_vars;
    d.variables.emplace_back("scenario", t.sc->s.meta.id);
    if (!t.relay.empty()) d.variables.emplace_back("relay", t.relay);
    d.unavailable = unavailable;
    d.source = t.sc->s.meta.id + suffix;
    scenario_result r = judge(*t.sc, play(t.sc->s, d), suffix, o.policy);
    std::lock_guard<std::mutex> lock(mu);
    results[k] = std::move(r);
    if (o.on_result) o.on_result(*results[k]);
  };
  // The first scenario alone: a target that cannot be reached stops the
  // suite at once instead of failing every scenario by its timeout.
  if (!tasks.empty()) {
    run_one(0);
    if (!results[0]->run.connected) {
      rep.unreachable = true;
      rep.unreachable_reason = results[0]->run.reason;
    }
  }
  if (!rep.unreachable && tasks.size() > 1) {
    std::atomic<std::size_t> next{1};
    auto worker = [&] {
      for (std::size_t k = next++; k < tasks.size(); k = next++) run_one(k);
    };
    const std::size_t n = std::clamp<std::size_t>(o.jobs, 1, 64);
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < n && i < tasks.size() - 1; ++i) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
  }
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    if (!results[k]) {
      const std::string suffix = tasks[k].relay.empty() ? std::string() : "[" + tasks[k].relay + "]";
      driver_result none;
      none.status = run_status::error;
      none.reason = "not run: " + rep.unreachable_reason;
      results[k] = judge(*tasks[k].sc, std::move(none), suffix, o.policy);
    }
    const auto& run = results[k]->run;
    if (rep.greeting.empty() && !run.greeting.empty()) rep.greeting = run.greeting;
    if (rep.ehlo.empty() && !run.ehlo.empty()) rep.ehlo = run.ehlo;
    if (rep.tls.empty() && !run.tls.empty()) rep.tls = run.tls;
    rep.results.push_back(std::move(*results[k]));
  }
  rep.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return rep;
}

}  // namespace smtpkit::mock
