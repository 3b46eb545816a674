// smtpkit/mock/common/files.hpp — the few file operations the server and the recorder share:
// creating an output folder (with a message a user can act on) and writing
// a transcript out in pieces.
#pragma once

#include <string>
#include <string_view>

namespace smtpkit::mock {

/// mkdir -p; throws setup_error naming the folder that could not be made.
void make_dirs(const std::string& path);

/// Writes `text` to `path`, truncating it first or appending; false (errno
/// says why) when the file cannot be opened or written in full (the caller
/// decides whether that matters).
bool write_file(const std::string& path, std::string_view text, bool append);

}  // namespace smtpkit::mock
