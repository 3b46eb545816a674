// storage.cpp — Maildir and discard message stores.
#include "storage.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace smtpkit::mock {
namespace {

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

std::string err(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void make_dir(const std::string& d) {
  if (::mkdir(d.c_str(), 0755) == 0) return;
  if (errno != EEXIST) throw std::runtime_error(err("cannot create folder", d));
  // EEXIST also comes for a file of that name: it must be a folder.
  struct stat st {};
  if (::stat(d.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    errno = ENOTDIR;
  }
  throw std::runtime_error(err("cannot create folder", d));
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool sync_dir(const std::string& d) {
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string host_part() {
  char h[256] = {0};
  ::gethostname(h, sizeof h - 1);
  std::string s;
  for (char* p = h; *p; ++p) s += (*p == '/' || *p == ':') ? '_' : *p;
  return s.empty() ? "localhost" : s;
}

class maildir_store;

class maildir_writer final : public message_writer {
 public:
  maildir_writer(const std::string& dir, bool durable, std::string name)
      : dir_(dir), durable_(durable), name_(std::move(name)) {
    tmp_ = dir_ + "/tmp/" + name_;
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) error_ = err("cannot create", tmp_);
  }
  ~maildir_writer() override { abort(); }

  void write(std::string_view s) override {
    size_ += s.size();
    hash_.update(s);
    if (fd_ < 0) return;
    buf_.append(s);
    if (buf_.size() >= (1u << 16)) flush();
  }

  stored commit(const nlohmann::ordered_json& envelope) override {
    stored r;
    r.size = size_;
    r.sha256 = hash_.hex();
    r.id = name_.substr(0, name_.find('.', name_.find('.') + 1));
    flush();
    if (fd_ < 0 || !error_.empty()) {
      r.error = error_.empty() ? "message file not open" : error_;
      abort();
      return r;
    }
    if (durable_ && ::fsync(fd_) != 0) {
      r.error = err("cannot fsync", tmp_);
      abort();
      return r;
    }
    ::close(fd_);
    fd_ = -1;
    nlohmann::ordered_json env = envelope;
    env["size"] = size_;
    env["sha256"] = r.sha256;
    const std::string env_tmp = dir_ + "/tmp/" + name_ + ".envelope";
    const std::string env_path = dir_ + "/envelope/" + name_ + ".json";
    const std::string path = dir_ + "/new/" + name_;
    std::string text = env.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    int efd = ::open(env_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = efd >= 0 && write_all(efd, text.data(), text.size()) && (!durable_ || ::fsync(efd) == 0);
    if (efd >= 0) ::close(efd);
    ok = ok && ::rename(env_tmp.c_str(), env_path.c_str()) == 0;
    // The message appears in new/ last: that rename is the commit point.
    ok = ok && ::rename(tmp_.c_str(), path.c_str()) == 0;
    if (ok && durable_) ok = sync_dir(dir_ + "/envelope") && sync_dir(dir_ + "/new");
    if (!ok) {
      r.error = err("cannot store message in", dir_);
      ::unlink(env_tmp.c_str());
      ::unlink(tmp_.c_str());
      return r;
    }
    committed_ = true;
    r.ok = true;
    r.path = path;
    r.envelope_path = env_path;
    return r;
  }

  void abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
    tmp_.clear();
  }

  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  void flush() {
    if (fd_ >= 0 && !buf_.empty() && !write_all(fd_, buf_.data(), buf_.size())) error_ = err("cannot write", tmp_);
    buf_.clear();
  }

  std::string dir_;
  bool durable_;
  std::string name_;
  std::string tmp_;
  int fd_ = -1;
  std::string buf_;
  std::string error_;
  std::uint64_t size_ = 0;
  sha256 hash_;
  bool committed_ = false;
};

class maildir_store final : public message_store {
 public:
  maildir_store(std::string dir, bool durable) : dir_(std::move(dir)), durable_(durable), host_(host_part()) {
    make_dir(dir_);
    for (const char* sub : {"/tmp", "/new", "/cur", "/envelope"}) make_dir(dir_ + sub);
    // Prove the folder is writable now, not at the first message: a message
    // is written in tmp/, its envelope goes to envelope/, then it moves to new/.
    for (const char* sub : {"/new", "/envelope"})
      if (::access((dir_ + sub).c_str(), W_OK | X_OK) != 0)
        throw std::runtime_error(err("cannot write to maildir", dir_ + sub));
    std::string probe = dir_ + "/tmp/.smtpkit-write-test." + std::to_string(::getpid());
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(err("cannot write to maildir", dir_));
    ::close(fd);
    ::unlink(probe.c_str());
  }
  std::unique_ptr<message_writer> begin() override {
    using namespace std::chrono;
    auto now = system_clock::now().time_since_epoch();
    auto secs = duration_cast<seconds>(now).count();
    auto usec = duration_cast<microseconds>(now).count() % 1000000;
    // maildir(5): time.M<usec>P<pid>Q<count>.host
    std::string name = std::to_string(secs) + ".M" + std::to_string(usec) + "P" + std::to_string(::getpid()) + "Q" +
                       std::to_string(++counter_) + "." + host_;
    return std::make_unique<maildir_writer>(dir_, durable_, std::move(name));
  }

 private:
  std::string dir_;
  bool durable_;
  std::string host_;
  std::uint64_t counter_ = 0;
};

class discard_writer final : public message_writer {
 public:
  discard_writer(bool hash, std::uint64_t n) : hash_(hash), n_(n) {}
  void write(std::string_view s) override {
    size_ += s.size();
    if (hash_) sha_.update(s);
  }
  stored commit(const nlohmann::ordered_json&) override {
    stored r;
    r.ok = true;
    r.size = size_;
    r.id = "D" + std::to_string(n_);
    if (hash_) r.sha256 = sha_.hex();
    return r;
  }
  void abort() override {}
  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  bool hash_;
  std::uint64_t n_;
  std::uint64_t size_ = 0;
  sha256 sha_;
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

std::unique_ptr<message_store> message_store::maildir(const std::string& dir, bool durable) {
  return std::make_unique<maildir_store>(dir, durable);
}

std::unique_ptr<message_store> message_store::discard(bool hash) { return std::make_unique<discard_store>(hash); }

}  // namespace smtpkit::mock
