// fuzz_loop.hpp — what the server and client fuzzers share around their
// sessions: the worker threads, the stop conditions (time, sessions,
// Ctrl-C), the progress line, the periodic corpus sync and stats file, and
// the counters they report. A fuzzer derives from it, gives work() (one
// worker's loop), sync() and the sizes of its corpus and feature set.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "run_files.hpp"
#include "smtpkit/fuzz/client_fuzz.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"

namespace smtpkit::fuzz {

struct loop_limits {
  unsigned jobs = 1;
  std::chrono::seconds max_time{0};
  std::uint64_t max_sessions = 0;
  bool progress = false;
  const std::atomic<bool>* stop = nullptr;
  std::string out_dir;
  run_info info;
  const char* features_word = "states";  ///< what the progress line calls the feature count
};

/// The limits as both fuzzers' option structs spell them.
template <class Options>
loop_limits limits_of(const Options& o, const char* features_word) {
  loop_limits l;
  l.jobs = o.jobs;
  l.max_time = o.max_time;
  l.max_sessions = o.max_sessions;
  l.progress = o.progress;
  l.stop = o.stop;
  l.out_dir = o.out_dir;
  l.info = describe_run(o);
  l.features_word = features_word;
  return l;
}

class fuzz_loop {
 public:
  explicit fuzz_loop(loop_limits l) : l_(std::move(l)), start_(std::chrono::steady_clock::now()) {}
  virtual ~fuzz_loop() = default;

  /// Runs the workers until a stop condition; the final stats.
  fuzz_stats run() {
    std::vector<std::thread> workers;
    for (unsigned j = 0; j < std::max(1u, l_.jobs); ++j) workers.emplace_back([this, j] { work(j); });
    auto last_progress = now();
    auto last_sync = now();
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (l_.stop != nullptr && l_.stop->load()) finish("signal");
      if (l_.max_time.count() > 0 && now() - start_ >= l_.max_time) finish("time");
      if (l_.max_sessions != 0 && sessions_.load() >= l_.max_sessions) finish("sessions");
      if (l_.progress && now() - last_progress >= std::chrono::seconds(1)) {
        last_progress = now();
        progress_line(false);
      }
      flush_writes();
      if (now() - last_sync >= std::chrono::seconds(10)) {
        last_sync = now();
        std::lock_guard lock(m_);
        sync();
        write_stats();
      }
    }
    for (auto& w : workers) w.join();
    flush_writes();
    if (l_.progress) progress_line(true);
    std::lock_guard lock(m_);
    write_stats();
    return snapshot();
  }

 protected:
  static std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }

  /// One worker's loop; returns once stopping().
  virtual void work(unsigned job) = 0;
  /// With m_ held, every 10 s: inputs other processes left in DIR/corpus/.
  virtual void sync() {}
  [[nodiscard]] virtual std::size_t corpus_size() const = 0;
  [[nodiscard]] virtual std::size_t feature_count() const = 0;

  void finish(const std::string& why) {
    std::lock_guard lock(m_);
    if (stats_.stopped_by.empty()) stats_.stopped_by = why;
    done_ = true;
  }
  [[nodiscard]] bool stopping() const { return done_ || (l_.stop != nullptr && l_.stop->load()); }
  [[nodiscard]] double elapsed_s() const { return std::chrono::duration<double>(now() - start_).count(); }

  /// The stats so far; with m_ held.
  fuzz_stats snapshot() const {
    fuzz_stats s = stats_;
    s.sessions = sessions_.load();
    s.errors = errors_.load();
    s.stalled = stalled_.load();
    s.elapsed_s = elapsed_s();
    s.corpus = corpus_size();
    s.features = feature_count();
    return s;
  }
  void write_stats() const {
    (void)write_file(std::filesystem::path(l_.out_dir) / "stats.json", stats_json(snapshot(), l_.info));
  }

  void progress_line(bool last) {
    fuzz_stats s;
    {
      std::lock_guard lock(m_);
      s = snapshot();
    }
    std::size_t n[3] = {0, 0, 0};
    for (const auto& f : s.findings) ++n[static_cast<int>(f.kind)];
    std::fprintf(stderr,
                 "\r[%5.0fs] %llu sessions (%.1f/s)  corpus %zu  %s %zu  crashes %zu  hangs %zu  violations %zu%s",
                 s.elapsed_s, static_cast<unsigned long long>(s.sessions),
                 s.elapsed_s > 0 ? static_cast<double>(s.sessions) / s.elapsed_s : 0.0, s.corpus, l_.features_word,
                 s.features, n[0], n[1], n[2], last ? "\n" : "  ");
    std::fflush(stderr);
  }

  /// DIR/corpus/, crashes/, hangs/, violations/, flaky/ and `extra`; false
  /// with `error` said when one cannot be made.
  bool make_folders(std::string& error, const char* extra = nullptr) const {
    for (const char* sub : {"corpus", "crashes", "hangs", "violations", "flaky", extra}) {
      if (sub == nullptr) continue;
      const std::filesystem::path dir = std::filesystem::path(l_.out_dir) / sub;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        error = "cannot make " + dir.string() + ": " + ec.message();
        return false;
      }
    }
    return true;
  }

  /// A corpus file to write: written by the run's own thread within 100 ms,
  /// so that workers never wait on the file system between sessions (an
  /// open and a rename cost more than a session against a fast target).
  void defer_write(std::filesystem::path p, std::string text) {
    std::lock_guard lock(writes_m_);
    writes_.emplace_back(std::move(p), std::move(text));
  }

  /// What a session showed, before it is played again and written.
  struct verdict {
    oracle kind = oracle::crash;
    std::string key;  ///< what deduplicates it
    std::string title;
    std::string rule;
    conformance::level lvl = conformance::level::must;
  };

  /// True when `key` was found (or is being recorded) already.
  [[nodiscard]] bool known(const std::string& key) const {
    std::lock_guard lock(m_);
    return found_keys_.count(key) != 0;
  }
  /// Takes `key` for this worker to record; false when another has it.
  bool claim(const std::string& key) {
    std::lock_guard lock(m_);
    return found_keys_.insert(key).second;
  }

  /// Where a reproducer goes: DIR/crashes/, hangs/, violations/ or flaky/,
  /// named by the oracle and the key's hash.
  [[nodiscard]] std::filesystem::path reproducer_path(const verdict& v, bool flaky) const {
    const char* folder = flaky                     ? "flaky"
                         : v.kind == oracle::crash ? "crashes"
                         : v.kind == oracle::hang  ? "hangs"
                                                   : "violations";
    const std::string id = hex64(fnv(v.key)).substr(0, 12);
    return std::filesystem::path(l_.out_dir) / folder / (std::string(to_string(v.kind)) + "-" + id + ".smtp");
  }

  /// Counts a recorded finding (its reproducer written to f.file), or keeps
  /// it apart when it was not seen again: the key is then free again, up
  /// to three tries (over TCP with several workers the session that saw a
  /// target die may not be the one that killed it; that one must still be
  /// recorded).
  void keep(const verdict& v, found f, bool flaky) {
    f.kind = v.kind;
    f.key = v.key;
    f.title = v.title;
    f.rule = v.rule;
    f.lvl = v.lvl;
    std::lock_guard lock(m_);
    if (flaky) {
      if (++flaky_tries_[v.key] < 3) found_keys_.erase(v.key);
      stats_.flaky.push_back(std::move(f));
      return;
    }
    if (l_.progress) std::fprintf(stderr, "\rfound %s -> %s\n", v.title.c_str(), f.file.c_str());
    stats_.findings.push_back(std::move(f));
  }

  const loop_limits l_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex m_;
  fuzz_stats stats_;
  std::atomic<std::uint64_t> sessions_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> stalled_{0};
  std::atomic<bool> done_{false};

 private:
  void flush_writes() {
    std::vector<std::pair<std::filesystem::path, std::string>> batch;
    {
      std::lock_guard lock(writes_m_);
      batch.swap(writes_);
    }
    for (const auto& [p, text] : batch) (void)write_file(p, text);
  }

  std::mutex writes_m_;
  std::vector<std::pair<std::filesystem::path, std::string>> writes_;
  std::set<std::string> found_keys_;
  std::map<std::string, int> flaky_tries_;
};

}  // namespace smtpkit::fuzz
