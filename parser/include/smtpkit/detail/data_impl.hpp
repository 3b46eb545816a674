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
data_result data_decoder::feed(std::string_view piece, Handler& h) {
  data_result res;
  if (state_ == st::done) {
    res.done = true;
    return res;
  }
  const char* p = piece.data();
  const std::size_t n = piece.size();
  std::size_t i = 0;
  std::size_t run = 0;  // start of content not yet handed out
  auto flush = [&](std::size_t end) {
    if (end > run) emit(h, piece.substr(run, end - run));
    run = end;
  };
  auto finish = [&](std::size_t end, data_anomaly by) {
    state_ = st::done;
    offset_ += end;
    res.consumed = end;
    res.done = true;
    res.ended_by = by;
    return res;
  };
  // A held-back "." sequence turned out to be content.
  auto release = [&](std::string_view held) {
    flush(i);
    emit(h, held);
    run = i;
  };
  // A "." variant: report it; true when the caller asked to treat it as the end.
  auto variant = [&](data_anomaly a) {
    report(h, a, offset_ + i);
    return accepts(a);
  };
  auto new_line = [&] {
    line_len_ = 0;
    long_reported_ = false;
  };

  while (i < n) {
    switch (state_) {
      case st::mid: {
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
        if (i == n) break;
        const char c = p[i];
        if (c == '\r') {
          // The usual line end: CRLF and a next line that starts with
          // neither "." nor NUL. Take it here rather than through the cr
          // and bol_crlf states, which would do the same a step at a time.
          if (i + 2 < n && p[i + 1] == '\n' && p[i + 2] != '.' && p[i + 2] != '\0') {
            i += 2;
            new_line();
            break;
          }
          ++i;
          state_ = st::cr;
        } else if (c == '\n') {
          report(h, data_anomaly::bare_lf, offset_ + i);
          ++i;
          new_line();
          state_ = st::bol_lf;
        } else {  // NUL
          report(h, data_anomaly::nul, offset_ + i);
          ++i;
          ++line_len_;
        }
        break;
      }
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
          flush(i);
          run = ++i;
          state_ = st::dot_crlf;
        } else if (p[i] == '\0') {
          report(h, data_anomaly::nul, offset_ + i);
          flush(i);
          run = ++i;
          state_ = st::nul_crlf;
        } else {
          state_ = st::mid;
        }
        break;
      case st::bol_lf:
      case st::bol_cr:
        if (p[i] == '.') {
          flush(i);
          run = ++i;
          state_ = state_ == st::bol_lf ? st::dot_lf : st::dot_cr;
        } else {
          state_ = st::mid;
        }
        break;
      case st::dot_crlf:  // held "." after CRLF: a stuffed dot unless the line is "."
        if (p[i] == '\r') {
          run = ++i;
          state_ = st::dot_crlf_cr;
        } else {
          if (p[i] == '\n' && variant(data_anomaly::crlf_dot_lf)) return finish(i + 1, data_anomaly::crlf_dot_lf);
          run = i;  // the dot is dropped (§4.5.2)
          state_ = st::mid;
        }
        break;
      case st::dot_crlf_cr:  // held ".\r" after CRLF
        if (p[i] == '\n') return finish(i + 1, data_anomaly::count_);
        if (variant(data_anomaly::crlf_dot_cr)) return finish(i, data_anomaly::crlf_dot_cr);
        release("\r");  // the dot was stuffing; the CR is a bare CR
        report(h, data_anomaly::bare_cr, offset_ + i - 1);
        new_line();
        state_ = st::bol_cr;
        break;
      case st::dot_lf:
      case st::dot_cr: {  // held "." after a bare LF / CR: content, never stuffing
        const bool lf = state_ == st::dot_lf;
        if (p[i] == '\r') {
          run = ++i;
          state_ = lf ? st::dot_lf_cr : st::dot_cr_cr;
        } else {
          if (p[i] == '\n') {
            auto a = lf ? data_anomaly::lf_dot_lf : data_anomaly::cr_dot_lf;
            if (variant(a)) return finish(i + 1, a);
          }
          release(".");
          state_ = st::mid;
        }
        break;
      }
      case st::dot_lf_cr:
      case st::dot_cr_cr: {  // held ".\r" after a bare LF / CR
        const bool lf = state_ == st::dot_lf_cr;
        if (p[i] == '\n') {
          auto a = lf ? data_anomaly::lf_dot_crlf : data_anomaly::cr_dot_crlf;
          if (variant(a)) return finish(i + 1, a);
          release(".\r");
          ++i;
          new_line();
          state_ = st::bol_crlf;
        } else {
          auto a = lf ? data_anomaly::lf_dot_cr : data_anomaly::cr_dot_cr;
          if (variant(a)) return finish(i, a);
          release(".\r");
          report(h, data_anomaly::bare_cr, offset_ + i - 1);
          new_line();
          state_ = st::bol_cr;
        }
        break;
      }
      case st::nul_crlf:  // held NUL after CRLF
        if (p[i] == '.') {
          run = ++i;
          state_ = st::nul_dot;
        } else {
          release(std::string_view("\0", 1));
          state_ = st::mid;
        }
        break;
      case st::nul_dot:  // held NUL "."
        if (p[i] == '\r') {
          run = ++i;
          state_ = st::nul_dot_cr;
        } else {
          release(std::string_view("\0.", 2));
          state_ = st::mid;
        }
        break;
      case st::nul_dot_cr:  // held NUL ".\r"
        if (p[i] == '\n') {
          if (variant(data_anomaly::nul_dot)) return finish(i + 1, data_anomaly::nul_dot);
          release(std::string_view("\0.\r", 3));
          ++i;
          new_line();
          state_ = st::bol_crlf;
        } else {
          release(std::string_view("\0.\r", 3));
          report(h, data_anomaly::bare_cr, offset_ + i - 1);
          new_line();
          state_ = st::bol_cr;
        }
        break;
      case st::done: return finish(i, data_anomaly::count_);
    }
  }
  // Held states advanced `run` past their octets, so this hands out content only.
  flush(n);
  offset_ += n;
  res.consumed = n;
  return res;
}

}  // namespace smtpkit
