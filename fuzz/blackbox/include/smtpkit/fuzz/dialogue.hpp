// smtpkit/fuzz/dialogue.hpp — the unit the black-box fuzzers mutate: the
// client side of a dialogue as the writes it makes, and the mutators.
//
// A dialogue is a list of writes. Each write leaves in one send() (one TCP
// segment where the stack allows), after an optional pause, and the
// fuzzer reads the replies it draws before the next write; several
// commands in one write are pipelined (RFC 2920), one command cut over two
// writes arrives in pieces.
//
// Seeds come from transcripts in the dialogue format (docs/dialogue-format.md):
// the client's records between two server records make one write; `@pause D`
// starts a new write D later. Writing a dialogue back gives "C:"/"C=" records
// with "@pause" between writes, which reads back as the same writes.
//
// Mutators (mutate.cpp):
//   grammar  record level (drop, duplicate, repeat N times, reorder, splice
//            from another dialogue, pipeline two writes into one, split a
//            write at any octet, delay), field level through the grammar
//            (paths: lengths at and past the limits of RFC 5321 §4.5.3.1,
//            quoted local parts and their escapes, address literals and
//            their tags, source routes; ESMTP parameters: known keywords
//            with edge values, xtext, numbers at 2^31/2^32/2^63/2^64,
//            duplicated and unknown keywords; AUTH: base64 of mutated SASL
//            payloads; BDAT sizes against the octets sent; DATA: end-of-data
//            variants, bare CR/LF/NUL, dot-stuffing, 8-bit octets), state
//            level (commands inserted at odd points: STARTTLS, EHLO after
//            MAIL, RSET mid-transaction, commands after QUIT), and byte
//            level as the last resort;
//   bytes    byte-level mutation alone (flip, insert, delete, overwrite,
//            copy within) over the same seeds: the baseline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace smtpkit {
struct transcript;
}

namespace smtpkit::fuzz {

struct write {
  std::string bytes;           ///< octets sent in one write (never empty in a well-formed dialogue)
  std::uint32_t pause_ms = 0;  ///< wait before sending it
};

struct dialogue {
  std::vector<write> writes;

  [[nodiscard]] std::size_t size() const noexcept;  ///< octets over all writes
  [[nodiscard]] std::string bytes() const;          ///< every octet, in order
};

enum class mutator_kind : std::uint8_t { grammar, bytes };

struct mutate_limits {
  std::size_t max_octets = 64 * 1024;  ///< a dialogue never grows past this
  std::size_t max_writes = 512;        ///< nor past this many writes
  std::uint32_t max_pause_ms = 200;    ///< the delay mutation stays under it
};

/// Applies one to a few stacked mutations to `d` in place. `donor` (may be
/// null or `&d`) gives records for splicing. Never leaves `d` empty (it
/// keeps at least one write of at least one octet) and keeps the limits.
void mutate(dialogue& d, const dialogue* donor, std::mt19937_64& rng, mutator_kind kind, const mutate_limits& lim = {});

/// The client side of a transcript as a dialogue (see above). Records the
/// client expects rather than sends (patterns) are skipped, and so is what
/// follows "@tls": a dialogue in the clear cannot go on inside TLS.
[[nodiscard]] dialogue from_transcript(const smtpkit::transcript& t);

/// The dialogue as transcript records ("C:", "C=", "@pause Nms"), one per line.
[[nodiscard]] std::string to_transcript_text(const dialogue& d);

}  // namespace smtpkit::fuzz
