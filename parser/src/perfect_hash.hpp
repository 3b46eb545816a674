// perfect_hash.hpp — short words (verbs, esmtp-keywords; RFC 5321 §2.4:
// case-insensitive) named by one load and one comparison: a word of up to
// 8 octets folded to lower case, and a multiplicative hash whose factor is
// found at compile time to give each entry a slot of its own. Shared by
// command.cpp (verbs) and the fast paths (esmtp-keywords).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rfc5321.hpp"

namespace smtpkit::detail {

// Up to 8 octets in lower case as a little-endian word: how lookup_verb
// and the fast path read words (lookup_verb swaps them on big-endian).
constexpr std::uint64_t lower_word(std::string_view k) noexcept {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < k.size(); ++i)
    w |= static_cast<std::uint64_t>(static_cast<unsigned char>(to_lower_ascii(k[i]))) << (8 * i);
  return w;
}

// A word's slot among 2^SlotBits under a multiplicative hash: the top bits
// of word * factor.
template <unsigned SlotBits, class Word>
constexpr unsigned hash_slot(Word word, Word factor) noexcept {
  return static_cast<unsigned>(static_cast<Word>(word * factor) >> (8 * sizeof(Word) - SlotBits));
}

// The first factor of a fixed pseudo-random sequence that gives each
// entry's word a slot of its own (a perfect hash, found at compile time).
template <unsigned SlotBits, class Entry, std::size_t N>
constexpr auto perfect_factor(const std::array<Entry, N>& entries) noexcept {
  using Word = decltype(Entry::word);
  static_assert(SlotBits <= 5, "the slots are kept in a 32-bit set");
  for (std::uint64_t seq = 0x9E3779B97F4A7C15ull;; seq = seq * 6364136223846793005ull + 1442695040888963407ull) {
    const auto factor = static_cast<Word>(static_cast<Word>(seq >> (64 - 8 * sizeof(Word))) | 1u);
    std::uint32_t used = 0;
    bool clash = false;
    for (const Entry& e : entries) {
      const unsigned slot = hash_slot<SlotBits>(e.word, factor);
      clash |= (used >> slot & 1u) != 0;
      used |= 1u << slot;
    }
    if (!clash) return factor;
  }
}

// The entries placed in their slots under `factor`; an empty slot holds a
// default entry (word 0, and the "unknown" answer).
template <unsigned SlotBits, class Entry, std::size_t N>
constexpr std::array<Entry, std::size_t{1} << SlotBits> hash_table(const std::array<Entry, N>& entries,
                                                                   decltype(Entry::word) factor) noexcept {
  std::array<Entry, std::size_t{1} << SlotBits> t{};
  for (const Entry& e : entries) t[hash_slot<SlotBits>(e.word, factor)] = e;
  return t;
}

}  // namespace smtpkit::detail
