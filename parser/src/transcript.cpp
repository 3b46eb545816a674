// transcript.cpp — reader and writer of the dialogue format v1.
#include "smtpkit/transcript.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "smtpkit/escape.hpp"

namespace smtpkit {

std::string_view to_string(side s) noexcept { return s == side::client ? "client" : "server"; }

std::string transcript::bytes(side s) const {
  std::string out;
  for (const auto& r : records)
    if (r.sends() && r.who == s) out += r.bytes();
  return out;
}

std::string transcript_error::to_string() const {
  std::string s = source;
  if (line > 0) s.append(":").append(std::to_string(line));  // 0: the file as a whole
  if (line > 0 && column > 0) s.append(":").append(std::to_string(column));
  s.append(": ").append(message);
  return s;
}

read_result read_transcript(std::string_view text, std::string_view source, read_options opts) {
  read_result res;
  transcript t;
  t.source = std::string(source);
  auto fail = [&](std::size_t line, std::size_t col, std::string msg) {
    res.error = {std::string(source), line, col, std::move(msg)};
    return res;
  };
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    record r;
    r.line = line_no;
    if (line[0] == '@') {
      std::size_t sp = line.find(' ');
      r.kind = record_kind::directive;
      r.name = std::string(line.substr(1, sp == std::string_view::npos ? std::string_view::npos : sp - 1));
      r.args = sp == std::string_view::npos ? std::string() : std::string(line.substr(sp + 1));
      r.text = std::string(line);
      if (r.name.empty()) return fail(line_no, 2, "expected a directive name after '@'");
      // Directives have no escapes, and a raw CR would not survive writing
      // and reading again (one trailing CR is taken as a CRLF line end).
      for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return fail(line_no, i + 1, "raw control octet in a directive");
      }
      if (r.name == "tls") {
        if (!r.args.empty()) return fail(line_no, 6, "@tls takes no arguments");
      } else if (r.name == "close") {
        if (r.args == "C") r.who = side::client;
        else if (r.args == "S") r.who = side::server;
        else return fail(line_no, std::min<std::size_t>(8, line.size() + 1), "expected 'C' or 'S' after '@close '");
      } else if (r.name == "pause") {
        // Timing of a recording (smtpkit record --timing): it sends nothing,
        // so a recorded transcript with it is still a transcript.
        if (r.args.empty()) return fail(line_no, 7, "expected a duration after '@pause '");
      } else if (!opts.extensions) {
        return fail(line_no, 1, "unknown directive '@" + r.name + "' (transcripts have @tls, @close and @pause)");
      }
      t.records.push_back(std::move(r));
      continue;
    }
    if (line.size() < 2 || (line[0] != 'C' && line[0] != 'S') || (line[1] != ':' && line[1] != '=' && line[1] != '~')) {
      return fail(line_no, 1, "expected a record: 'C:', 'S:', 'C=', 'S=', '@directive' or '# comment'");
    }
    r.who = line[0] == 'C' ? side::client : side::server;
    const char mark = line[1];
    r.kind = mark == ':' ? record_kind::line : mark == '=' ? record_kind::raw : record_kind::pattern;
    if (r.kind == record_kind::pattern && !opts.patterns)
      return fail(line_no, 1, std::string("pattern record '") + line[0] + "~' is only allowed in scripts");
    std::string_view payload;
    if (line.size() > 2) {
      if (line[2] != ' ') return fail(line_no, 3, std::string("expected one space after '") + line[0] + mark + "'");
      payload = line.substr(3);
    }
    r.text = std::string(payload);
    if (r.kind == record_kind::pattern) {
      // Patterns are literal text without escapes: like directives, no raw
      // controls (a trailing CR would be lost on writing and reading again).
      for (std::size_t i = 0; i < payload.size(); ++i) {
        const auto c = static_cast<unsigned char>(payload[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return fail(line_no, 4 + i, "raw control octet in a pattern");
      }
      r.payload = r.text;
    } else {
      unescape_error ue;
      if (!unescape(payload, r.payload, ue)) return fail(line_no, 4 + ue.column, ue.message);
      if (r.kind == record_kind::raw && r.payload.empty())
        return fail(line_no, 3,
                    std::string("'") + line[0] + "=' needs a payload (use '" + line[0] + ":' for an empty line)");
    }
    t.records.push_back(std::move(r));
  }
  res.value = std::move(t);
  return res;
}

std::string open_failure(int error_number) {
  if (error_number == ENOENT || error_number == ENOTDIR) return "no such file or folder";
  return std::string("cannot read: ") + std::strerror(error_number);
}

read_result read_transcript_file(const std::string& path, read_options opts) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    read_result r;
    r.error = {path, 0, 0, open_failure(errno != 0 ? errno : EIO)};
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return read_transcript(ss.str(), path, opts);
}

std::string format_record(const record& r) {
  if (r.kind == record_kind::directive) return "@" + r.name + (r.args.empty() ? "" : " " + r.args);
  std::string s(1, side_letter(r.who));
  s.push_back(r.kind == record_kind::line ? ':' : r.kind == record_kind::raw ? '=' : '~');
  std::string body = r.kind == record_kind::pattern ? r.text : escape(r.payload);
  if (!body.empty()) s += " " + body;
  return s;
}

void transcript_writer::comment(std::string_view text) {
  flush();
  out_ += "# ";
  out_ += text;
  out_ += '\n';
}

void transcript_writer::emit_line(side who, std::string_view content, bool crlf) {
  out_.push_back(side_letter(who));
  out_.push_back(crlf ? ':' : '=');
  std::string body = escape(content);
  if (!body.empty()) {
    out_.push_back(' ');
    out_ += body;
  }
  out_.push_back('\n');
}

void transcript_writer::flush_side(side who) {
  std::string& p = pending_[static_cast<int>(who)];
  if (!p.empty()) {
    emit_line(who, p, false);
    p.clear();
  }
}

void transcript_writer::sent(side who, std::string_view bytes) {
  if (bytes.empty()) return;
  // The other side's partial line is written first: order is what was sent.
  flush_side(who == side::client ? side::server : side::client);
  last_ = who;
  std::string& p = pending_[static_cast<int>(who)];
  p.append(bytes);
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = p.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl > start && p[nl - 1] == '\r') emit_line(who, std::string_view(p).substr(start, nl - 1 - start), true);
    else emit_line(who, std::string_view(p).substr(start, nl + 1 - start), false);
    start = nl + 1;
  }
  p.erase(0, start);
}

void transcript_writer::directive(std::string_view name, std::string_view args) {
  flush();
  out_ += '@';
  out_ += name;
  if (!args.empty()) {
    out_ += ' ';
    out_ += args;
  }
  out_ += '\n';
}

void transcript_writer::tls() { directive("tls"); }

void transcript_writer::close(side who) { directive("close", who == side::client ? "C" : "S"); }

void transcript_writer::flush() {
  flush_side(side::client);
  flush_side(side::server);
}

std::string transcript_writer::take() {
  flush();
  std::string s = std::move(out_);
  out_.clear();
  return s;
}

}  // namespace smtpkit
