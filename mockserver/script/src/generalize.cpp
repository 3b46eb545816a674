// generalize.cpp — the C: records of what varies between runs made C~
// patterns: EHLO names (RFC 5321 §4.1.1.1), SIZE (RFC 1870), generated
// fields and date-times (RFC 5322 §3.3, §3.6), boundaries (RFC 2046
// §5.1.1). Where a command's parts are, and a message's, is the grammar's.
#include "smtpkit/mock/script/generalize.hpp"

#include <algorithm>
#include <map>

#include "smtpkit/command.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/message.hpp"
#include "smtpkit/mock/script/message_match.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::mock {
namespace {

// Octets as the literal text of a pattern: the dialogue escapes, "{{" for
// "{". A space before a token stays a space (escape() writes a space that
// ends a record as \x20, for editors that strip trailing white space).
std::string literal(std::string_view bytes, bool ends_record = false) {
  std::string tail;
  while (!ends_record && !bytes.empty() && bytes.back() == ' ') {
    bytes.remove_suffix(1);
    tail += ' ';
  }
  std::string out;
  for (char c : escape(bytes) + tail) {
    out += c;
    if (c == '{') out += '{';
  }
  return out;
}

bool generated(std::string_view name) {
  return std::any_of(generated_fields().begin(), generated_fields().end(),
                     [&](std::string_view n) { return iequals(n, name); });
}

class generalizer {
 public:
  explicit generalizer(const transcript& t) : t_(t) {}

  // Record line -> the pattern text that replaces it.
  std::map<std::size_t, std::string> run() {
    for (std::size_t i = 0; i < t_.records.size(); ++i) {
      const record& r = t_.records[i];
      if (r.kind == record_kind::directive) {
        if (r.name == "tls") data_ = false;
        continue;
      }
      if (r.who == side::server) {
        if (r.kind != record_kind::line) continue;
        auto reply = parse_reply_line(r.payload);
        // RFC 5321 §4.1.1.4: only DATA is answered 354; mail data follows.
        if (reply.ok() && !reply.value.continues() && reply.value.code == 354) start_message();
        continue;
      }
      if (r.kind != record_kind::line) continue;  // C= octets and C~ patterns stay as they are
      if (!data_) {
        command_line(r);
      } else if (r.payload == ".") {
        close_field();
        data_ = false;
      } else {
        message_line(i);
      }
    }
    return std::move(changes_);
  }

 private:
  void start_message() {
    data_ = true;
    header_ = true;
    field_.clear();
    boundaries_.clear();
  }

  void command_line(const record& r) {
    parse_options o;
    o.smtputf8 = true;
    o.relax = lenient::all;
    const command_result c = parse_command(r.payload, o);
    if (c.cmd.kind == verb::ehlo || c.cmd.kind == verb::helo) {
      changes_[r.line] = literal(c.cmd.verb_text) + " {*}";  // the client's own name
      return;
    }
    if (c.cmd.kind != verb::mail || !c.ok()) return;
    for (const esmtp_param& p : c.cmd.params) {
      if (!p.has_value || param_from_keyword(p.keyword) != param_id::size) continue;
      const std::size_t at = static_cast<std::size_t>(p.value.data() - r.payload.data());
      const std::string_view line = r.payload;
      changes_[r.line] = literal(line.substr(0, at)) + "{re:[0-9]+}" + literal(line.substr(at + p.value.size()), true);
    }
  }

  void message_line(std::size_t i) {
    const std::string& text = t_.records[i].payload;
    if (header_) {
      const header_line h = classify_header_line(text);
      if (h.kind == header_line_kind::continuation && !field_.empty()) {
        field_.push_back(i);
        return;
      }
      close_field();
      if (h.kind == header_line_kind::field) field_.push_back(i);
      if (h.kind == header_line_kind::end) header_ = false;
      return;
    }
    for (auto b = boundaries_.rbegin(); b != boundaries_.rend(); ++b) {
      const delimiter_kind d = delimiter_line(text, *b);
      if (d == delimiter_kind::none) continue;
      changes_[t_.records[i].line] = d == delimiter_kind::open ? "--{*}" : "--{*}--";
      header_ = d == delimiter_kind::open;
      return;
    }
  }

  // A header field is complete: pattern what in it varies.
  void close_field() {
    if (field_.empty()) return;
    const std::vector<std::size_t> lines = std::move(field_);
    field_.clear();
    const record& first = t_.records[lines.front()];
    const header_line h = classify_header_line(first.payload);
    if (generated(h.name)) {
      const std::size_t colon = static_cast<std::size_t>(h.value.data() - first.payload.data());
      changes_[first.line] = literal(std::string_view(first.payload).substr(0, colon)) + "{*}";
      for (std::size_t k = 1; k < lines.size(); ++k) {
        const record& more = t_.records[lines[k]];  // folded: its first octet is SP or HT
        changes_[more.line] = literal(std::string_view(more.payload).substr(0, 1)) + "{*}";
      }
      return;
    }
    if (iequals(h.name, "Content-Type")) {
      // The field's body, its lines joined as they were folded.
      std::string body(h.value);
      std::vector<std::size_t> starts{0};
      for (std::size_t k = 1; k < lines.size(); ++k) {
        body += "\r\n";
        starts.push_back(body.size());
        body += t_.records[lines[k]].payload;
      }
      const std::string_view b = multipart_boundary(body);
      if (!b.empty()) {
        boundaries_.emplace_back(b);
        std::size_t at = static_cast<std::size_t>(b.data() - body.data());
        std::size_t k = starts.size() - 1;
        while (starts[k] > at) --k;
        const record& r = t_.records[lines[k]];
        at -= starts[k];
        if (k == 0) at += static_cast<std::size_t>(h.value.data() - first.payload.data());
        const std::string_view line = r.payload;
        changes_[r.line] = literal(line.substr(0, at)) + "{*}" + literal(line.substr(at + b.size()), true);
      }
      return;
    }
    for (std::size_t k : lines) dates(t_.records[k]);
  }

  // RFC 5322 §3.3 date-times inside a field (swaks writes one into Subject).
  void dates(const record& r) {
    std::string_view rest = r.payload;
    std::string pattern;
    bool any = false;
    for (text_span s = find_date_time(rest); s.found(); s = find_date_time(rest)) {
      pattern += literal(rest.substr(0, s.pos)) + "{*}";
      rest.remove_prefix(s.pos + s.size);
      any = true;
    }
    if (any) changes_[r.line] = pattern + literal(rest, true);
  }

  const transcript& t_;
  std::map<std::size_t, std::string> changes_;
  bool data_ = false;
  bool header_ = true;
  std::vector<std::size_t> field_;  // records of the open header field
  std::vector<std::string> boundaries_;
};

}  // namespace

std::variant<generalized, script_error> generalize(std::string_view text, std::string_view source) {
  read_options ro;
  ro.patterns = true;
  ro.extensions = true;
  const read_result t = read_transcript(text, source, ro);
  if (!t.ok()) return script_error{t.error.source, t.error.line, t.error.column, t.error.message};
  const std::map<std::size_t, std::string> changes = generalizer(*t.value).run();

  generalized out;
  out.changed = changes.size();
  bool noted = changes.empty();
  std::size_t n = 0, start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!noted && !line.empty() && line.front() != '#') {
      out.text += "# generalized: " + std::to_string(changes.size()) +
                  " client records that vary between runs are C~ patterns, each after the line it recorded\n";
      noted = true;
    }
    if (auto c = changes.find(n); c != changes.end()) {
      out.text.append("# recorded: ").append(line).append("\nC~ ").append(c->second).append("\n");
    } else {
      out.text.append(line).append("\n");
    }
    start = end + 1;
  }
  // The result must load as a script: a pattern written here that did not
  // compile would be a bug, not the user's problem.
  if (auto r = load_script(out.text, source, side::server); std::holds_alternative<script_error>(r))
    return std::get<script_error>(r);
  return out;
}

}  // namespace smtpkit::mock
