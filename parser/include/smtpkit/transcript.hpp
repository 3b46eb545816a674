// smtpkit/transcript.hpp — the dialogue format, v1 (docs/dialogue-format.md).
//
//   C: text   client sends text + CRLF        S: text   server sends text + CRLF
//   C= text   client sends exactly text       S= text   server sends exactly text
//   C~ pat    (scripts) expect a client line  S~ pat    (scripts) expect a server line
//   @tls      both sides start TLS here       @close C|S   that side closes
//   @pause D  (recordings) time passed here; sends nothing
//   # ...     comment; blank lines ignored
//
// One space separates the marker from the payload; everything after it is
// the payload, trailing spaces included. Payloads use the escapes of
// escape.hpp. Reading a written transcript gives back the same bytes.
// Files with CRLF line endings are read as if they had LF.
//
// Unlike the grammar, this layer allocates: transcripts are files, not
// traffic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpkit {

enum class side : std::uint8_t { client, server };
constexpr char side_letter(side s) noexcept { return s == side::client ? 'C' : 'S'; }
std::string_view to_string(side s) noexcept;

enum class record_kind : std::uint8_t {
  line,       ///< "C: text" — payload + CRLF is sent
  raw,        ///< "C= text" — payload is sent as is
  pattern,    ///< "C~ pattern" — scripts only; `text` holds the pattern, unescaped
  directive,  ///< "@name args"
};

struct record {
  record_kind kind = record_kind::line;
  side who = side::client;  ///< sender; for "@close X" the side named
  std::string payload;      ///< decoded octets (line: without the CRLF)
  std::string text;         ///< the record's text as written after the marker
  std::string name;         ///< directive name without "@"
  std::string args;         ///< directive arguments
  std::size_t line = 0;     ///< 1-based line in the source

  /// The octets this record puts on the wire (line: payload + CRLF).
  [[nodiscard]] std::string bytes() const { return kind == record_kind::line ? payload + "\r\n" : payload; }
  [[nodiscard]] bool sends() const noexcept { return kind == record_kind::line || kind == record_kind::raw; }
};

struct transcript {
  std::string source;  ///< file name used in messages
  std::vector<record> records;

  /// Every octet one side sent, in order.
  [[nodiscard]] std::string bytes(side s) const;
};

struct transcript_error {
  std::string source;
  std::size_t line = 0;
  std::size_t column = 0;  ///< 1-based; 0 when the whole line is at fault
  std::string message;     ///< what was expected
  /// "file:line:col: message"
  [[nodiscard]] std::string to_string() const;
};

struct read_options {
  /// Accept "C~"/"S~" pattern records (scripts).
  bool patterns = false;
  /// Accept directives other than @tls and @close (scripts validate them).
  bool extensions = false;
};

struct read_result {
  std::optional<transcript> value;
  transcript_error error;
  [[nodiscard]] bool ok() const noexcept { return value.has_value(); }
};

[[nodiscard]] read_result read_transcript(std::string_view text, std::string_view source, read_options opts = {});
/// Read a file; I/O errors come back as an error at line 0.
[[nodiscard]] read_result read_transcript_file(const std::string& path, read_options opts = {});

/// How every smtpkit verb says a file could not be opened, from errno:
/// "no such file or folder", or "cannot read: <the system's reason>".
[[nodiscard]] std::string open_failure(int error_number);

/// Writes transcripts from the octets each side sends, in the order sent.
/// Complete CRLF lines become "C:"/"S:" records; a line ended by a bare LF,
/// and octets left over when the other side speaks or at flush(), become
/// "C="/"S=" records, so reading the result gives back the same octets.
class transcript_writer {
 public:
  void comment(std::string_view text);
  void sent(side who, std::string_view bytes);
  void directive(std::string_view name, std::string_view args = {});
  void tls();
  void close(side who);
  /// Write out any partial line still held.
  void flush();
  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  /// All complete records so far, leaving any partial line held back (for
  /// writing a long session out in pieces).
  std::string drain() {
    std::string s = std::move(out_);
    out_.clear();
    return s;
  }
  std::string take();

 private:
  void flush_side(side who);
  void emit_line(side who, std::string_view content, bool crlf);
  std::string out_;
  std::string pending_[2];
  side last_ = side::server;
};

/// Format one record as a line of the dialogue format (no trailing newline).
[[nodiscard]] std::string format_record(const record& r);

}  // namespace smtpkit
