// storage.cpp — Maildir (with its envelope journal) and discard message
// stores; the commit order and its failure points are in storage.hpp.
#include "storage.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace smtpkit::mock {
namespace {

int real_open(const char* p, int flags, unsigned mode) { return ::open(p, flags, mode); }
long real_write(int fd, const void* b, unsigned long n) { return ::write(fd, b, n); }
int real_close(int fd) { return ::close(fd); }
int real_rename(const char* a, const char* b) { return ::rename(a, b); }
int real_unlink(const char* p) { return ::unlink(p); }
int real_fsync(int fd) { return ::fsync(fd); }
int real_syncfs(int fd) { return ::syncfs(fd); }
int real_ftruncate(int fd, long n) { return ::ftruncate(fd, n); }

constexpr fs_ops real_ops{real_open,   real_write, real_close,  real_rename,
                          real_unlink, real_fsync, real_syncfs, real_ftruncate};

using json = nlohmann::ordered_json;

class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~sha256() { EVP_MD_CTX_free(ctx_); }
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(std::string_view s) { EVP_DigestUpdate(ctx_, s.data(), s.size()); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string why(int err) { return std::strerror(err); }

void make_dir(const std::string& d) {
  if (::mkdir(d.c_str(), 0755) == 0) return;
  if (errno != EEXIST) throw std::runtime_error("cannot create folder " + d + ": " + why(errno));
  // EEXIST also comes for a file of that name: it must be a folder.
  struct stat st {};
  if (::stat(d.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    errno = ENOTDIR;
  }
  throw std::runtime_error("cannot create folder " + d + ": " + why(errno));
}

std::string host_part() {
  char h[256] = {0};
  ::gethostname(h, sizeof h - 1);
  std::string s;
  for (char* p = h; *p; ++p) s += (*p == '/' || *p == ':') ? '_' : *p;
  return s.empty() ? "localhost" : s;
}

// Writes all of `n` octets; false with errno set when it cannot. `done`:
// how many went out.
bool write_all(const fs_ops& fs, int fd, const char* p, std::size_t n, std::size_t* done = nullptr) {
  std::size_t sent = 0;
  while (sent < n) {
    long w = fs.write(fd, p + sent, n - sent);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      if (done) *done = sent;
      return false;
    }
    sent += static_cast<std::size_t>(w);
  }
  if (done) *done = sent;
  return true;
}

// The envelope journal: one line per message, appended; what a failed
// commit appended is taken back.
class journal {
 public:
  journal(std::string path, const fs_ops& fs) : path_(std::move(path)), fs_(fs) {
    fd_ = fs_.open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot write to maildir " + path_ + ": " + why(errno));
  }
  ~journal() {
    if (fd_ >= 0) fs_.close(fd_);
  }
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

  // Appends whole lines; their offset in `at`. On failure the part written
  // is taken back and errno says why.
  bool append(std::string_view text, std::uint64_t& at) {
    std::size_t done = 0;
    bool ok = write_all(fs_, fd_, text.data(), text.size(), &done);
    int err = errno;
    // O_APPEND: the file position is the end of this write.
    const auto end = static_cast<std::uint64_t>(std::max<off_t>(0, ::lseek(fd_, 0, SEEK_CUR)));
    if (ok) {
      at = end - text.size();
      return true;
    }
    if (done > 0) take_back(end - done, end, {}, "");
    errno = err;
    return false;
  }

  // Takes back the lines in [from, to): the file is cut back when they are
  // its end (nobody appended since); otherwise each id gets a withdrawal
  // line. False when neither worked.
  bool take_back(std::uint64_t from, std::uint64_t to, const std::vector<std::string>& ids, const std::string& reason) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) == to &&
        fs_.ftruncate(fd_, static_cast<long>(from)) == 0)
      return true;
    if (ids.empty()) return false;
    std::string lines;
    for (const auto& id : ids) lines += json{{"id", id}, {"withdrawn", reason}}.dump() + "\n";
    return write_all(fs_, fd_, lines.data(), lines.size());
  }

 private:
  std::string path_;
  const fs_ops& fs_;
  int fd_ = -1;
};

class maildir_store;

class maildir_writer final : public message_writer {
 public:
  maildir_writer(maildir_store& store, std::string name);
  ~maildir_writer() override { abort(); }

  void write(std::string_view s) override {
    size_ += s.size();
    hash_.update(s);
    if (!error_.empty()) return;
    buf_.append(s);
    if (buf_.size() >= (1u << 16)) spill();
  }
  stored commit(const json& envelope, std::shared_ptr<commit_ticket>& ticket) override;
  void abort() override;
  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  // Writes the buffer to tmp/NAME; the file is open only for this.
  void spill();

  maildir_store& store_;
  std::string name_;
  std::string tmp_;
  std::string buf_;
  std::string error_;
  std::uint64_t size_ = 0;
  sha256 hash_;
  bool created_ = false;
  bool handed_over_ = false;  // committed, or the store's group owns tmp/NAME now
};

class maildir_store final : public message_store {
 public:
  maildir_store(std::string dir, bool durable, const fs_ops& fs)
      : dir_(std::move(dir)), durable_(durable), fs_(fs), host_(host_part()), journal_(prepare_dirs(), fs) {
    // Prove tmp/ is writable now, not at the first message.
    std::string probe = dir_ + "/tmp/.smtpkit-write-test." + std::to_string(::getpid());
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write to maildir " + dir_ + ": " + why(errno));
    ::close(fd);
    ::unlink(probe.c_str());
  }
  ~maildir_store() override { flush(); }  // a group nobody waited for (a script's own reply)

  std::unique_ptr<message_writer> begin() override {
    using namespace std::chrono;
    auto now = system_clock::now().time_since_epoch();
    auto secs = duration_cast<seconds>(now).count();
    auto usec = duration_cast<microseconds>(now).count() % 1000000;
    // maildir(5): time.M<usec>P<pid>Q<count>.host
    std::string name = std::to_string(secs) + ".M" + std::to_string(usec) + "P" + std::to_string(::getpid()) + "Q" +
                       std::to_string(++counter_) + "." + host_;
    return std::make_unique<maildir_writer>(*this, std::move(name));
  }
  [[nodiscard]] bool keeps_envelopes() const override { return true; }
  [[nodiscard]] bool pending() const override { return !group_.empty(); }
  std::unique_ptr<commit_group> take() override;
  void write(commit_group& g) override;
  void complete(commit_group& g) override;

  [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
  [[nodiscard]] const fs_ops& fs() const noexcept { return fs_; }
  stored commit_one(const std::string& name, stored r, const std::string& line);
  stored prepare(const std::string& name, stored r, std::string line, std::shared_ptr<commit_ticket>& ticket);
  [[nodiscard]] bool durable() const noexcept { return durable_; }

 private:
  std::string prepare_dirs() {
    make_dir(dir_);
    for (const char* sub : {"/tmp", "/new", "/cur"}) make_dir(dir_ + sub);
    if (::access((dir_ + "/new").c_str(), W_OK | X_OK) != 0)
      throw std::runtime_error("cannot write to maildir " + dir_ + "/new: " + why(errno));
    return dir_ + "/envelopes.jsonl";
  }
  std::string tmp(const std::string& name) const { return dir_ + "/tmp/" + name; }
  std::string fresh(const std::string& name) const { return dir_ + "/new/" + name; }

  std::string dir_;
  bool durable_;
  const fs_ops& fs_;
  std::string host_;
  journal journal_;
  std::uint64_t counter_ = 0;
  std::vector<commit_group::member> group_;
};

maildir_writer::maildir_writer(maildir_store& store, std::string name)
    : store_(store), name_(std::move(name)), tmp_(store.dir() + "/tmp/" + name_) {}

void maildir_writer::spill() {
  const fs_ops& fs = store_.fs();
  int flags = O_WRONLY | O_CLOEXEC | (created_ ? O_APPEND : O_CREAT | O_EXCL);
  int fd = fs.open(tmp_.c_str(), flags, 0644);
  if (fd < 0) {
    error_ = "cannot create " + tmp_ + ": " + why(errno);
    buf_.clear();
    return;
  }
  created_ = true;
  bool ok = write_all(fs, fd, buf_.data(), buf_.size());
  int err = errno;
  if (fs.close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) error_ = "cannot write " + tmp_ + ": " + why(err);
  buf_.clear();
  if (buf_.capacity() > (1u << 17)) std::string().swap(buf_);
}

stored maildir_writer::commit(const json& envelope, std::shared_ptr<commit_ticket>& ticket) {
  stored r;
  r.size = size_;
  r.sha256 = hash_.hex();
  r.id = name_.substr(0, name_.find('.', name_.find('.') + 1));
  if (error_.empty()) spill();  // the rest, and the file itself for an empty message
  if (!error_.empty()) {
    r.error = error_;
    abort();
    return r;
  }
  json line{{"id", r.id}, {"file", "new/" + name_}, {"envelope", envelope}};
  line["envelope"]["size"] = size_;
  line["envelope"]["sha256"] = r.sha256;
  std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  handed_over_ = true;
  if (store_.durable()) return store_.prepare(name_, std::move(r), std::move(text), ticket);
  return store_.commit_one(name_, std::move(r), text);
}

void maildir_writer::abort() {
  if (created_ && !handed_over_) store_.fs().unlink(tmp_.c_str());
  created_ = false;
  buf_.clear();
}

// Not durable: line, then rename; a failed rename takes the line back.
stored maildir_store::commit_one(const std::string& name, stored r, const std::string& line) {
  std::uint64_t at = 0;
  if (!journal_.append(line, at)) {
    r.error = "cannot store message in " + dir_ + ": " + journal_.path() + ": " + why(errno);
    fs_.unlink(tmp(name).c_str());
    return r;
  }
  if (fs_.rename(tmp(name).c_str(), fresh(name).c_str()) != 0) {
    r.error = "cannot store message in " + dir_ + ": rename to new/: " + why(errno);
    journal_.take_back(at, at + line.size(), {r.id}, r.error);
    fs_.unlink(tmp(name).c_str());
    return r;
  }
  r.ok = true;
  r.path = fresh(name);
  r.envelope_path = journal_.path();
  r.envelope_offset = at;
  return r;
}

stored maildir_store::prepare(const std::string& name, stored r, std::string line,
                              std::shared_ptr<commit_ticket>& ticket) {
  ticket = std::make_shared<commit_ticket>();
  r.pending = true;
  ticket->result = r;
  group_.push_back({name, std::move(line), ticket, r});
  return r;
}

std::unique_ptr<commit_group> maildir_store::take() {
  if (group_.empty()) return nullptr;
  auto g = std::make_unique<commit_group>();
  g->members = std::move(group_);
  group_.clear();
  return g;
}

// Durable, one group: lines; syncfs (message data and lines on disk);
// renames; fsync of new/ (the renames on disk). Any failure undoes the
// group. Touches only files (and the journal, which a durable store writes
// nowhere else): it may run on a thread of its own.
void maildir_store::write(commit_group& grp) {
  auto& g = grp.members;
  std::string text;
  for (const auto& m : g) text += m.line;
  std::string error;
  std::uint64_t at = 0;
  bool appended = journal_.append(text, at);
  if (!appended) error = "cannot store message in " + dir_ + ": " + journal_.path() + ": " + why(errno);
  if (error.empty() && fs_.syncfs(journal_.fd()) != 0)
    error = "cannot store message in " + dir_ + ": syncfs: " + why(errno);
  std::size_t renamed = 0;
  while (error.empty() && renamed < g.size()) {
    if (fs_.rename(tmp(g[renamed].name).c_str(), fresh(g[renamed].name).c_str()) != 0) {
      error = "cannot store message in " + dir_ + ": rename to new/: " + why(errno);
      break;
    }
    ++renamed;
  }
  if (error.empty()) {
    int d = fs_.open((dir_ + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    bool ok = d >= 0 && fs_.fsync(d) == 0;
    int err = errno;
    if (d >= 0) fs_.close(d);
    if (!ok) error = "cannot store message in " + dir_ + ": fsync new/: " + why(err);
  }
  if (!error.empty()) {
    // Neither message nor line may stay for a client told to try again.
    for (std::size_t i = 0; i < renamed; ++i)
      if (fs_.rename(fresh(g[i].name).c_str(), tmp(g[i].name).c_str()) != 0) fs_.unlink(fresh(g[i].name).c_str());
    for (const auto& m : g) fs_.unlink(tmp(m.name).c_str());
    if (appended) {
      std::vector<std::string> ids;
      for (const auto& m : g) ids.push_back(m.result.id);
      journal_.take_back(at, at + text.size(), ids, error);
    }
  }
  std::uint64_t offset = at;
  for (auto& m : g) {
    stored& r = m.result;
    r.pending = false;
    r.ok = error.empty();
    if (r.ok) {
      r.path = fresh(m.name);
      r.envelope_path = journal_.path();
      r.envelope_offset = offset;
    } else {
      r.error = error;
    }
    offset += m.line.size();
  }
}

void maildir_store::complete(commit_group& grp) {
  for (auto& m : grp.members) {
    if (!m.result.ok) note_failure(m.result.error);
    m.ticket->result = std::move(m.result);
    m.ticket->done = true;
  }
}

class discard_writer final : public message_writer {
 public:
  discard_writer(bool hash, std::uint64_t n) : n_(n) {
    if (hash) sha_.emplace();
  }
  void write(std::string_view s) override {
    size_ += s.size();
    if (sha_) sha_->update(s);
  }
  stored commit(const json&, std::shared_ptr<commit_ticket>&) override {
    stored r;
    r.ok = true;
    r.size = size_;
    r.id = "D" + std::to_string(n_);
    if (sha_) r.sha256 = sha_->hex();
    return r;
  }
  void abort() override {}
  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  std::uint64_t n_;
  std::uint64_t size_ = 0;
  std::optional<sha256> sha_;  // only when someone reads the hash (events)
};

class discard_store final : public message_store {
 public:
  explicit discard_store(bool hash) : hash_(hash) {}
  std::unique_ptr<message_writer> begin() override { return std::make_unique<discard_writer>(hash_, ++n_); }

 private:
  bool hash_;
  std::uint64_t n_ = 0;
};

}  // namespace

const fs_ops& real_fs() { return real_ops; }

std::unique_ptr<message_store> message_store::maildir(const std::string& dir, bool durable, const fs_ops& fs) {
  return std::make_unique<maildir_store>(dir, durable, fs);
}

std::unique_ptr<message_store> message_store::discard(bool hash) { return std::make_unique<discard_store>(hash); }

}  // namespace smtpkit::mock
