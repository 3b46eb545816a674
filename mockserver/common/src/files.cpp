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
  bool ok = true;
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ok = false;
      break;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  ::close(fd);
  return ok;
}

}  // namespace smtpkit::mock
