// smtpkit/mock/common/files.hpp — the few file operations the server and the recorder share:
// creating an output folder (with a message a user can act on), naming a
// run's files so that no run replaces an earlier one's, and writing a
// transcript out in pieces.
#pragma once

#include <string>
#include <string_view>

namespace smtpkit::mock {

/// mkdir -p; throws setup_error naming the folder that could not be made.
void make_dirs(const std::string& path);

/// $TMPDIR, or /tmp without it.
[[nodiscard]] std::string temp_root();

/// A new folder TEMP_ROOT/PREFIX-XXXXXX of this process's own; "" with
/// errno set when it cannot be made.
[[nodiscard]] std::string make_temp_dir(std::string_view prefix);

/// Writes `text` to `path`, truncating it first or appending; false (errno
/// says why) when the file cannot be opened or written in full (the caller
/// decides whether that matters).
bool write_file(const std::string& path, std::string_view text, bool append);

/// The whole of `path` into `out`; false (errno says why) when it cannot
/// be opened or read.
bool read_file(const std::string& path, std::string& out);

/// A name for this run's files in `dir` that no file there starts with yet:
/// the UTC time, "20261201T101500Z", then "-2", "-3", ... when one does.
[[nodiscard]] std::string new_run_id(const std::string& dir);

/// Creates `path` with `text`, never replacing a file: when `path` exists
/// (another run chose the same name at the same moment), "NAME.2.EXT",
/// "NAME.3.EXT", ... Returns the path written; "" when none could be.
[[nodiscard]] std::string create_file(const std::string& path, std::string_view text);

}  // namespace smtpkit::mock
