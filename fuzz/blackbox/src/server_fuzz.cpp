// server_fuzz.cpp — the fuzzing loop of `smtpkit fuzz server`: corpus,
// workers, feedback, deduplication, minimisation and the files it leaves
// (smtpkit/fuzz/server_fuzz.hpp).
//
// Folder layout (one file per input, so corpora of several machines merge
// by copying files together):
//   DIR/corpus/ID.smtp       inputs that reached a new state (their live dialogue)
//   DIR/crashes/ID.smtp      minimised reproducers, "# finding: ..." first
//   DIR/hangs/ID.smtp
//   DIR/violations/ID.smtp
//   DIR/stats.json           the run's figures (stats_json)
// DIR/corpus/ is read back as seeds when a run starts, and re-read while it
// runs, so workers of other processes on the same folder share inputs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "fuzz_loop.hpp"
#include "run_files.hpp"
#include "smtpkit/conformance/check.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"
#include "smtpkit/mock/client/connection.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// Every transcript file under a path (a file, or a folder walked in name order).
std::vector<fs::path> transcript_files(const std::string& where) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_regular_file(where, ec)) {
    out.emplace_back(where);
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(where, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".smtp") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<dialogue> load_dialogue(const fs::path& p) {
  read_options ro;
  ro.patterns = true;
  ro.extensions = true;
  auto r = read_transcript_file(p.string(), ro);
  if (!r.ok()) return std::nullopt;
  dialogue d = from_transcript(*r.value);
  if (d.writes.empty()) return std::nullopt;
  return d;
}

struct entry {
  dialogue d;
  std::string name;
};

class fuzzer final : public fuzz_loop {
 public:
  explicit fuzzer(const fuzz_options& o) : fuzz_loop(limits_of(o, "states")), o_(o), session_(o.session) {
    session_.latency = &latency_;
    session_.framing = &framing_;
  }

  bool setup(std::string& error) {
    if (!make_folders(error)) return false;
    for (const auto& s : o_.seeds) {
      std::error_code ec;
      if (!fs::exists(s, ec)) {
        error = "seeds " + s + ": no such file or folder";
        return false;
      }
      for (const auto& f : transcript_files(s)) {
        if (auto d = load_dialogue(f)) corpus_.push_back({std::move(*d), f.string()}), ++stats_.seeds;
      }
    }
    sync_corpus_folder();
    if (corpus_.empty()) {
      error = "no seed dialogue with a client record in the seeds given";
      return false;
    }
    return true;
  }

 private:
  std::size_t corpus_size() const override { return corpus_.size(); }
  std::size_t feature_count() const override { return features_.size(); }
  void sync() override { sync_corpus_folder(); }

  // Inputs other processes left in DIR/corpus/ join this run's corpus.
  void sync_corpus_folder() {
    for (const auto& f : transcript_files((fs::path(o_.out_dir) / "corpus").string())) {
      const std::string name = f.filename().string();
      if (!known_files_.insert(name).second) continue;
      if (auto d = load_dialogue(f)) corpus_.push_back({std::move(*d), f.string()});
    }
  }

  // Brings a dead TCP target back with --restart; false when there is no
  // --restart or it does not come back within 30 s.
  bool restart(std::uint64_t seen_generation) {
    std::lock_guard lock(restart_m_);
    if (generation_ != seen_generation) return true;  // another worker did it
    if (o_.restart.empty() || !o_.session.target.command.empty()) return false;
    int rc = std::system(o_.restart.c_str());
    (void)rc;
    const auto until = steady::now() + std::chrono::seconds(30);
    while (steady::now() < until && !stopping()) {
      std::string err;
      auto c = mock::detail::client_conn::dial(o_.session.target.host, o_.session.target.port,
                                               steady::now() + std::chrono::seconds(2), err);
      if (c) {
        std::string g;
        (void)c->read_some(g, 4096, steady::now() + std::chrono::seconds(2));
        c->abort();
        if (!g.empty()) {
          ++generation_;
          std::lock_guard l2(m_);
          ++stats_.restarts;
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // One session; a TCP target found dead is restarted (and the session
  // tried again once). nullopt: no session could be made.
  std::optional<session_result> attempt(const dialogue& d) { return attempt(d, session_); }
  std::optional<session_result> attempt(const dialogue& d, const session_options& so) {
    for (int tries = 0; tries < 3 && !stopping(); ++tries) {
      const std::uint64_t gen = generation_;
      session_result r = run_session(d, so);
      sessions_.fetch_add(1);
      if (r.connected && !r.crashed && r.closed_unasked && generation_ != gen) {
        // The server hung up unasked and another worker found it dead and
        // restarted it meanwhile (so this session's liveness check passed):
        // it died in this session.
        r.crashed = true;
        r.crash_signature = "target lost (stopped answering after this session)";
        r.crash_detail = "restarted by another worker meanwhile";
        r.violations.clear();
        r.violation_keys.clear();
      }
      if (r.stalled) stalled_.fetch_add(1);
      if (r.connected) return r;
      errors_.fetch_add(1);
      if (!o_.session.target.command.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      if (!restart(gen)) {
        std::lock_guard lock(m_);
        stats_.target_lost = true;
        if (stats_.stopped_by.empty()) stats_.stopped_by = "target lost: " + r.error;
        done_ = true;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::vector<verdict> verdicts_of(const session_result& r) const {
    std::vector<verdict> v;
    if (r.crashed) v.push_back({oracle::crash, "crash " + r.crash_signature, "crash: " + r.crash_signature, "", {}});
    if (r.hung && o_.session.fail_on != fail_level::crash) {
      std::string verb = r.hang_at.substr(0, r.hang_at.find(' '));
      std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::toupper(c); });
      if (verb.size() > 12) verb.resize(12);
      // By the command left unanswered: a hang on one command is one
      // finding whatever led there.
      v.push_back(
          {oracle::hang, "hang " + verb, "hang: no reply to " + r.hang_at + " (in " + r.hang_state + ")", "", {}});
    }
    for (std::size_t i = 0; i < r.violations.size(); ++i) {
      const auto& f = r.violations[i];
      v.push_back({oracle::violation, "violation " + r.violation_keys[i],
                   "violation " + f.r().id + ": " + f.message + " (" + f.r().rfc + ")", f.r().id, f.r().lvl});
    }
    return v;
  }

  // Writes first, then lines, then octets: the smallest dialogue that still
  // gives `key`, within the time budget.
  dialogue minimise(dialogue d, const std::string& key, oracle kind) {
    const auto until = steady::now() + o_.minimise_time;
    // A hang costs the hang timeout each time it is seen: candidates are
    // tried with a third of it (the result is checked with all of it).
    session_options so = session_;
    if (kind == oracle::hang) so.hang_timeout = std::max(std::chrono::milliseconds(500), so.hang_timeout / 3);
    auto still = [&](const dialogue& c) {
      if (c.writes.empty() || steady::now() >= until || stopping()) return false;
      auto r = attempt(c, so);
      if (!r) return false;
      for (const auto& v : verdicts_of(*r))
        if (v.key == key) return true;
      return false;
    };
    // No pauses: quicker to replay, and rarely what matters.
    {
      dialogue c = d;
      bool any = false;
      for (auto& w : c.writes) any |= std::exchange(w.pause_ms, 0u) != 0;
      if (any && still(c)) d = std::move(c);
    }
    // Writes: chunks of halving size, from the end (the trigger is often last).
    for (std::size_t chunk = std::max<std::size_t>(1, d.writes.size() / 2); chunk >= 1; chunk /= 2) {
      for (std::size_t end = d.writes.size(); end > 0 && d.writes.size() > 1;) {
        std::size_t begin = end >= chunk ? end - chunk : 0;
        dialogue c = d;
        c.writes.erase(c.writes.begin() + static_cast<std::ptrdiff_t>(begin),
                       c.writes.begin() + static_cast<std::ptrdiff_t>(end));
        if (still(c)) d = std::move(c);
        end = begin;
        if (steady::now() >= until) return d;
      }
      if (chunk == 1) break;
    }
    // Lines within a write.
    for (std::size_t i = 0; i < d.writes.size(); ++i) {
      for (;;) {
        const std::string& b = d.writes[i].bytes;
        std::vector<std::size_t> starts{0};
        for (std::size_t p = 0; p + 1 < b.size(); ++p)
          if (b[p] == '\n') starts.push_back(p + 1);
        if (starts.size() < 2) break;
        bool cut = false;
        for (std::size_t k = starts.size(); k-- > 0;) {
          const std::size_t from = starts[k], to = k + 1 < starts.size() ? starts[k + 1] : b.size();
          dialogue c = d;
          c.writes[i].bytes.erase(from, to - from);
          if (still(c)) {
            d = std::move(c);
            cut = true;
            break;
          }
          if (steady::now() >= until) return d;
        }
        if (!cut) break;
      }
    }
    // Octets: blocks of halving size, never the line ends.
    for (std::size_t i = 0; i < d.writes.size(); ++i) {
      for (std::size_t block = std::max<std::size_t>(1, d.writes[i].bytes.size() / 2); block >= 1; block /= 2) {
        for (std::size_t at = 0; at < d.writes[i].bytes.size();) {
          const std::string& b = d.writes[i].bytes;
          std::size_t len = std::min(block, b.size() - at);
          if (b.substr(at, len).find_first_of("\r\n") != std::string::npos || len == b.size()) {
            at += len;
            continue;
          }
          dialogue c = d;
          c.writes[i].bytes.erase(at, len);
          if (still(c)) d = std::move(c);
          else at += len;
          if (steady::now() >= until) return d;
        }
        if (block == 1) break;
      }
    }
    return d;
  }

  // Plays `d` up to `times` times; the dialogue of the first run that gives
  // `key`, or nullopt.
  std::optional<std::string> reproduce(const dialogue& d, const std::string& key, int times) {
    for (int i = 0; i < times && !stopping(); ++i) {
      auto r = attempt(d);
      if (!r) return std::nullopt;
      for (const auto& w : verdicts_of(*r))
        if (w.key == key) return r->transcript;
    }
    return std::nullopt;
  }

  void record(const verdict& v, const dialogue& input, const std::string& first_transcript, std::uint64_t session_no) {
    if (!claim(v.key)) return;
    const double at_s = elapsed_s();
    // Seen once; a finding is what happens again. One that does not is kept
    // apart (DIR/flaky/) and does not count: it may rest on timing.
    dialogue d = input;
    std::string text;
    bool flaky = false;
    std::string how = "played again after minimising, same finding";
    if (stopping()) {
      text = first_transcript;
      how = "as seen, not played again (the run was ending)";
    } else if (!reproduce(input, v.key, 3)) {
      flaky = !stopping();
      text = first_transcript;
      how = flaky ? "NOT seen again in 3 more runs (timing or load; not counted as a finding)"
                  : "as seen, not played again (the run was ending)";
    } else {
      if (o_.minimise) d = minimise(input, v.key, v.kind);
      else how = "played again, same finding";
      // The reproducer's own dialogue: the minimised one played once more.
      auto again = reproduce(d, v.key, 2);
      if (!again) {
        d = input;  // minimised on a lucky run: keep what was seen
        again = first_transcript;
        how = "seen again before minimising, not after: the dialogue as first seen";
      }
      text = *again;
    }
    const fs::path file = reproducer_path(v, flaky);
    std::ostringstream head;
    head << "# finding: " << (v.kind == oracle::violation ? v.rule : v.title) << "\n";
    head << "# oracle: " << to_string(v.kind) << "\n";
    head << "# what: " << escape(v.title) << "\n";
    head << "# target: " << o_.session.target.describe() << "\n";
    head << "# found: session " << session_no << ", " << static_cast<long>(at_s) << " s into the run; " << how << "\n";
    head << "# replay: smtpkit replay FILE "
         << (o_.session.target.command.empty()
                 ? "--target " + o_.session.target.host + ":" + std::to_string(o_.session.target.port)
                 : "--exec '" + o_.session.target.command + "'")
         << "\n";
    (void)write_file(file, head.str() + text);
    found f;
    f.file = file.string();
    f.at_s = at_s;
    f.session = session_no;
    f.octets = d.size();
    f.transcript = head.str() + text;
    keep(v, std::move(f), flaky);
  }

  void work(unsigned job) override {
    std::mt19937_64 rng(o_.seed * 0x9E3779B97F4A7C15ull + job + 1);
    while (!stopping()) {
      dialogue d;
      {
        std::lock_guard lock(m_);
        if (unplayed_ < corpus_.size()) {
          // Every seed is played once as it is first: its states are the
          // baseline, and a seed may already trigger something.
          d = corpus_[unplayed_++].d;
        } else {
          // Newer inputs (deeper, usually) are picked more often, and of
          // two candidates the shorter: sessions are the fuzzer's time.
          const std::size_t n = corpus_.size();
          auto candidate = [&] {
            return n > 8 && rng() % 2 == 0 ? n - 1 - rng() % std::max<std::size_t>(1, n / 4) : rng() % n;
          };
          std::size_t pick = candidate();
          if (const std::size_t other = candidate(); corpus_[other].d.writes.size() < corpus_[pick].d.writes.size())
            pick = other;
          // One time in five a seed: mutants of mutants drift from the
          // grammar, and one field mutated in a well-formed dialogue is
          // what reaches a parser's limits.
          if (stats_.seeds > 0 && rng() % 5 == 0) pick = rng() % std::min(stats_.seeds, n);
          d = corpus_[pick].d;
          const dialogue& donor = corpus_[rng() % n].d;
          mutate(d, &donor, rng, o_.mutator, limits_);
        }
      }
      auto r = attempt(d);
      if (!r) continue;
      const std::uint64_t session_no = sessions_.load();
      bool fresh = false;
      {
        std::lock_guard lock(m_);
        for (auto f : r->features) fresh |= features_.insert(f).second;
        if (fresh) {
          const std::string name = hex64(fnv(d.bytes()) ^ session_no) + ".smtp";
          known_files_.insert(name);
          const fs::path p = fs::path(o_.out_dir) / "corpus" / name;
          defer_write(p, "# input " + std::to_string(session_no) + " of smtpkit fuzz server\n" + r->transcript);
          const bool all_played = unplayed_ == corpus_.size();
          corpus_.push_back({d, p.string()});
          if (all_played) unplayed_ = corpus_.size();  // played just now
        }
      }
      for (const auto& v : verdicts_of(*r)) {
        if (!known(v.key)) record(v, d, r->transcript, session_no);
      }
    }
  }

  const fuzz_options& o_;
  reply_latency latency_;
  framing_profile framing_;
  session_options session_;  // o_.session, with the run's reply latency
  std::vector<entry> corpus_;
  std::size_t unplayed_ = 0;  // seeds before this index have been played unmutated
  // Dialogues stay short enough to play many a second: 128 writes (each a
  // round trip) and 64 KiB, room for 100+ pipelined recipients. A pause is
  // there to make a write a read of its own on the server's side, and over
  // loopback with TCP_NODELAY 1 ms does that; any longer only costs
  // sessions (200 ms ran the fuzzer at a fifth of its speed, 5 ms still
  // spent a third of its time asleep).
  const mutate_limits limits_{64 * 1024, 128, 1};
  std::unordered_set<std::uint64_t> features_;
  std::set<std::string> known_files_;
  std::mutex restart_m_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace

fuzz_stats fuzz_server(const fuzz_options& o, std::string& error) {
  fuzzer f(o);
  if (!f.setup(error)) return {};
  return f.run();
}

run_info describe_run(const fuzz_options& o) {
  run_info r;
  r.tool = "smtpkit fuzz server";
  r.target = o.session.target.describe();
  r.mutator = o.mutator == mutator_kind::grammar ? "grammar" : "bytes";
  r.seed = o.seed;
  r.jobs = o.jobs;
  r.judged = side::server;
  return r;
}

std::string stats_json(const fuzz_stats& s, const run_info& o) {
  nlohmann::ordered_json j;
  j["tool"] = o.tool;
  j["target"] = o.target;
  j["mutator"] = o.mutator;
  j["seed"] = o.seed;
  j["jobs"] = o.jobs;
  j["elapsed_s"] = s.elapsed_s;
  j["sessions"] = s.sessions;
  j["sessions_per_s"] = s.elapsed_s > 0 ? static_cast<double>(s.sessions) / s.elapsed_s : 0.0;
  j["errors"] = s.errors;
  j["stalled"] = s.stalled;
  j["restarts"] = s.restarts;
  j["seeds"] = s.seeds;
  j["corpus"] = s.corpus;
  j["states"] = s.features;
  j["target_lost"] = s.target_lost;
  j["stopped_by"] = s.stopped_by;
  std::size_t n[3] = {0, 0, 0};
  for (const auto& f : s.findings) ++n[static_cast<int>(f.kind)];
  j["crashes"] = n[0];
  j["hangs"] = n[1];
  j["violations"] = n[2];
  auto entry = [](const found& f) {
    nlohmann::ordered_json e;
    e["oracle"] = std::string(to_string(f.kind));
    e["title"] = f.title;
    if (!f.rule.empty()) e["rule"] = f.rule;
    e["file"] = f.file;
    e["found_after_s"] = f.at_s;
    e["session"] = f.session;
    e["octets"] = f.octets;
    return e;
  };
  auto& arr = j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : s.findings) arr.push_back(entry(f));
  auto& fl = j["flaky"] = nlohmann::ordered_json::array();
  for (const auto& f : s.flaky) fl.push_back(entry(f));
  if (o.judged == side::client) j["baseline"] = s.baseline;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

conformance::report fuzz_report(const fuzz_stats& s, const run_info& o) {
  conformance::report rep;
  rep.kind = conformance::report_kind::scenarios;
  rep.tool = o.tool;
  rep.target.name = o.target;
  if (s.target_lost) {
    rep.target.unreachable = true;
    rep.target.unreachable_reason = s.stopped_by;
  }
  rep.elapsed = std::chrono::microseconds(static_cast<long long>(s.elapsed_s * 1e6));
  conformance::report_suite suite;
  suite.name = o.tool.substr(o.tool.find(' ') + 1);
  for (const auto& f : s.findings) {
    conformance::report_case c;
    c.kind = conformance::case_kind::scenario;
    c.id = "fuzz." + std::string(to_string(f.kind)) + "." + hex64(fnv(f.key)).substr(0, 12);
    c.title = f.title;
    c.classname = "smtpkit.fuzz." + std::string(to_string(f.kind));
    c.file = f.file;
    c.result = conformance::outcome::fail;
    c.lvl = c.failed_level = f.lvl;
    c.reason = f.title;
    if (f.kind == oracle::violation) {
      c.checks.push_back(f.rule);
      if (int i = conformance::find_rule(f.rule); i >= 0)
        c.rfc = conformance::catalogue()[static_cast<std::size_t>(i)].rfc;
      read_options ro;
      ro.extensions = true;
      auto t = read_transcript(f.transcript, f.file, ro);
      if (t.ok()) {
        conformance::engine_options eo;
        eo.judge_client = o.judged == side::client;
        eo.judge_server = o.judged == side::server;
        auto d = conformance::check_transcript(*t.value, eo);
        d.source = f.file;
        for (std::size_t i = 0; i < d.findings.size(); ++i)
          if (d.findings[i].r().id == f.rule) c.findings.push_back(i);
        c.dialogue = rep.dialogues.size();
        rep.dialogues.push_back(std::move(d));
      }
    }
    c.notes.push_back("found after " + std::to_string(static_cast<long>(f.at_s)) + " s (session " +
                      std::to_string(f.session) + "); reproducer of " + std::to_string(f.octets) + " client octets");
    suite.cases.push_back(std::move(c));
  }
  if (suite.cases.empty()) {
    conformance::report_case c;
    c.kind = conformance::case_kind::scenario;
    c.id = "fuzz.clean";
    c.title = "no crash, hang or violation at the --fail-on level";
    c.classname = "smtpkit.fuzz";
    c.result = conformance::outcome::pass;
    c.notes.push_back(std::to_string(s.sessions) + " sessions in " + std::to_string(static_cast<long>(s.elapsed_s)) +
                      " s, " + std::to_string(s.features) + " states");
    suite.cases.push_back(std::move(c));
  }
  rep.suites.push_back(std::move(suite));
  return rep;
}

}  // namespace smtpkit::fuzz
