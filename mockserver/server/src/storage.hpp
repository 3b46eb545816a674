// storage.hpp — where accepted messages go. A message is streamed to its
// store as it arrives (never held whole in memory) and committed before the
// server says 250, so a message that got 250 is on disk.
//
// Maildir layout (maildir(5)): DIR/tmp, DIR/new, DIR/cur for the messages,
// exactly as received (dot-unstuffed, no header added), and DIR/envelope/
// <name>.json beside each: sender, recipients, parameters, TLS, AUTH
// identity, session id. The message is renamed into new/ last, so every
// message in new/ has its envelope. With `durable`, file and folders are
// fsync'ed before the reply.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace smtpkit::mock {

struct stored {
  bool ok = false;
  std::string path;           ///< message file (empty when discarded)
  std::string envelope_path;  ///< envelope JSON
  std::string id;             ///< queue id given in the 250 reply
  std::uint64_t size = 0;
  std::string sha256;  ///< hex of the stored octets
  std::string error;
};

class message_writer {
 public:
  virtual ~message_writer() = default;
  virtual void write(std::string_view octets) = 0;
  /// Make the message durable (as configured) with its envelope.
  virtual stored commit(const nlohmann::ordered_json& envelope) = 0;
  virtual void abort() = 0;
  [[nodiscard]] virtual std::uint64_t size() const = 0;
};

class message_store {
 public:
  virtual ~message_store() = default;
  virtual std::unique_ptr<message_writer> begin() = 0;
  /// Messages that could not be stored (their clients got 451), and why the last one.
  [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  void note_failure(std::string why) {
    ++failures_;
    last_error_ = std::move(why);
  }
  /// Maildir at `dir` (created if missing). Throws with a message a user can
  /// act on when the folder cannot be written.
  static std::unique_ptr<message_store> maildir(const std::string& dir, bool durable);
  /// Counts (and hashes, when `hash`) and forgets.
  static std::unique_ptr<message_store> discard(bool hash);

 private:
  std::uint64_t failures_ = 0;
  std::string last_error_;
};

}  // namespace smtpkit::mock
