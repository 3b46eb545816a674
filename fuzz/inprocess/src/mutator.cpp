// mutator.cpp — libFuzzer's custom mutator and crossover over serialised
// dialogues (smtpkit/fuzz/libfuzzer.hpp): read the input as a dialogue,
// mutate it with the grammar mutator of dialogue.hpp (or, now and then,
// libFuzzer's byte mutator on one write), write it back as transcript text
// within libFuzzer's size limit.
//
// Size: the limit is on the text, the grammar mutator's on the octets;
// escapes (\r, \xHH) and the record markers make the text longer, so a
// mutant that comes out too long is made again under a tighter octet
// limit, and as a last resort cut (last writes first, then the end of the
// one left).
// Limits: pauses are dropped (max_pause_ms 0 by default): the driver does
// not wait them out, so mutating them would spend runs on nothing.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include "smtpkit/fuzz/dialogue.hpp"
#include "smtpkit/fuzz/libfuzzer.hpp"

// libFuzzer's byte mutator: defined when the program is linked with
// libFuzzer, null otherwise (the replay build, unit tests).
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t max_size);

namespace smtpkit::fuzz {
namespace {

// Where a mutation starts when the input means no write at all: a plain
// session (RFC 5321 §3.3, Appendix D.1), one write per command.
dialogue minimal_dialogue() {
  dialogue d;
  for (const char* w : {"EHLO client.smtpkit.test\r\n", "MAIL FROM:<a@example.test>\r\n",
                        "RCPT TO:<b@example.test>\r\n", "DATA\r\n", "Subject: t\r\n\r\nbody\r\n.\r\n", "QUIT\r\n"})
    d.writes.push_back({w, 0});
  return d;
}

dialogue starting_point(const std::uint8_t* data, std::size_t size) {
  dialogue d = input_dialogue(std::string_view(reinterpret_cast<const char*>(data), size));
  if (d.writes.empty()) d = minimal_dialogue();
  return d;
}

// The dialogue's text cut to `max` octets: last writes first, then the end
// of the one left. An empty dialogue is a blank line (it reads back as one).
std::string fit(dialogue& d, std::size_t max) {
  std::string text = to_transcript_text(d);
  while (text.size() > max && !d.writes.empty()) {
    if (d.writes.size() > 1) {
      d.writes.pop_back();
    } else {
      std::string& b = d.writes.back().bytes;
      const std::size_t excess = text.size() - max;
      b.resize(b.size() > excess ? b.size() - excess : 0);
      if (b.empty()) d.writes.pop_back();
    }
    text = to_transcript_text(d);
  }
  if (text.empty()) text = "\n";
  return text.size() <= max ? text : std::string();
}

std::size_t put(const std::string& text, std::uint8_t* out) {
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  return text.size();
}

// One write through the byte mutator, within the octet limit.
void bytes_on_one_write(dialogue& d, std::mt19937_64& rng, byte_mutator bytes, std::size_t max_octets) {
  if (d.writes.empty()) return;
  write& w = d.writes[rng() % d.writes.size()];
  const std::size_t others = d.size() - w.bytes.size();
  if (others >= max_octets) return;
  const std::size_t room = std::min(max_octets - others, w.bytes.size() * 2 + 64);
  std::string buf = w.bytes;
  buf.resize(std::max(room, buf.size()));
  const std::size_t n = bytes(reinterpret_cast<std::uint8_t*>(buf.data()), w.bytes.size(), room);
  if (n == 0 || n > room) return;
  buf.resize(n);
  w.bytes = std::move(buf);
}

}  // namespace

byte_mutator libfuzzer_byte_mutator() noexcept { return &LLVMFuzzerMutate == nullptr ? nullptr : &LLVMFuzzerMutate; }

std::size_t custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const mutator_options& o) {
  if (max_size == 0) return 0;
  const dialogue start = starting_point(data, size);
  std::mt19937_64 rng(seed);
  const bool use_bytes = o.bytes != nullptr && o.bytes_one_in != 0 && rng() % o.bytes_one_in == 0;
  std::size_t octets = std::min(o.limits.max_octets, max_size);
  dialogue d;
  std::string text;
  for (int attempt = 0; attempt < 3; ++attempt) {
    d = start;
    if (use_bytes) {
      bytes_on_one_write(d, rng, o.bytes, octets);
      if (d.writes.empty() || d.size() == 0) d = start;
    } else {
      mutate_limits lim = o.limits;
      lim.max_octets = std::max<std::size_t>(octets, 1);
      mutate(d, &start, rng, mutator_kind::grammar, lim);
    }
    text = to_transcript_text(d);
    if (text.size() <= max_size) return put(text, data);
    // Too long as text: again under the octet limit the text's share allows.
    octets = std::max<std::size_t>(
        1, static_cast<std::size_t>(static_cast<double>(d.size()) * static_cast<double>(max_size) /
                                    static_cast<double>(text.size()) * 0.9));
  }
  text = fit(d, max_size);
  return put(text, data);
}

namespace {
bool bytes_only() {
  static const bool b = [] {
    const char* m = std::getenv("SMTPKIT_FUZZ_MUTATOR");
    return m != nullptr && std::string_view(m) == "bytes";
  }();
  return b;
}
}  // namespace

std::size_t libfuzzer_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  const byte_mutator bytes = libfuzzer_byte_mutator();
  if (bytes_only() && bytes != nullptr) return bytes(data, size, max_size);
  mutator_options o;
  o.bytes = bytes;
  return custom_mutate(data, size, max_size, seed, o);
}

std::size_t libfuzzer_crossover(const std::uint8_t* data1, std::size_t size1, const std::uint8_t* data2,
                                std::size_t size2, std::uint8_t* out, std::size_t max_out_size, unsigned seed) {
  // Bytes only: none here; libFuzzer's byte mutator crosses inputs over itself.
  if (bytes_only()) return 0;
  return custom_crossover(data1, size1, data2, size2, out, max_out_size, seed);
}

std::size_t custom_crossover(const std::uint8_t* data1, std::size_t size1, const std::uint8_t* data2, std::size_t size2,
                             std::uint8_t* out, std::size_t max_out_size, unsigned seed) {
  if (max_out_size == 0) return 0;
  const dialogue a = starting_point(data1, size1);
  const dialogue b = starting_point(data2, size2);
  std::mt19937_64 rng(seed);
  // The first i writes of one, then the other's from its write j on: a
  // session that changes its course at a write boundary.
  const std::size_t i = rng() % (a.writes.size() + 1);
  const std::size_t j = rng() % b.writes.size();
  dialogue d;
  d.writes.assign(a.writes.begin(), a.writes.begin() + static_cast<std::ptrdiff_t>(i));
  d.writes.insert(d.writes.end(), b.writes.begin() + static_cast<std::ptrdiff_t>(j), b.writes.end());
  return put(fit(d, max_out_size), out);
}

}  // namespace smtpkit::fuzz
