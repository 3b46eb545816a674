// script_behaviour.cpp — rules, dialogues and faults over the reference server.
#include "script_behaviour.hpp"

#include <algorithm>

#include "smtpkit/command.hpp"
#include "smtpkit/utf8.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/mock/common/event_log.hpp"
#include "smtpkit/mock/script/command_match.hpp"
#include "smtpkit/mock/script/message_match.hpp"
#include "smtpkit/mock/server/script_factory.hpp"
#include "reply_text.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::mock {
namespace {

using json = event_log::json;
using script_detail::content_of;
using script_detail::wire_of;

std::string text_of(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  return escape(s);
}

bool is_expectation(op k) { return k == op::expect_line || k == op::expect_raw || k == op::expect_close; }

// The last reply code a run of octets holds, 0 when none: tells whether a
// rule accepted (2xx/3xx) or refused what it answered. Only the code and
// the separator after it count: a rule may send text the grammar refuses
// (8-bit octets, a code with no text) on purpose, and its code still says
// whether the command was taken.
int last_reply_code(std::string_view bytes) {
  int code = 0;
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t nl = bytes.find('\n', start);
    std::string_view line =
        content_of(bytes.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    const bool digits = line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
                        line[2] >= '0' && line[2] <= '9';
    if (digits && (line.size() == 3 || line[3] == ' '))
      code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return code;
}

// Placeholders in a rule's answer, taken out before the session sees it:
// where the reference server's reply goes, and that the reference server
// takes the command with its reply dropped (an accepting rule).
constexpr std::string_view reference_reply = "\x01reference reply";
constexpr std::string_view reference_quiet = "\x01reference quiet";

action marker(std::string_view which) { return {act::pause, std::string(which), std::chrono::milliseconds(0), 0}; }
bool is_marker(const action& a, std::string_view which) { return a.kind == act::pause && a.bytes == which; }

constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

// --- script_set ---------------------------------------------------------------

script_set::script_set(std::vector<script> scripts) : scripts_(std::move(scripts)) {
  for (std::size_t i = 0; i < scripts_.size(); ++i) {
    counts_.emplace_back(scripts_[i].rules.size());
    rng_.push_back(scripts_[i].seed.value_or(0));
    for (const auto& [n, steps] : scripts_[i].dialogues)
      if (n == 0) rotation_.push_back(i);
  }
}

script_set::dialogue_choice script_set::dialogue_for(std::size_t ordinal) const {
  for (std::size_t i = 0; i < scripts_.size(); ++i)
    for (const auto& [n, steps] : scripts_[i].dialogues)
      if (n == ordinal) return {i, &steps};
  if (rotation_.empty() || ordinal == 0) return {};
  std::size_t i = rotation_[(ordinal - 1) % rotation_.size()];
  return {i, scripts_[i].dialogue_for(0)};
}

double script_set::draw(std::size_t script) { return static_cast<double>(splitmix64(rng_[script]) >> 11) * 0x1.0p-53; }

// --- script_behaviour: set-up, events ------------------------------------------

script_behaviour::script_behaviour(session_env& env, std::shared_ptr<script_set> set,
                                   std::unique_ptr<reference_server> ref)
    : env_(env), set_(std::move(set)), ref_(std::move(ref)), limit_(std::max<std::size_t>(env.cfg.max_line, 4096)) {
  ref_->set_hook(this);
  for (const auto& s : set_->scripts()) session_counts_.emplace_back(s.rules.size());
}

script_behaviour::~script_behaviour() { ref_->set_hook(nullptr); }

void script_behaviour::event_command(std::string_view content) {
  if (!env_.events.enabled()) return;
  env_.events.emit({{"event", "command"}, {"session", env_.id}, {"line", text_of(content)}});
}

// Reply events for what the script sends, in the reference server's shape;
// lines of a multi-line reply may come from several records.
void script_behaviour::note_replies(std::string_view bytes) {
  if (!env_.events.enabled() && !active_) return;
  reply_carry_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = reply_carry_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line = content_of(std::string_view(reply_carry_).substr(start, nl + 1 - start));
    start = nl + 1;
    auto r = parse_reply_line(line);
    if (!r.ok()) {
      reply_lines_.clear();
      continue;
    }
    reply_lines_.emplace_back(line);
    if (r.value.continues()) continue;
    if (r.value.code == 354 && active_ && !in_data_) {
      in_data_ = true;
      data_.reset();
      message_.clear();
      message_octets_ = 0;
    }
    if (r.value.code == 334 && active_) auth_response_ = true;
    if (env_.events.enabled()) {
      json e{{"event", "reply"},
             {"session", env_.id},
             {"code", r.value.code},
             {"text", text_of(std::string_view(reply_lines_.front())
                                  .substr(std::min<std::size_t>(4, reply_lines_.front().size())))}};
      if (reply_lines_.size() > 1) {
        json l = json::array();
        for (const auto& x : reply_lines_)
          l.push_back(text_of(std::string_view(x).substr(std::min<std::size_t>(4, x.size()))));
        e["lines"] = std::move(l);
      }
      env_.events.emit(std::move(e));
    }
    reply_lines_.clear();
  }
  reply_carry_.erase(0, start);
  if (reply_carry_.size() > 4096) reply_carry_.clear();  // not a reply stream worth reporting
  if (reply_lines_.size() > 1000) reply_lines_.clear();
}

void script_behaviour::event_rule(const chosen& c, std::string_view input) {
  if (!env_.events.enabled()) return;
  const char* trig = c.rule->on == rule_def::trigger::connect ? "connect"
                     : c.rule->on == rule_def::trigger::data  ? "data"
                                                              : "line";
  json e{{"event", "script"},
         {"session", env_.id},
         {"script", set_->scripts()[c.script].source},
         {"rule_line", c.rule->line},
         {"trigger", trig}};
  if (c.rule->on == rule_def::trigger::line) e["input"] = text_of(input);
  env_.events.emit(std::move(e));
}

// --- rules ----------------------------------------------------------------------

// The first rule from the `from`th on (all scripts' rules in order) that
// answers: its trigger matches while its conditions hold (the match is
// counted), and its counters select this match.
std::optional<script_behaviour::chosen> script_behaviour::pick(rule_def::trigger on, std::string_view line,
                                                               std::size_t from) {
  const auto& scripts = set_->scripts();
  std::size_t index = 0;
  for (std::size_t si = 0; si < scripts.size(); ++si) {
    for (std::size_t ri = 0; ri < scripts[si].rules.size(); ++ri, ++index) {
      if (index < from) continue;
      const rule_def& r = scripts[si].rules[ri];
      if (r.on != on) continue;
      if (r.session != 0 && r.session != env_.ordinal) continue;
      if (r.tls != when::any && env_.tls != (r.tls == when::yes)) continue;
      if (r.auth != when::any && authenticated() != (r.auth == when::yes)) continue;
      captures caps;
      if (on == rule_def::trigger::line && !r.pat->match(line, &caps)) continue;
      auto& k = r.per_session ? session_counts_[si][ri] : set_->server_counter(si, ri);
      ++k.matches;
      if (k.matches <= r.after) continue;
      if (r.nth != 0 && k.matches != r.nth) continue;
      if (r.times != 0 && k.answers >= r.times) continue;
      if (r.chance < 1.0 && set_->draw(si) >= r.chance) continue;
      ++k.answers;
      for (auto& c : caps) caps_.push_back(c);
      return chosen{si, &r, std::move(caps), index + 1};
    }
  }
  return std::nullopt;
}

void script_behaviour::paced(std::string_view bytes, const pacing& p, actions& out) {
  if (bytes.empty()) return;
  auto piece_out = [&](std::string_view piece) {
    if (p.rate != 0) out.push({act::throttle, std::string(piece), {}, p.rate});
    else out.write(piece);
  };
  if (p.split == 0) return piece_out(bytes);
  // Separate writes with a pause between them, so each leaves as its own
  // TCP segment (the session sets TCP_NODELAY) and the peer's reads see pieces.
  for (std::size_t at = 0; at < bytes.size(); at += p.split) {
    if (at > 0) out.push({act::pause, {}, p.gap, 0});
    piece_out(bytes.substr(at, p.split));
  }
}

void script_behaviour::append_paced(actions& out, std::vector<action> list, const pacing& p) {
  for (auto& a : list) {
    if (a.kind == act::write) {
      paced(a.bytes, p, out);
      continue;
    }
    if (is_marker(a, reference_reply)) {
      // The reference server's reply goes here: the innermost rule's pacing
      // counts, the outer ones fill in what it left unset.
      if (marker_pace_.rate == 0) marker_pace_.rate = p.rate;
      if (marker_pace_.split == 0) {
        marker_pace_.split = p.split;
        marker_pace_.gap = p.gap;
      }
    }
    out.push(std::move(a));
  }
}

std::string script_behaviour::send(std::string_view bytes, const std::vector<std::string>& names, const pacing& p,
                                   actions& out) {
  // Captured client octets go into a reply only as reply text may carry
  // them: a bare CR in a capture must not make a second reply line.
  captures safe;
  for (const auto& n : names)
    if (const std::string* v = find_capture(caps_, n)) safe.emplace_back(n, printable_text(*v));
  std::string b = substitute(bytes, safe, names);
  note_replies(b);
  paced(b, p, out);
  return b;
}

// Body steps [from, to) into actions; `p` carries @rate/@split along.
void script_behaviour::compile(const chosen& c, std::size_t from, std::size_t to, pacing& p, actions& out) {
  const auto& names = set_->scripts()[c.script].capture_names;
  for (std::size_t i = from; i < to; ++i) {
    const step& s = c.rule->body[i];
    switch (s.kind) {
      case op::send: send(s.bytes, names, p, out); break;
      case op::pause: out.push({act::pause, {}, s.delay, 0}); break;
      case op::rate: p.rate = s.n; break;
      case op::split:
        p.split = s.n;
        p.gap = s.delay;
        break;
      case op::reset: out.push({act::reset, {}, {}, 0}); break;
      case op::hang: out.push({act::hang, {}, {}, 0}); break;
      case op::stall_tls: out.push({act::stall_tls, {}, s.delay, 0}); break;
      case op::close: out.close(); break;
      case op::tls: out.start_tls(); break;
      default: break;  // expectations and client-side records: the loader keeps them out of rules
    }
  }
}

// The answer of the rules from the `from`th on to a line (or the connect,
// or the end of data). The first rule that answers plays its body; its
// @fallback stands for the answer without it: the next rules that answer,
// or, when none does, `base` (the dialogue's answer, the reference
// greeting, or, in `reference` mode, a marker for the reply the reference
// server writes after the hook returns). In reference mode a rule without
// @fallback that accepts (its last reply 2xx/3xx) adds a marker that lets
// the reference server take the command quietly. False when no rule answered
// (`base` then wrote the whole answer).
bool script_behaviour::answer_with_rules(rule_def::trigger on, std::string_view line, std::size_t from, actions& out,
                                         const std::function<void(actions&)>& base, bool reference) {
  auto c = pick(on, line, from);
  if (!c) {
    base(out);
    return false;
  }
  event_rule(*c, line);
  const auto& body = c->rule->body;
  std::size_t fb = body.size();
  for (std::size_t i = 0; i < body.size(); ++i)
    if (body[i].kind == op::fallback) fb = i;
  pacing p;
  compile(*c, 0, fb, p, out);
  if (fb == body.size()) {
    if (reference && on != rule_def::trigger::connect) {
      const int code = last_reply_code(wire_of(out));
      if (code >= 200 && code < 400) out.push(marker(reference_quiet));
    }
    return true;
  }
  actions inner;
  answer_with_rules(on, line, c->next, inner, base, reference);
  append_paced(out, inner.take(), p);
  compile(*c, fb + 1, body.size(), p, out);
  return true;
}

// The reference server parsed a command (or ended a message); the rules
// answer first. A plan holding the reply marker leaves the reply to the
// reference server (paced, between the rules' records); one holding the
// quiet marker lets it take the command with its reply replaced by the
// plan; one holding neither keeps the command from it.
bool script_behaviour::hook_answer(rule_def::trigger on, std::string_view line, actions& out) {
  actions plan;
  marker_pace_ = {};
  marker_pace_.gap = std::chrono::milliseconds(0);
  if (!answer_with_rules(
          on, line, 0, plan, [](actions& a) { a.push(marker(reference_reply)); }, true))
    return false;
  auto list = plan.take();
  std::size_t at = list.size();
  bool quiet = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (is_marker(list[i], reference_reply)) at = i;
    if (is_marker(list[i], reference_quiet)) quiet = true;
  }
  if (at == list.size() && !quiet) {
    append_paced(out, std::move(list), pacing{});
    return true;  // answered: the reference never sees it
  }
  region_ = {};
  region_.open = true;
  if (at == list.size()) {
    region_.replace = true;
    for (auto& a : list)
      if (!is_marker(a, reference_quiet)) region_.replacement.push_back(std::move(a));
    ref_->set_replies_muted(true);
  } else {
    std::vector<action> before(std::make_move_iterator(list.begin()),
                               std::make_move_iterator(list.begin() + static_cast<std::ptrdiff_t>(at)));
    append_paced(out, std::move(before), pacing{});
    region_.pace = marker_pace_;
    for (std::size_t i = at + 1; i < list.size(); ++i)
      if (!is_marker(list[i], reference_quiet)) region_.tail.push_back(std::move(list[i]));
  }
  // A barrier keeps the reference's first write from merging into ours.
  out.push({act::pause, {}, std::chrono::milliseconds(0), 0});
  region_.begin = out.list().size();
  return false;
}

void script_behaviour::settle(actions& out) {
  if (!region_.open) return;
  region r = std::move(region_);
  region_ = {};
  if (r.replace) ref_->set_replies_muted(false);
  auto list = out.take();
  std::vector<action> produced(std::make_move_iterator(list.begin() + static_cast<std::ptrdiff_t>(r.begin)),
                               std::make_move_iterator(list.end()));
  list.resize(r.begin - 1);  // drops the barrier too
  append_paced(out, std::move(list), pacing{});
  if (r.replace) {
    // A message the reference server stored is on disk before any reply to it (--durable).
    for (auto& a : produced)
      if (a.kind == act::commit) out.push(std::move(a));
    append_paced(out, std::move(r.replacement), pacing{});
  } else {
    append_paced(out, std::move(produced), r.pace);
    append_paced(out, std::move(r.tail), pacing{});
  }
}

bool script_behaviour::command(std::string_view line, const command_result& parsed, actions& out) {
  if (shadow_) return false;  // following the dialogue: no rule sees it twice
  settle(out);
  // BDAT's chunk follows its command line: only the reference frames it.
  if (parsed.cmd.kind == verb::bdat) return false;
  return hook_answer(rule_def::trigger::line, line, out);
}

bool script_behaviour::end_of_data(actions& out) {
  if (shadow_) return !shadow_store_;  // the dialogue refused the message: not stored
  settle(out);
  // Accepted: stored, the rule's reply sent; refused: not stored.
  return hook_answer(rule_def::trigger::data, {}, out);
}

// --- the session ------------------------------------------------------------------

void script_behaviour::greet(actions& out) {
  auto d = set_->dialogue_for(env_.ordinal);
  if (d.steps != nullptr && !d.steps->empty()) {
    active_ = true;
    dscript_ = d.script;
    steps_ = d.steps;
    if (env_.events.enabled())
      env_.events.emit({{"event", "script"},
                        {"session", env_.id},
                        {"script", dscript().source},
                        {"dialogue", "start"},
                        {"step_line", steps_->front().line}});
  }
  bool normal_used = false;
  auto normal = [&](actions& a) {
    normal_used = true;
    if (active_) play_sends(a);
    else ref_->greet(a);
  };
  if (answer_with_rules(rule_def::trigger::connect, {}, 0, out, normal, false) && !normal_used && active_) {
    skip_answer();  // the rules' greeting replaces the dialogue's
    play_sends(out);
  }
}

void script_behaviour::receive(std::string_view octets, actions& out) {
  if (closed_) return;
  if (tls_wait_) {
    // RFC 3207 §4.2: nothing sent between the 220 and the handshake counts.
    if (env_.events.enabled())
      env_.events.emit({{"event", "discarded"},
                        {"session", env_.id},
                        {"octets", octets.size()},
                        {"why", "sent after STARTTLS before TLS (RFC 3207 §4.2)"}});
    return;
  }
  if (!active_) {
    ref_->receive(octets, out);
    settle(out);
    return;
  }
  buf_.append(octets);
  dialogue_run(out);
  if (!active_ && !closed_ && !tls_wait_ && !buf_.empty()) {
    std::string rest = std::move(buf_);
    buf_.clear();
    ref_->receive(rest, out);
  }
  settle(out);
}

void script_behaviour::tls_started(actions& out) {
  tls_wait_ = false;
  buf_.clear();
  shadow_pending_.clear();
  at_line_start_ = true;
  in_data_ = false;
  auth_response_ = false;
  chunk_left_ = 0;
  ref_->tls_started(out);
  if (active_) dialogue_run(out);
}

void script_behaviour::peer_closed() {
  if (active_ && !closed_ && steps_ != nullptr && pos_ < steps_->size()) {
    const step& s = (*steps_)[pos_];
    if (s.kind == op::expect_close) {
      advance({});
    } else if (expects(s) && findings_ == 0 && !dscript().meta.close_passes) {
      // After a deviation the close is its consequence, not news; and
      // `@on-close pass` says a close meets what is expected here.
      finding("", "the client closed the connection");
    }
  }
  ref_->peer_closed();
}

void script_behaviour::timed_out(actions& out) {
  if (active_ && !closed_ && steps_ != nullptr && pos_ < steps_->size() && expects((*steps_)[pos_]) && findings_ == 0)
    finding("", "the client sent nothing more before the timeout");
  ref_->timed_out(out);
}

void script_behaviour::shutting_down(actions& out) { ref_->shutting_down(out); }

// --- the dialogue ------------------------------------------------------------------

bool script_behaviour::expects(const step& s) const noexcept { return is_expectation(s.kind); }

std::string script_behaviour::expected_bytes(const step& s) const {
  if (s.kind == op::expect_raw) return s.bytes;
  return s.bytes + "\r\n";  // an exact C: line
}

// Sends and timing up to the next expectation (or the end of the dialogue).
void script_behaviour::play_sends(actions& out) {
  while (active_ && !closed_ && !tls_wait_ && pos_ < steps_->size()) {
    const step& s = (*steps_)[pos_];
    if (expects(s)) return;
    ++pos_;
    switch (s.kind) {
      case op::send: answer_ += send(s.bytes, dscript().capture_names, pace_, out); break;
      case op::pause: out.push({act::pause, {}, s.delay, 0}); break;
      case op::rate: pace_.rate = s.n; break;
      case op::split:
        pace_.split = s.n;
        pace_.gap = s.delay;
        break;
      case op::reset:
        out.push({act::reset, {}, {}, 0});
        closed_ = true;
        break;
      case op::hang:
        out.push({act::hang, {}, {}, 0});
        closed_ = true;
        break;
      case op::stall_tls:
        out.push({act::stall_tls, {}, s.delay, 0});
        closed_ = true;
        break;
      case op::close:
        out.close();
        closed_ = true;
        break;
      case op::tls:
        if (env_.tls) break;  // implicit TLS: the handshake came before the greeting
        out.start_tls();
        tls_wait_ = true;
        break;
      default: break;
    }
  }
  if (active_ && !closed_ && !tls_wait_ && pos_ >= steps_->size()) take_over(out);
}

// The dialogue is over: the reference server, which followed it in the
// shadow, answers from here on (its greeting is not sent).
void script_behaviour::take_over(actions&) {
  active_ = false;
  in_data_ = false;
  shadow_pending_.clear();
  if (env_.events.enabled())
    env_.events.emit({{"event", "script"},
                      {"session", env_.id},
                      {"script", dscript().source},
                      {"dialogue", "done"},
                      {"next", "reference"}});
}

void script_behaviour::dialogue_run(actions& out) {
  // Octets are taken from `head` on and dropped from buf_ once, at the end:
  // a read holding a thousand lines of mail data costs one move, not one each.
  std::size_t head = 0;
  for (;;) {
    play_sends(out);
    const std::string_view avail = std::string_view(buf_).substr(head);
    if (!active_ || closed_ || tls_wait_ || avail.empty()) break;
    if (in_data_) {
      head += data_run(avail, out);
      continue;
    }
    if (chunk_left_ > 0) {
      head += chunk_run(avail, out);
      continue;
    }
    const step& s = (*steps_)[pos_];
    if (s.kind != op::expect_close) {
      // A record that ends inside a line (C= without LF) is taken as it
      // comes; a line is waited for only when the record holds one.
      const std::string e = expected_bytes(s);
      if (s.kind == op::expect_raw && e.find('\n') == std::string::npos && avail.starts_with(e)) {
        head += e.size();
        answer_.clear();
        advance(e);
        play_sends(out);
        shadow(e);
        continue;
      }
      if (!s.pat && e.size() > avail.size() && std::string_view(e).starts_with(avail)) break;  // wait for the rest
    }
    const std::size_t nl = avail.find('\n');
    if (nl == std::string_view::npos && avail.size() < limit_) break;
    const std::size_t n = nl == std::string_view::npos ? avail.size() : nl + 1;
    const std::string line(avail.substr(0, n));
    const bool line_start = at_line_start_;
    head += n;
    if (line_start) {
      auth_line_ = auth_response_;
      auth_response_ = false;
    }
    event_command(content_of(line));
    answer_.clear();
    if (line_start) {
      bool dialogue_used = false;
      actions answer;
      const bool ruled = answer_with_rules(
          rule_def::trigger::line, content_of(line), 0, answer,
          [&](actions& a) {
            dialogue_used = true;
            dialogue_line(line, a);
          },
          false);
      if (ruled) {
        answer_ = wire_of(answer);
        const bool expected = !dialogue_used && line_expected(line);
        if (expected) {
          // The rules answered the line the dialogue waits for: it moves on,
          // without its own answer.
          advance(line);
          skip_answer();
        } else if (!dialogue_used) {
          offset_ += line.size();
        }
        append_paced(out, answer.take(), pacing{});
        if (expected || dialogue_used) shadow(line);
        continue;
      }
      // No rule: `answer` holds what the dialogue said (answer_ too).
      append_paced(out, answer.take(), pacing{});
      shadow(line);
      continue;
    }
    dialogue_line(line, out);
    shadow(line);
  }
  buf_.erase(0, head);
}

void script_behaviour::note(std::size_t line, const std::string& text, const std::vector<std::string>& varied) {
  if (!env_.events.enabled()) return;
  env_.events.emit({{"event", "script"},
                    {"session", env_.id},
                    {"script", dscript().source},
                    {"step_line", line},
                    {"note", text},
                    {"varied", varied}});
}

// An exact C: record against a whole client line (with its line end): a
// command in any case of verb, tag and keywords, and with another SIZE
// unless the script compares messages exactly; an AUTH response exactly.
bool script_behaviour::command_matches(const step& s, std::string_view line) {
  if (!line.ends_with("\r\n")) return false;
  const std::string_view got = line.substr(0, line.size() - 2);
  if (auth_line_) return got == s.bytes;
  const command_match m = match_command(s.bytes, got, dscript().strict_data);
  if (m == command_match::size_differs)
    note(s.line, "SIZE differs from the recorded one (the message is compared at its end)", {"SIZE"});
  return m != command_match::differ;
}

// A line (or the rest of one) against the expectations from pos_ on.
void script_behaviour::dialogue_line(std::string_view line, actions& out) {
  play_sends(out);
  if (active_ && !closed_ && !tls_wait_ && !auth_line_ && bdat_line(line)) {
    if (chunk_left_ == 0) end_of_chunk(out);  // BDAT 0 LAST
    return;
  }
  std::string_view rest = line;
  while (!rest.empty()) {
    play_sends(out);
    if (closed_) return;
    if (tls_wait_) return;  // RFC 3207 §4.2: the rest is discarded
    if (!active_) {
      ref_->receive(rest, out);
      return;
    }
    const step& s = (*steps_)[pos_];
    if (s.kind == op::expect_close) {
      mismatch(rest, out);
      return;
    }
    if (s.pat) {
      captures got;
      const bool crlf = rest.size() >= 2 && rest.substr(rest.size() - 2) == "\r\n";
      if (crlf && s.pat->match(content_of(rest), &got)) {
        for (auto& g : got) caps_.push_back(std::move(g));
        advance(rest);
        rest = {};
        break;
      }
      mismatch(rest, out);
      return;
    }
    if (s.kind == op::expect_line) {
      if (!command_matches(s, rest)) {
        mismatch(rest, out);
        return;
      }
      advance(rest);
      break;
    }
    std::string e = expected_bytes(s);
    if (!rest.starts_with(e)) {
      mismatch(rest, out);
      return;
    }
    advance(rest.substr(0, e.size()));
    rest.remove_prefix(e.size());
  }
  play_sends(out);
}

// The reference server follows the dialogue in the shadow: what the dialogue
// took and accepted (its answer 2xx/3xx) is given to it too, and all of the
// mail data once it is inside a message, with its replies dropped and its
// events quiet. So a message the dialogue accepts is stored like any other,
// and the reference is in step when it takes over. Octets without an answer
// yet (pipelined commands, a BDAT chunk, a partial line) wait for one.
void script_behaviour::shadow(std::string_view taken) {
  if (mismatched_) {
    mismatched_ = false;
    shadow_pending_.clear();
    return;
  }
  shadow_pending_.append(taken);
  const bool data = ref_->busy();
  const int code = last_reply_code(answer_);
  if (!data && code == 0) {
    if (shadow_pending_.size() > limit_ * 4) shadow_pending_.clear();  // a dialogue that never answers
    return;
  }
  std::string feed = std::move(shadow_pending_);
  shadow_pending_.clear();
  if (!data && (code < 200 || code >= 400)) return;  // refused: the reference never saw it
  shadow_store_ = code >= 200 && code < 300;
  actions dropped;
  shadow_ = true;
  ref_->set_quiet(true);
  ref_->receive(feed, dropped);
  ref_->set_quiet(false);
  shadow_ = false;
}

// Would the dialogue take this whole line now? (Captures are bound if so.)
bool script_behaviour::line_expected(std::string_view line) {
  if (!active_ || pos_ >= steps_->size()) return false;
  const step& s = (*steps_)[pos_];
  if (s.kind == op::expect_close) return false;
  if (s.pat) {
    captures got;
    const bool crlf = line.size() >= 2 && line.substr(line.size() - 2) == "\r\n";
    if (!crlf || !s.pat->match(content_of(line), &got)) return false;
    for (auto& g : got) caps_.push_back(std::move(g));
    return true;
  }
  if (s.kind == op::expect_line) return command_matches(s, line);
  return expected_bytes(s) == line;
}

void script_behaviour::advance(std::string_view taken) {
  const step& s = (*steps_)[pos_];
  if (env_.events.enabled())
    env_.events.emit({{"event", "script"}, {"session", env_.id}, {"script", dscript().source}, {"step_line", s.line}});
  offset_ += taken.size();
  if (!taken.empty()) at_line_start_ = taken.back() == '\n';
  ++pos_;
}

// A rule answered the line the dialogue expected: the dialogue's own answer
// (the records up to its next expectation) is not sent.
void script_behaviour::skip_answer() {
  while (pos_ < steps_->size() && !expects((*steps_)[pos_])) {
    const step& s = (*steps_)[pos_];
    if (s.kind == op::rate) pace_.rate = s.n;
    if (s.kind == op::split) {
      pace_.split = s.n;
      pace_.gap = s.delay;
    }
    ++pos_;
  }
}

void script_behaviour::finding(std::string_view received, const std::string& why) {
  const step& s = (*steps_)[pos_];
  std::string expected;
  if (s.kind == op::expect_close) expected = "@close C";
  else if (s.pat) expected = "C~ " + s.pat->text();
  else if (s.kind == op::expect_raw) expected = "C= " + escape(s.bytes);
  else expected = "C: " + escape(s.bytes);
  finding_at(escape(received), why, expected, s.line, escape(content_of(received)));
}

// `received` and `excerpt` escaped already.
void script_behaviour::finding_at(std::string_view received, const std::string& why, const std::string& expected,
                                  std::size_t line, std::string_view excerpt) {
  const std::string where = dscript().source + ":" + std::to_string(line);
  ++findings_;
  if (env_.note_finding) env_.note_finding(conformance::level::must);
  if (!env_.events.enabled()) return;
  json e{{"event", "finding"},
         {"session", env_.id},
         {"rule", "script.mismatch"},
         {"side", "client"},
         {"level", "MUST"},
         {"rfc", ""},
         {"message", why + "; the script expected " + expected + " (" + where + ")"},
         {"excerpt", std::string(excerpt)},
         {"offset", offset_},
         {"script", dscript().source},
         {"script_line", line},
         {"expected", expected},
         {"received", std::string(received)}};
  env_.events.emit(std::move(e));
}

void script_behaviour::mismatch(std::string_view received, actions& out) {
  mismatched_ = true;
  finding(received, received.empty() ? "unexpected input" : "the client sent something else");
  offset_ += received.size();
  if (!received.empty()) at_line_start_ = received.back() == '\n';
  const script& s = dscript();
  if (s.mismatch_closes) {
    out.close();
    closed_ = true;
    return;
  }
  std::string reply = s.mismatch_reply + "\r\n";
  note_replies(reply);
  out.write(reply);
}

// --- factory --------------------------------------------------------------------------

server::behaviour_factory script_factory(std::vector<script> scripts) {
  auto set = std::make_shared<script_set>(std::move(scripts));
  return [set](session_env& env, std::unique_ptr<reference_server> fallback) -> std::unique_ptr<behaviour> {
    return std::make_unique<script_behaviour>(env, set, std::move(fallback));
  };
}

server::behaviour_factory switchable_factory(std::shared_ptr<server::behaviour_factory> current) {
  return [current](session_env& env, std::unique_ptr<reference_server> fallback) -> std::unique_ptr<behaviour> {
    if (*current) return (*current)(env, std::move(fallback));
    return fallback;
  };
}

}  // namespace smtpkit::mock
