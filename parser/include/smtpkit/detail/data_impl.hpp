// smtpkit/detail/data_impl.hpp — the DATA decoder's state machine (RFC
// 5321 §4.1.1.4, §4.5.2). Included by data.hpp; the end-of-data
// transitions follow the table in data.hpp's states: every "." framed by
// CR/LF combinations is tracked so each smuggling variant is reported by
// name. The run through ordinary lines is data_decoder::pass_lines, in
// data.cpp, which keeps the vector scan out of this header.
#pragma once

namespace smtpkit {

template <class Handler>
void data_decoder::report(Handler& h, data_anomaly a, std::uint64_t at) {
  seen_ |= anomaly_bit(a);
  h.anomaly(a, at);
}

template <class Handler>
void data_decoder::emit(Handler& h, std::string_view s) {
  if (s.empty()) return;
  content_ += s.size();
  h.body(s);
}

template <class Handler>
void data_decoder::flush(cursor& c, Handler& h, std::size_t end) {
  if (end > c.run) emit(h, c.piece.substr(c.run, end - c.run));
  c.run = end;
}

template <class Handler>
void data_decoder::release(cursor& c, Handler& h, std::string_view held) {
  flush(c, h, c.i);
  emit(h, held);
  c.run = c.i;
}

template <class Handler>
bool data_decoder::variant(cursor& c, Handler& h, data_anomaly a, std::size_t end) {
  report(h, a, offset_ + c.i);
  if (!accepts(a)) return false;
  c.end = true;
  c.i = end;
  c.ended_by = a;
  return true;
}

template <class Handler>
data_result data_decoder::feed(std::string_view piece, Handler& h) {
  data_result res;
  if (state_ == st::done) {
    res.done = true;
    return res;
  }
  cursor c{piece};
  while (c.i < piece.size() && !c.end) {
    switch (state_) {
      case st::mid: step_mid(c, h); break;
      case st::cr:
      case st::bol_crlf:
      case st::bol_lf:
      case st::bol_cr: step_line_start(c, h); break;
      case st::done: c.end = true; break;
      default: step_held(c, h); break;
    }
  }
  if (c.end) {
    // Held states advanced `run` past their octets: nothing is left to hand out.
    state_ = st::done;
    offset_ += c.i;
    res.consumed = c.i;
    res.done = true;
    res.ended_by = c.ended_by;
    return res;
  }
  flush(c, h, piece.size());
  offset_ += piece.size();
  res.consumed = piece.size();
  return res;
}

template <class Handler>
void data_decoder::step_mid(cursor& c, Handler& h) {
  const char* p = c.piece.data();
  const std::size_t n = c.piece.size();
  std::size_t& i = c.i;
  bool high = false;
  const std::size_t j = pass_lines(p, i, n, high);
  if (high && !eight_bit_reported_) {
    std::size_t k = i;
    while (static_cast<unsigned char>(p[k]) < 0x80) ++k;
    eight_bit_reported_ = true;
    report(h, data_anomaly::eight_bit, offset_ + k);
  }
  line_len_ += j - i;
  if (line_len_ > 998 && !long_reported_) {
    long_reported_ = true;
    // At the line's 999th octet, not at the end of this run, so the
    // offset does not depend on how the stream was cut into pieces.
    report(h, data_anomaly::line_too_long, offset_ + j - (line_len_ - 998));
  }
  i = j;
  if (i == n) return;
  const char ch = p[i];
  if (ch == '\r') {
    // The usual line end: CRLF and a next line that starts with
    // neither "." nor NUL. Take it here rather than through the cr
    // and bol_crlf states, which would do the same a step at a time.
    if (i + 2 < n && p[i + 1] == '\n' && p[i + 2] != '.' && p[i + 2] != '\0') {
      i += 2;
      new_line();
      return;
    }
    ++i;
    state_ = st::cr;
  } else if (ch == '\n') {
    report(h, data_anomaly::bare_lf, offset_ + i);
    ++i;
    new_line();
    state_ = st::bol_lf;
  } else {  // NUL
    report(h, data_anomaly::nul, offset_ + i);
    ++i;
    ++line_len_;
  }
}

template <class Handler>
void data_decoder::step_line_start(cursor& c, Handler& h) {
  const char* p = c.piece.data();
  std::size_t& i = c.i;
  switch (state_) {
    case st::cr:
      if (p[i] == '\n') {
        ++i;
        new_line();
        state_ = st::bol_crlf;
      } else {
        report(h, data_anomaly::bare_cr, offset_ + i - 1);
        new_line();
        state_ = st::bol_cr;
      }
      break;
    case st::bol_crlf:
      if (p[i] == '.') {
        flush(c, h, i);
        c.run = ++i;
        state_ = st::dot_crlf;
      } else if (p[i] == '\0') {
        report(h, data_anomaly::nul, offset_ + i);
        flush(c, h, i);
        c.run = ++i;
        state_ = st::nul_crlf;
      } else {
        state_ = st::mid;
      }
      break;
    default:  // bol_lf, bol_cr
      if (p[i] == '.') {
        flush(c, h, i);
        c.run = ++i;
        state_ = state_ == st::bol_lf ? st::dot_lf : st::dot_cr;
      } else {
        state_ = st::mid;
      }
      break;
  }
}

template <class Handler>
void data_decoder::step_held(cursor& c, Handler& h) {
  const char* p = c.piece.data();
  std::size_t& i = c.i;
  // A held ".\r" (after a bare LF or CR, or NUL "." after CRLF) whose CR
  // was not followed by LF: content, and the CR a bare CR.
  auto bare_cr_after = [&](std::string_view held) {
    release(c, h, held);
    report(h, data_anomaly::bare_cr, offset_ + i - 1);
    new_line();
    state_ = st::bol_cr;
  };
  switch (state_) {
    case st::dot_crlf:  // held "." after CRLF: a stuffed dot unless the line is "."
      if (p[i] == '\r') {
        c.run = ++i;
        state_ = st::dot_crlf_cr;
      } else if (!(p[i] == '\n' && variant(c, h, data_anomaly::crlf_dot_lf, i + 1))) {
        c.run = i;  // the dot is dropped (§4.5.2)
        state_ = st::mid;
      }
      break;
    case st::dot_crlf_cr:  // held ".\r" after CRLF
      if (p[i] == '\n') {
        c.end = true;
        ++i;
      } else if (!variant(c, h, data_anomaly::crlf_dot_cr, i)) {
        bare_cr_after("\r");  // the dot was stuffing
      }
      break;
    case st::dot_lf:
    case st::dot_cr: {  // held "." after a bare LF / CR: content, never stuffing
      const bool lf = state_ == st::dot_lf;
      if (p[i] == '\r') {
        c.run = ++i;
        state_ = lf ? st::dot_lf_cr : st::dot_cr_cr;
      } else if (!(p[i] == '\n' && variant(c, h, lf ? data_anomaly::lf_dot_lf : data_anomaly::cr_dot_lf, i + 1))) {
        release(c, h, ".");
        state_ = st::mid;
      }
      break;
    }
    case st::dot_lf_cr:
    case st::dot_cr_cr: {  // held ".\r" after a bare LF / CR
      const bool lf = state_ == st::dot_lf_cr;
      if (p[i] == '\n') {
        if (variant(c, h, lf ? data_anomaly::lf_dot_crlf : data_anomaly::cr_dot_crlf, i + 1)) break;
        release(c, h, ".\r");
        ++i;
        new_line();
        state_ = st::bol_crlf;
      } else if (!variant(c, h, lf ? data_anomaly::lf_dot_cr : data_anomaly::cr_dot_cr, i)) {
        bare_cr_after(".\r");
      }
      break;
    }
    case st::nul_crlf:  // held NUL after CRLF
      if (p[i] == '.') {
        c.run = ++i;
        state_ = st::nul_dot;
      } else {
        release(c, h, std::string_view("\0", 1));
        state_ = st::mid;
      }
      break;
    case st::nul_dot:  // held NUL "."
      if (p[i] == '\r') {
        c.run = ++i;
        state_ = st::nul_dot_cr;
      } else {
        release(c, h, std::string_view("\0.", 2));
        state_ = st::mid;
      }
      break;
    default:  // nul_dot_cr: held NUL ".\r"
      if (p[i] != '\n') {
        bare_cr_after(std::string_view("\0.\r", 3));
      } else if (!variant(c, h, data_anomaly::nul_dot, i + 1)) {
        release(c, h, std::string_view("\0.\r", 3));
        ++i;
        new_line();
        state_ = st::bol_crlf;
      }
      break;
  }
}

}  // namespace smtpkit
