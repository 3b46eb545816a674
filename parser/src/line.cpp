// line.cpp — streaming line framer (RFC 5321 §2.3.8, §4.5.3.1).
#include "smtpkit/line.hpp"

#include "scan.hpp"

namespace smtpkit {

std::string_view to_string(line_ending e) noexcept {
  switch (e) {
    case line_ending::crlf: return "crlf";
    case line_ending::lf: return "lf";
    case line_ending::cr: return "cr";
    case line_ending::none: break;
  }
  return "none";
}

void line_framer::note(std::size_t pos, unsigned char c) noexcept {
  errc code = errc::ok;
  if (c == 0) {
    flags_ |= has_nul;
    code = errc::nul_byte;
  } else if (c == '\t') {
    flags_ |= has_tab;
  } else if (c >= 0x80) {
    flags_ |= has_8bit;
  } else {
    flags_ |= has_control;
    code = errc::control_char;
  }
  if (code != errc::ok && first_bad_ == npos_) {
    first_bad_ = pos;
    bad_code_ = code;
  }
}

line_framer::specials_pair line_framer::block_specials(const char* p, std::size_t avail) noexcept {
  return {detail::line_special_mask64(p), avail >= 128 ? detail::line_special_mask64(p + 64) : 0};
}

line_result line_framer::emit(std::string_view buf, std::size_t end, std::size_t term_len, line_ending e) noexcept {
  line_result r;
  r.status = line_status::line;
  r.ending = e;
  r.flags = flags_;
  r.line = buf.substr(0, end);
  r.consumed = end + term_len;
  if (first_bad_ != npos_) {
    r.diag = {bad_code_, static_cast<std::uint32_t>(first_bad_)};
  } else if (e == line_ending::cr) {
    r.diag = {errc::bare_cr, static_cast<std::uint32_t>(end)};
  } else if (e == line_ending::lf && !opts_.allows(lenient::bare_lf)) {
    r.diag = {errc::bare_lf, static_cast<std::uint32_t>(end)};
  }
  scanned_ = 0;
  flags_ = 0;
  first_bad_ = npos_;
  bad_code_ = errc::ok;
  return r;
}

line_result line_framer::next(std::string_view buf) noexcept {
  const char* base = buf.data();
  const std::size_t n = buf.size();

  if (discarding_) {
    // Drop the rest of an over-long line, up to and including its terminator.
    // A peer can send such a line forever: scan it at vector speed.
    for (std::size_t i = 0; i < n; ++i) {
      bool high = false;
      i = static_cast<std::size_t>(detail::find_cr_lf_nul(base + i, base + n, high) - base);
      if (i >= n) break;
      char c = base[i];
      if (c != '\n' && c != '\r') continue;  // NUL: keep going
      std::size_t term = 1;
      line_ending e = c == '\n' ? line_ending::lf : line_ending::cr;
      if (c == '\r') {
        if (i + 1 == n) {  // cannot tell CRLF from bare CR yet
          discarded_ += i;
          line_result r;
          r.consumed = i;
          return r;
        }
        if (base[i + 1] == '\n') {
          term = 2;
          e = line_ending::crlf;
        }
      }
      line_result r;
      r.status = line_status::overflow_end;
      r.ending = e;
      r.consumed = i + term;
      r.length = discarded_ + i + term;
      r.diag = {errc::line_too_long, static_cast<std::uint32_t>(limit_)};
      discarding_ = false;
      discarded_ = 0;
      return r;
    }
    discarded_ += n;
    line_result r;
    r.consumed = n;
    return r;
  }

  // Content may reach limit-1 octets (a bare LF then makes exactly limit).
  const std::size_t stop = n < limit_ ? n : limit_;
  std::size_t i = scanned_;
  while (i < stop) {
    const char* hit = detail::find_line_special(base + i, base + stop);
    i = static_cast<std::size_t>(hit - base);
    if (i >= stop) break;
    const unsigned char c = static_cast<unsigned char>(base[i]);
    if (c == '\n') return emit(buf, i, 1, line_ending::lf);
    if (c == '\r') {
      if (i + 1 >= n) {  // undecidable until the next octet arrives
        scanned_ = i;
        return {};
      }
      if (base[i + 1] == '\n') {
        if (i + 2 > limit_) break;  // CRLF would pass the limit
        return emit(buf, i, 2, line_ending::crlf);
      }
      return emit(buf, i, 1, line_ending::cr);
    }
    note(i, c);
    ++i;
  }
  if (i < limit_ && n < limit_) {
    scanned_ = i;
    return {};
  }

  // Over the limit: hand out the head, then discard to the terminator.
  line_result r;
  r.status = line_status::overflow;
  std::size_t head = limit_;
  if (head > n) head = n;
  if (head > 0 && base[head - 1] == '\r') --head;  // keep a CR with its LF
  r.line = buf.substr(0, head);
  r.consumed = head;
  r.flags = flags_;
  r.diag = {errc::line_too_long, static_cast<std::uint32_t>(limit_)};
  discarding_ = true;
  discarded_ = head;
  scanned_ = 0;
  flags_ = 0;
  first_bad_ = npos_;
  bad_code_ = errc::ok;
  return r;
}

line_result line_framer::finish(std::string_view buf) noexcept {
  if (discarding_) {
    line_result r;
    r.status = line_status::overflow_end;
    r.consumed = buf.size();
    r.length = discarded_ + buf.size();
    r.diag = {errc::line_too_long, static_cast<std::uint32_t>(limit_)};
    discarding_ = false;
    discarded_ = 0;
    return r;
  }
  line_result r = next(buf);
  if (r.status != line_status::need_more || buf.empty()) return r;
  // What is left has no terminator; a trailing CR is a bare CR.
  std::size_t end = buf.size();
  if (buf.back() == '\r') return emit(buf, end - 1, 1, line_ending::cr);
  for (std::size_t i = scanned_; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(buf[i]);
    if (detail::line_special[c]) note(i, c);
  }
  return emit(buf, end, 0, line_ending::none);
}

}  // namespace smtpkit
