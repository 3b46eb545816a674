// mailbox.hpp — the messages of the server's Maildir as the web view, the
// Mailpit API and POP3 see them: one list, newest last, each message with
// its envelope, read flag and a parsed summary (RFC 5322 fields, a snippet,
// the text searches look in) made on first use, off the SMTP path.
//
// Limits: the list is in memory (a few hundred octets a message); summaries
// are cached for the 5,000 messages used last. A message is read from disk
// whole, up to `max_read` octets (longer ones are shown cut). Deleting
// removes the message and envelope files the store wrote, and only files
// inside the Maildir. Messages already in the Maildir at start (new/ and
// cur/) are listed, with their envelope when envelope/ has it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mime.hpp"
#include "smtpkit/mock/server/observer.hpp"

namespace smtpkit::mock::view {

using json = nlohmann::ordered_json;

struct mail {
  std::uint64_t seq = 0;  ///< arrival order
  std::string id;         ///< queue id (the Mailpit "ID")
  std::string path;
  std::string envelope_path;
  std::string session;  ///< "" for messages found at start
  std::uint64_t size = 0;
  std::int64_t received_us = 0;  ///< Unix microseconds
  bool read = false;
  json envelope;  ///< null when not known
};

/// What lists and searches need of a parsed message.
struct summary {
  parsed_message fields;  ///< without text and html (they are in `search` and `snippet`)
  std::string snippet;    ///< up to 250 characters of the text
  std::string search;     ///< lower-case text plain words are looked for in
  std::size_t attachment_count = 0;
};

class mailbox {
 public:
  mailbox(std::string maildir, std::uint64_t max_read);

  /// Lists what the Maildir holds now (at start).
  void scan();
  const mail& add(const stored_message& m, const json& envelope);

  /// By id, or "latest"; null when not there.
  [[nodiscard]] const mail* find(std::string_view id) const;
  /// Newest first.
  [[nodiscard]] std::vector<const mail*> newest_first() const;
  [[nodiscard]] std::size_t count() const { return by_seq_.size(); }
  [[nodiscard]] std::size_t unread() const { return unread_; }

  /// Deletes the message's files; false when there is no such message.
  bool remove(const std::string& id);
  void set_read(const std::string& id, bool read);

  /// The stored octets (up to max_read); nullopt when the file is gone.
  [[nodiscard]] std::optional<std::string> raw(const mail& m) const;
  /// Parsed (and cached); null when the file is gone.
  std::shared_ptr<const summary> summary_of(const mail& m);

  [[nodiscard]] const std::string& maildir() const { return dir_; }
  std::uint64_t accepted = 0, accepted_size = 0, deleted = 0;

 private:
  void insert(mail m);

  std::string dir_;
  std::uint64_t max_read_;
  std::uint64_t next_seq_ = 1;
  std::size_t unread_ = 0;
  std::map<std::uint64_t, mail> by_seq_;
  std::unordered_map<std::string, std::uint64_t> by_id_;
  // LRU cache of summaries: most recent at the front.
  std::list<std::pair<std::string, std::shared_ptr<const summary>>> lru_;
  std::unordered_map<std::string, decltype(lru_)::iterator> cached_;
};

/// Reads a whole file up to `max` octets; nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path, std::uint64_t max);

}  // namespace smtpkit::mock::view
