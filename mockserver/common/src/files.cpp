// files.cpp — output folders and transcript files.
#include "smtpkit/mock/common/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "smtpkit/mock/common/endpoint.hpp"

namespace smtpkit::mock {

void make_dirs(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        throw setup_error("cannot create folder " + cur + ": " + std::strerror(errno));
    }
    if (i < path.size()) cur += path[i];
  }
}

std::string temp_root() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

std::string make_temp_dir(std::string_view prefix) {
  std::string templ = temp_root() + "/" + std::string(prefix) + "-XXXXXX";
  return ::mkdtemp(templ.data()) != nullptr ? templ : std::string();
}

namespace {

bool write_all(int fd, std::string_view text) {
  const char* p = text.data();
  std::size_t n = text.size();
  int err = 0;
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      break;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  // close() reports late errors (NFS, quotas) too; either way errno says why.
  if (::close(fd) != 0 && err == 0) err = errno;
  errno = err;
  return err == 0;
}

bool any_starts_with(const std::string& dir, const std::string& prefix) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (const dirent* e = ::readdir(d))
    if (std::string_view(e->d_name).starts_with(prefix)) {
      found = true;
      break;
    }
  ::closedir(d);
  return found;
}

}  // namespace

bool write_file(const std::string& path, std::string_view text, bool append) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return false;
  return write_all(fd, text);
}

bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

std::string new_run_id(const std::string& dir) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::string id = stamp;
  for (int n = 2; any_starts_with(dir, id + "-") && n < 10000; ++n) id = std::string(stamp) + "-" + std::to_string(n);
  return id;
}

std::string create_file(const std::string& path, std::string_view text) {
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  for (int n = 1; n < 10000; ++n) {
    std::string p = path;
    if (n > 1)
      p = has_ext ? path.substr(0, dot) + "." + std::to_string(n) + path.substr(dot) : path + "." + std::to_string(n);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return write_all(fd, text) ? p : std::string();
    if (errno != EEXIST) return {};
  }
  return {};
}

}  // namespace smtpkit::mock
