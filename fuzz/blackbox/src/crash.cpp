// crash.cpp — crash signatures from a signal and the end of stderr (crash.hpp).
#include "crash.hpp"

#include <csignal>
#include <cstring>

#include "smtpkit/escape.hpp"

namespace smtpkit::fuzz {
namespace {

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return nullptr;  // SIGKILL, SIGTERM...: ended from outside, not a crash
  }
}

// The sanitizer's one-line summary ("SUMMARY: AddressSanitizer:
// heap-buffer-overflow file.c:12 in f"), else its error line, else "".
std::string sanitizer_line(const std::string& err) {
  for (const char* marker : {"SUMMARY: ", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: MemorySanitizer",
                             "WARNING: ThreadSanitizer", "runtime error: "}) {
    auto at = err.find(marker);
    if (at == std::string::npos) continue;
    auto end = err.find('\n', at);
    return err.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return {};
}

// The top frames of a sanitizer stack ("#0 0x4f3a in parse_path src/p.c:10"):
// function names only, so a rebuild at other addresses dedups the same.
std::string top_frames(const std::string& err, int n) {
  std::string out;
  std::size_t at = 0;
  for (int i = 0; i < n; ++i) {
    const std::string tag = "#" + std::to_string(i) + " ";
    at = err.find(tag, at);
    if (at == std::string::npos) break;
    auto in = err.find(" in ", at);
    auto eol = err.find('\n', at);
    if (in == std::string::npos || (eol != std::string::npos && in > eol)) break;
    auto name_end = err.find_first_of(" \n", in + 4);
    if (!out.empty()) out += ' ';
    out += err.substr(in + 4, name_end == std::string::npos ? std::string::npos : name_end - in - 4);
    at = eol == std::string::npos ? err.size() : eol;
  }
  return out;
}

// The last non-empty line, digits folded to '0' (pids, addresses, counters);
// a shell's own word on the signal ("Aborted (core dumped)") is skipped.
std::string last_words(const std::string& err, int sig) {
  std::string line;
  std::size_t end = err.size();
  for (;;) {
    end = err.find_last_not_of("\r\n \t", end == 0 ? 0 : end - 1);
    if (end == std::string::npos) return {};
    std::size_t begin = err.rfind('\n', end);
    begin = begin == std::string::npos ? 0 : begin + 1;
    line = err.substr(begin, end + 1 - begin);
    const char* said = sig > 0 ? ::strsignal(sig) : nullptr;
    const bool shell = said != nullptr && line.find(said) != std::string::npos && line.size() < std::strlen(said) + 40;
    if (!shell || begin == 0) break;
    end = begin;
  }
  for (char& c : line)
    if (c >= '0' && c <= '9') c = '0';
  if (line.size() > 160) line.resize(160);
  return escape(line);
}

}  // namespace

std::optional<std::string> crash_signature(int signo, const std::string& err) {
  const std::string san = sanitizer_line(err);
  const char* sig = signo != 0 ? signal_name(signo) : nullptr;
  if (sig == nullptr && san.empty()) return std::nullopt;
  std::string frames = top_frames(err, 3);
  std::string out = sig != nullptr ? sig : "sanitizer";
  if (!san.empty()) out += ": " + escape(san.substr(0, 200));
  if (!frames.empty()) {
    out += " in " + frames;
  } else if (san.empty()) {
    std::string words = last_words(err, signo);
    if (!words.empty()) out += ": " + words;
  }
  return out;
}

std::string tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

}  // namespace smtpkit::fuzz
