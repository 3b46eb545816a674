// script_data.cpp — a dialogue's mail data: the message after a 354 the
// dialogue sent (RFC 5321 §4.1.1.4) and BDAT chunks (RFC 3030 §2), taken as
// data and never answered inside, compared with the recorded message once
// it has come (smtpkit/mock/script/message_match.hpp), then answered with
// the recorded reply. Part of script_behaviour (script_behaviour.hpp).
#include <algorithm>

#include "script_behaviour.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/mock/common/event_log.hpp"

namespace smtpkit::mock {
namespace {

using script_detail::content_of;
using script_detail::wire_of;

// The data decoder's handler: only where the data ends matters here.
struct ignore_content {
  void body(std::string_view) {}
  void anomaly(data_anomaly, std::uint64_t) {}
};

// Mail data kept for comparing with the recorded message: the recorded
// size and this much more; a longer message is a difference anyway.
constexpr std::size_t message_slack = 1u << 20;

}  // namespace

// Mail data after the dialogue's 354 (RFC 5321 §4.1.1.4): taken as it comes,
// never answered, until the data decoder finds <CRLF>.<CRLF> — the end the
// reference server, which takes the same octets in the shadow, finds too.
// Then the message is compared (end_of_message), and the reply recorded
// for the end of data, or a @data rule's, is the one answer. Returns the
// octets of `avail` that were mail data.
std::size_t script_behaviour::data_run(std::string_view avail, actions& out) {
  ignore_content sink;
  const data_result r = data_.feed(avail, sink);
  const std::string_view piece = avail.substr(0, r.consumed);
  if (message_octets_ == 0) {
    std::size_t dot = 0, end = 0;
    message_limit_ = recorded_message(nullptr, dot, end) + message_slack;
  }
  message_octets_ += piece.size();
  if (message_.size() < message_limit_)
    message_.append(piece.substr(0, std::min<std::size_t>(piece.size(), message_limit_ - message_.size())));
  offset_ += piece.size();
  answer_.clear();
  if (!r.done) {
    shadow(piece);
    return r.consumed;
  }
  at_line_start_ = true;
  event_command(".");
  bool dialogue_used = false;
  actions answer;
  const bool ruled = answer_with_rules(
      rule_def::trigger::data, ".", 0, answer,
      [&](actions& a) {
        dialogue_used = true;
        end_of_message(a, true);
      },
      false);
  if (ruled) {
    if (!dialogue_used) {
      actions none;
      end_of_message(none, false);  // a @data rule's reply stands for the recorded one
    }
    answer_ = wire_of(answer);
  }
  append_paced(out, answer.take(), pacing{});
  if (closed_) return r.consumed;
  if (active_ || !answer_.empty()) {
    shadow(piece);
  } else {
    // The dialogue ended inside the message, or right after it, without a
    // reply: the reference server, which has the rest of it, answers.
    shadow_pending_.clear();
    ref_->receive(piece, out);
  }
  return r.consumed;
}

// The records of the message the dialogue expects from pos_ on, up to its
// "." record (`dot`; steps_->size() when there is none) or to where the
// script says something else (`end`); returns their size in octets, a
// pattern counted as a long line.
std::size_t script_behaviour::recorded_message(std::vector<expected_record>* out, std::size_t& dot,
                                               std::size_t& end) const {
  std::size_t size = 0;
  dot = steps_->size();
  for (end = pos_; end < steps_->size(); ++end) {
    const step& s = (*steps_)[end];
    if (s.kind == op::expect_line && !s.pat && s.bytes == ".") {
      dot = end;
      break;
    }
    if (s.kind == op::expect_line && s.pat) {
      size += 1000;
      if (out) out->push_back({{}, &*s.pat, s.line});
    } else if (s.kind == op::expect_line || s.kind == op::expect_raw) {
      std::string bytes = s.kind == op::expect_raw ? s.bytes : s.bytes + "\r\n";
      size += bytes.size();
      if (out) out->push_back({std::move(bytes), nullptr, s.line});
    } else if (s.kind != op::pause && s.kind != op::rate && s.kind != op::split) {
      break;
    }
  }
  return size;
}

// The end of the mail data: the client's message against the records up to
// the dialogue's "." record (message_match.hpp); a difference is a
// script.mismatch finding, a tolerated one a note. The dialogue moves past
// the "." and, with `reply`, sends what it recorded next (a rule answered
// otherwise); with @on-mismatch close, a differing message closes instead.
void script_behaviour::end_of_message(actions& out, bool reply) {
  in_data_ = false;
  std::vector<expected_record> expected;
  std::size_t dot = 0, k = 0;
  recorded_message(&expected, dot, k);
  message_octets_ = message_octets_ >= 3 ? message_octets_ - 3 : 0;  // without ".\r\n"
  const std::size_t dot_line = dot < steps_->size() ? (*steps_)[dot].line : 0;
  compare_message_now(expected, dot_line);
  message_.clear();
  message_.shrink_to_fit();
  pos_ = dot < steps_->size() ? dot : k;
  if (dot < steps_->size()) {
    if (env_.events.enabled())
      env_.events.emit(
          {{"event", "script"}, {"session", env_.id}, {"script", dscript().source}, {"step_line", dot_line}});
    ++pos_;
  }
  if (message_differs_ && dscript().mismatch_closes) {
    out.close();
    closed_ = true;
    return;
  }
  if (reply) play_sends(out);
  else skip_answer();
}

// The client's message (message_, message_octets_ of it) against the
// expected records: a difference is a finding, what only varied a note.
void script_behaviour::compare_message_now(const std::vector<expected_record>& expected, std::size_t at_line) {
  const bool complete = message_octets_ <= message_.size();
  const std::string_view received =
      std::string_view(message_).substr(0, std::min<std::uint64_t>(message_octets_, message_.size()));
  message_rules rules;
  rules.strict = dscript().strict_data;
  rules.ignore = dscript().data_ignore;
  const message_verdict v = compare_message(expected, received, complete, rules);
  message_differs_ = !v.same;
  if (!v.same) {
    const std::string where = v.received_line ? " at its line " + std::to_string(v.received_line) : "";
    finding_at(v.received, "the message differs from the recorded one" + where, v.expected, v.line ? v.line : at_line,
               v.excerpt);
  } else if (!v.varied.empty()) {
    std::string list;
    for (const auto& n : v.varied) list += (list.empty() ? "" : ", ") + n;
    note(at_line, "the message differs from the recorded one only in what clients generate: " + list, v.varied);
  }
}

// A BDAT command line in the dialogue (RFC 3030 §2): the chunk that follows
// is mail data whatever the script expected, and the reply to the command
// comes after it. A BDAT line the script waits for (its chunk size and
// the chunk compared as a message is, see end_of_chunk) moves the dialogue
// on; another is a finding, answered once its chunk has come.
bool script_behaviour::bdat_line(std::string_view line) {
  if (!line.ends_with("\r\n")) return false;
  parse_options o;
  o.relax = lenient::all;
  const command_result c = parse_command(content_of(line), o);
  if (c.cmd.kind != verb::bdat || !c.ok()) return false;
  const step& s = (*steps_)[pos_];
  bool matched = false;
  chunk_recorded_ = c.cmd.chunk_size;
  if (s.kind == op::expect_line && s.pat) {
    captures got;
    matched = s.pat->match(content_of(line), &got);
    if (matched)
      for (auto& g : got) caps_.push_back(std::move(g));
  } else if (s.kind == op::expect_line) {
    matched = command_matches(s, line);
    const command_result e = parse_command(s.bytes, o);
    if (e.cmd.kind == verb::bdat && e.ok()) chunk_recorded_ = e.cmd.chunk_size;
  }
  chunk_left_ = c.cmd.chunk_size;
  chunk_refused_ = !matched;
  message_.clear();
  message_octets_ = 0;
  message_limit_ = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_recorded_, 1ull << 32)) + message_slack;
  if (matched) {
    advance(line);
  } else {
    mismatched_ = true;  // the reference never sees it, nor its chunk
    finding(line, "the client sent something else");
    offset_ += line.size();
  }
  return true;
}

std::size_t script_behaviour::chunk_run(std::string_view avail, actions& out) {
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(avail.size(), chunk_left_));
  const std::string_view piece = avail.substr(0, take);
  chunk_left_ -= take;
  offset_ += take;
  message_octets_ += take;
  if (message_.size() < message_limit_)
    message_.append(piece.substr(0, std::min<std::size_t>(piece.size(), message_limit_ - message_.size())));
  at_line_start_ = true;
  if (chunk_left_ == 0) end_of_chunk(out);
  return take;
}

// A BDAT chunk has come: compared with the script's records that follow
// its BDAT record (as many octets as the recorded size), then answered —
// with the reply the script recorded, or, after a deviating BDAT line, as
// @on-mismatch says. The reference server, which follows, gets the command
// and its chunk when the reply accepted them.
void script_behaviour::end_of_chunk(actions& out) {
  answer_.clear();
  if (chunk_refused_) {
    shadow_pending_.clear();
    if (dscript().mismatch_closes) {
      out.close();
      closed_ = true;
      return;
    }
    const std::string reply = dscript().mismatch_reply + "\r\n";
    note_replies(reply);
    out.write(reply);
    return;
  }
  std::vector<expected_record> expected;
  std::uint64_t have = 0;
  std::size_t k = pos_;
  for (; k < steps_->size() && have < chunk_recorded_; ++k) {
    const step& s = (*steps_)[k];
    if (s.kind == op::expect_line && s.pat) {
      expected.push_back({{}, &*s.pat, s.line});
      have += s.pat->text().size() + 2;
    } else if (s.kind == op::expect_line || s.kind == op::expect_raw) {
      std::string bytes = s.kind == op::expect_raw ? s.bytes : s.bytes + "\r\n";
      have += bytes.size();
      expected.push_back({std::move(bytes), nullptr, s.line});
    } else if (s.kind != op::pause && s.kind != op::rate && s.kind != op::split) {
      break;
    }
  }
  const std::size_t at_line = k > pos_ ? (*steps_)[k - 1].line : (pos_ > 0 ? (*steps_)[pos_ - 1].line : 0);
  compare_message_now(expected, at_line);
  pos_ = k;
  if (message_differs_ && dscript().mismatch_closes) {
    out.close();
    closed_ = true;
    return;
  }
  play_sends(out);
  const bool whole = message_octets_ <= message_.size();
  if (whole) shadow(message_);
  else shadow_pending_.clear();
  message_.clear();
  message_.shrink_to_fit();
}

}  // namespace smtpkit::mock
