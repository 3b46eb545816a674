// storage.hpp — where accepted messages go. A message is streamed to its
// store as it arrives (held in memory only up to 64 KiB at a time, no
// descriptor kept between writes) and committed before the server says 250,
// so a message that got 250 is on disk.
//
// Maildir layout (maildir(5)): DIR/tmp, DIR/new, DIR/cur for the messages,
// exactly as received (dot-unstuffed, no header added), and one line per
// message in the envelope journal DIR/envelopes.jsonl: {"id", "file",
// "envelope": {sender, recipients, parameters, TLS, AUTH identity,
// session, size, sha256}}. One file per message, not two: the journal is
// one descriptor, appended to.
//
// Commit order (each failure leaves the message and its envelope line both
// there or both gone, and says so): the message is complete in tmp/; its
// envelope line is appended; tmp/NAME is renamed to new/NAME — the commit
// point. A rename that fails takes the line back (the journal is cut back
// to where it was, or, when another writer appended since, a
// {"id", "withdrawn"} line follows). With `durable`, messages are
// committed in groups (group commit): every message finished in the same
// turn of the event loop is prepared (pending), and flush() appends their
// lines in one write, syncs the file system (syncfs: message data and
// journal), renames them all, and fsyncs new/ once; a failure anywhere
// undoes the whole group. Only then are their 250s sent.
//
// Limits: durability is syncfs(2) + fsync(2) of new/: it flushes whatever
// else is dirty on that file system too. A crash (kill -9, power) between
// the line and the rename leaves a line whose message is not in new/ (a
// message that never got 250; its data stays in tmp/).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace smtpkit::mock {

struct stored {
  bool ok = false;
  bool pending = false;               ///< durable: prepared; the outcome comes with message_store::flush()
  std::string path;                   ///< message file (empty when discarded)
  std::string envelope_path;          ///< the envelope journal (empty when discarded)
  std::uint64_t envelope_offset = 0;  ///< of the message's line in the journal
  std::string id;                     ///< queue id given in the 250 reply
  std::uint64_t size = 0;
  std::string sha256;  ///< hex of the stored octets
  std::string error;
};

/// A message committed in a group: its outcome once the group was flushed,
/// and what its session does with it (its events).
struct commit_ticket {
  bool done = false;
  stored result;
  std::function<void(const stored&)> report;  ///< the session's events, once done
  std::string failure_reply;                  ///< sent (and the session closed) when the group failed
};

/// Messages committed together (--durable).
struct commit_group {
  struct member {
    std::string name;
    std::string line;  ///< its envelope line
    std::shared_ptr<commit_ticket> ticket;
    stored result;  ///< written by write(), handed to the ticket by complete()
  };
  std::vector<member> members;
};

class message_writer {
 public:
  virtual ~message_writer() = default;
  virtual void write(std::string_view octets) = 0;
  /// Stores the message with its envelope; for a durable store, prepares it
  /// (`pending`) and gives its ticket in `ticket`.
  virtual stored commit(const nlohmann::ordered_json& envelope, std::shared_ptr<commit_ticket>& ticket) = 0;
  virtual void abort() = 0;
  [[nodiscard]] virtual std::uint64_t size() const = 0;
};

/// The system calls the Maildir store makes, replaceable by tests that make
/// one of them fail (mockserver/server/test/storage_test.cpp).
struct fs_ops {
  int (*open)(const char* path, int flags, unsigned mode);
  long (*write)(int fd, const void* buf, unsigned long n);
  int (*close)(int fd);
  int (*rename)(const char* from, const char* to);
  int (*unlink)(const char* path);
  int (*fsync)(int fd);
  int (*syncfs)(int fd);
  int (*ftruncate)(int fd, long size);
};
const fs_ops& real_fs();

class message_store {
 public:
  virtual ~message_store() = default;
  virtual std::unique_ptr<message_writer> begin() = 0;
  /// The store keeps envelopes (a Maildir does; discard does not).
  [[nodiscard]] virtual bool keeps_envelopes() const { return false; }
  /// Messages prepared and not yet flushed (durable stores).
  [[nodiscard]] virtual bool pending() const { return false; }
  /// Group commit in three steps, so that the file I/O can run on a thread
  /// of its own while the loop goes on: take() the prepared messages (on the
  /// loop), write() them (files only: any thread, one group at a time),
  /// complete() them (on the loop: tickets done, failures counted).
  virtual std::unique_ptr<commit_group> take() { return nullptr; }
  virtual void write(commit_group&) {}
  virtual void complete(commit_group&) {}
  /// All three at once.
  void flush() {
    if (auto g = take()) {
      write(*g);
      complete(*g);
    }
  }
  /// Messages that could not be stored (their clients got 451 or 421), and why the last one.
  [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  void note_failure(std::string why) {
    ++failures_;
    last_error_ = std::move(why);
  }
  /// Maildir at `dir` (created if missing). Throws with a message a user can
  /// act on when the folder cannot be written.
  static std::unique_ptr<message_store> maildir(const std::string& dir, bool durable, const fs_ops& fs = real_fs());
  /// Counts (and hashes, when `hash`) and forgets.
  static std::unique_ptr<message_store> discard(bool hash);

 private:
  std::uint64_t failures_ = 0;
  std::string last_error_;
};

}  // namespace smtpkit::mock
