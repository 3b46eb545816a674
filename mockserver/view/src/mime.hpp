// mime.hpp — what the web view and the Mailpit API show of a stored message:
// its header fields (RFC 5322 §3.6: From, To, Cc, Bcc, Reply-To, Subject,
// Date, Message-ID), text and HTML bodies, attachments and inline parts
// (RFC 2045–2049 MIME, RFC 2047 encoded words, RFC 2183 dispositions), read
// by GMime (libgmime-3.0): smtpkit's own grammar stops at the envelope and the
// data framing.
//
// Limits: a part is found by its path ("1", "2.1", numbered as IMAP does,
// RFC 3501 §6.4.5); a message/rfc822 part is one attachment, not opened.
// Parsing reads the whole message into memory: callers bound its size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpkit::mock::view {

struct address {
  std::string name;
  std::string addr;
};

struct attachment {
  std::string part_id;
  std::string file_name;
  std::string content_type;
  std::string content_id;
  std::uint64_t size = 0;  ///< decoded
  std::string md5, sha1, sha256;
};

struct parsed_message {
  bool ok = false;  ///< false: not a MIME message GMime could read (fields are empty)
  std::vector<address> from, to, cc, bcc, reply_to;
  std::string subject;
  std::string message_id;
  std::string return_path;
  std::optional<std::int64_t> date;  ///< Date: field, Unix seconds
  std::string text;                  ///< first text/plain body, UTF-8
  std::string html;                  ///< first text/html body, UTF-8
  std::vector<attachment> attachments;
  std::vector<attachment> inlines;
  /// Every header field of the message (not of its parts), in order;
  /// values unfolded, encoded words decoded.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Parses `raw` (a message as stored). Never throws.
parsed_message parse_message(std::string_view raw);

struct part_content {
  std::string content_type;  ///< "image/png", with charset for text
  std::string file_name;
  std::string bytes;  ///< decoded (transfer encoding undone)
};

/// The part at `part_id`, decoded; nullopt when there is none.
std::optional<part_content> message_part(std::string_view raw, std::string_view part_id);

/// Text of an HTML body for a snippet or a search: tags dropped, entities of
/// the common few decoded, white space collapsed.
std::string html_to_text(std::string_view html);

}  // namespace smtpkit::mock::view
