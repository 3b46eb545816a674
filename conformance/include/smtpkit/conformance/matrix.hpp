// smtpkit/conformance/matrix.hpp — `smtpkit report matrix`: many probe runs
// (the JSON reports of `smtpkit probe server --format json`, one per
// implementation, e.g. one per job of a CI matrix) joined into one
// implementation × scenario table, as Markdown or as one self-contained
// HTML page, so users publish how their servers do the way
// docs/conformance-matrix.md shows Debian's.
//
// A run is a probe report, or {"version": ..., "report": {...}} as
// scripts/gen_matrix.py saves them. Rows are the union of the runs'
// scenarios, in the order they first appear; a scenario a run did not have
// is an empty cell.
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smtpkit::conformance {

struct matrix_cell {
  std::string verdict;       ///< "pass", "fail", "not-applicable", "error", "not-done", "" (not run)
  std::string failed_level;  ///< "MUST", "SHOULD", "MAY" for fail and not-done
  std::string outcome;       ///< end-of-data probes: "accepted-as-end-of-data", "kept-in-message", "rejected"
  bool waived = false;
};

struct matrix_row {
  std::string id, title, group, level, file;
  std::vector<matrix_cell> cells;  ///< one per column
};

struct matrix_column {
  std::string name;     ///< given as NAME=FILE, else the file's name without .json
  std::string target;   ///< what the run probed
  std::string version;  ///< when the run says
  std::string verdict;  ///< the run's verdict
  std::size_t pass = 0, fail_must = 0, fail_should = 0, fail_may = 0, not_done = 0, na = 0, error = 0, waived = 0;
};

struct matrix {
  std::vector<matrix_column> columns;
  std::vector<matrix_row> rows;
};

/// A run that cannot be read: "FILE: what is wrong".
struct matrix_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Reads runs given as FILE or NAME=FILE; throws matrix_error.
[[nodiscard]] matrix load_matrix(const std::vector<std::string>& runs);

void write_matrix_markdown(std::ostream& out, const matrix& m, const std::string& title);
/// Text made safe for a Markdown table cell: '|' escaped, and '<' '>' as
/// entities (a "<CRLF>" would be read as an HTML tag and vanish).
std::string markdown_cell(std::string_view s);
void write_matrix_html(std::ostream& out, const matrix& m, const std::string& title);

}  // namespace smtpkit::conformance
