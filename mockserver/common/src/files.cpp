// files.cpp — output folders and transcript files.
#include "smtpkit/mock/common/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

bool write_file(const std::string& path, std::string_view text, bool append) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return false;
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

}  // namespace smtpkit::mock
