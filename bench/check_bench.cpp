// check_bench.cpp — how fast the conformance engine judges recorded dialogues
// (Google Benchmark): 10,000 sessions, as `smtpkit check` would see a day of
// a CI job's recordings.
//
// The sessions are the recorded dialogues of corpus/dialogues (RFC 5321
// Appendix D, and real curl, swaks, msmtp, s-nail and smtplib sessions with
// aiosmtpd and exim), replicated to 10,000 and varied so no two are the
// same: each copy carries its own sender and recipient names and 0 to 39
// extra lines of message text. Built once, before any timing.
//
// Reported per benchmark: sessions/s, and MB/s of dialogue (client and
// server octets, 10^6 bytes) — the engine's own work:
//   check/record     check_transcript, records fed one by one (what `check` does)
//   check/coalesce   the same, each side's turn fed as one piece
//   read_and_check   parse the transcript text, then check (the whole of
//                    `smtpkit check` but file I/O and the report)
// Limits: one thread; numbers depend on the machine and what else runs on
// it — compare runs made side by side, with repetitions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "smtpkit/conformance/check.hpp"
#include "smtpkit/transcript.hpp"

namespace {

namespace fs = std::filesystem;
using namespace smtpkit;
using namespace smtpkit::conformance;

constexpr std::size_t sessions_wanted = 10'000;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// Copy `n` of a dialogue: its own names, and `extra` more lines of message
// text before the end of data (a line "C: ." after a 354 reply).
std::string vary(const std::string& text, std::size_t n, std::size_t extra) {
  std::string out = text;
  for (std::string_view local : {"sender@", "rcpt@", "Smith@", "Jones@", "Brown@", "Green@"}) {
    std::string to(local);
    to.insert(to.size() - 1, std::to_string(n));
    out = replace_all(std::move(out), local, to);
  }
  std::string lines;
  for (std::size_t i = 0; i < extra; ++i)
    lines += "C: Line " + std::to_string(i) + " of session " + std::to_string(n) +
             ": some ordinary text, as mail bodies mostly are.\n";
  const std::size_t data = out.find("\nS: 354");
  const std::size_t end = data == std::string::npos ? data : out.find("\nC: .\n", data);
  if (end != std::string::npos) out.insert(end + 1, lines);
  return out;
}

struct corpus {
  std::vector<std::string> texts;
  std::vector<transcript> parsed;
  std::uint64_t octets = 0;  // client + server, all sessions
  std::size_t findings = 0;  // in one pass, to show the mix is not all clean
};

const corpus& sessions() {
  static const corpus c = [] {
    corpus k;
    std::vector<std::string> base;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(SMTPKIT_SOURCE_DIR) / "corpus" / "dialogues"))
      if (e.path().extension() == ".smtp") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) base.push_back(slurp(f));
    if (base.empty()) {
      std::cerr << "check_bench: no transcripts in corpus/dialogues\n";
      std::exit(2);
    }
    for (std::size_t i = 0; i < sessions_wanted; ++i) {
      k.texts.push_back(vary(base[i % base.size()], i, (i * 7) % 40));
      auto r = read_transcript(k.texts.back(), "session-" + std::to_string(i) + ".smtp");
      if (!r.ok()) {
        std::cerr << "check_bench: " << r.error.to_string() << "\n";
        std::exit(2);
      }
      k.octets += r.value->bytes(side::client).size() + r.value->bytes(side::server).size();
      k.parsed.push_back(std::move(*r.value));
    }
    for (const auto& t : k.parsed) k.findings += check_transcript(t).findings.size();
    return k;
  }();
  return c;
}

void report(benchmark::State& state, const corpus& c) {
  const double n = static_cast<double>(state.iterations());
  state.counters["sessions/s"] =
      benchmark::Counter(n * static_cast<double>(c.parsed.size()), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(n * static_cast<double>(c.octets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["sessions"] = static_cast<double>(c.parsed.size());
  state.counters["MB"] = static_cast<double>(c.octets) / 1e6;
  state.counters["findings"] = static_cast<double>(c.findings);
}

void check_sessions(benchmark::State& state, feed_mode mode) {
  const corpus& c = sessions();
  for (auto _ : state) {
    std::size_t found = 0;
    for (const auto& t : c.parsed) found += check_transcript(t, {}, mode).findings.size();
    benchmark::DoNotOptimize(found);
  }
  report(state, c);
}

void BM_check_record(benchmark::State& state) { check_sessions(state, feed_mode::record); }
void BM_check_coalesce(benchmark::State& state) { check_sessions(state, feed_mode::coalesce); }

void BM_read_and_check(benchmark::State& state) {
  const corpus& c = sessions();
  for (auto _ : state) {
    std::size_t found = 0;
    for (const auto& text : c.texts) {
      auto r = read_transcript(text, "session.smtp");
      found += check_transcript(*r.value).findings.size();
    }
    benchmark::DoNotOptimize(found);
  }
  report(state, c);
}

BENCHMARK(BM_check_record)->Name("check/record")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_check_coalesce)->Name("check/coalesce")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_read_and_check)->Name("read_and_check")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
