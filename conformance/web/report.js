// report.js — the page of an HTML report (`smtpkit check|probe|replay --format
// html`): reads the report's JSON document embedded in the page (the same
// document `--format json` writes, with each dialogue's text), and shows a
// summary, filters by level, side and rule, and every failing dialogue as a
// ladder (ladder.js) with its findings pinned to their records.
// Self-contained: no network; text enters the page through textContent only.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("smtpkit-report").textContent);
  const L = window.SmtpkitLadder;
  const LEVELS = ["MUST", "SHOULD", "MAY", "ADVICE"];
  const state = {levels: new Set(LEVELS), sides: new Set(["client", "server"]), rule: "", waived: true, failingOnly: false};

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function ruleMatches(pattern, id) {
    if (!pattern) return true;
    if (pattern.indexOf("*") < 0 && pattern.indexOf("?") < 0) return id.indexOf(pattern) >= 0;
    const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    return re.test(id);
  }

  function sideOf(f) {
    return f.side || (f.rule.startsWith("client.") ? "client" : "server");
  }

  function shown(f) {
    return state.levels.has(f.level) && state.sides.has(sideOf(f)) && ruleMatches(state.rule, f.rule) &&
      (state.waived || !f.waived);
  }

  function ladderFindings(list) {
    return (list || []).map(function (f) {
      return {line: f.line, rule: f.rule, level: f.level, side: sideOf(f), message: f.message, rfc: f.rfc,
              excerpt: f.excerpt, waived: f.waived ? f.waived.reason + " (" + f.waived.by + ")" : ""};
    });
  }

  function findingTable(list, where) {
    const t = el("table", "findings");
    const head = el("tr");
    ["line", "level", "side", "rule", "message", "RFC"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(head);
    list.forEach(function (f) {
      const tr = el("tr", "level-" + f.level.toLowerCase() + (f.waived ? " waived" : ""));
      tr.appendChild(el("td", "line", where + f.line));
      let lvl = f.level;
      if (f.rule_level) lvl += " (rule: " + f.rule_level + ", " + f.level_set_by + ")";
      tr.appendChild(el("td", "level", lvl));
      tr.appendChild(el("td", null, sideOf(f)));
      tr.appendChild(el("td", "rule", f.rule));
      const msg = el("td", "message", f.message);
      if (f.waived) msg.appendChild(el("div", "waived-note", "waived: " + f.waived.reason + " — " + f.waived.by));
      if (f.excerpt) msg.appendChild(el("div", "excerpt", f.excerpt));
      tr.appendChild(msg);
      const td = el("td");
      const href = L.rfcLink(f.rfc);
      if (href) {
        const a = el("a", null, f.rfc);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        td.appendChild(a);
      } else {
        td.textContent = f.rfc || "";
      }
      tr.appendChild(td);
      t.appendChild(tr);
    });
    return t;
  }

  function verdictTag(v) {
    return el("span", "verdict verdict-" + v, v);
  }

  function header() {
    const h = el("header");
    h.appendChild(el("h1", null, data.tool + (data.target ? " " + data.target : "")));
    const line = el("p", "summary");
    line.appendChild(verdictTag(data.verdict));
    const s = data.summary || {};
    let text;
    if (data.scenarios) {
      text = " " + s.scenarios + " scenarios: " + s.pass + " pass, " + s.fail + " fail (" + s.fail_must + " MUST, " +
        s.fail_should + " SHOULD, " + s.fail_may + " MAY), " + s.not_done + " not done, " + s.waived + " waived, " +
        s.not_applicable + " not applicable, " + s.error + " error";
    } else {
      text = " " + s.dialogues + " dialogues: " + s.MUST + " MUST, " + s.SHOULD + " SHOULD, " + s.MAY + " MAY, " +
        s.ADVICE + " advice, " + s.waived + " waived";
    }
    line.appendChild(document.createTextNode(text + " — fail on " + data.fail_on + (data.policy ? ", policy " + data.policy : "")));
    h.appendChild(line);
    if (data.greeting) h.appendChild(el("p", "target", "greeting: " + data.greeting));
    if (data.ehlo && data.ehlo.length) h.appendChild(el("p", "target", "advertised: " + data.ehlo.join(", ")));
    if (data.error) h.appendChild(el("p", "error", data.error));
    return h;
  }

  function check(label, on, change) {
    const l = el("label");
    const c = el("input");
    c.type = "checkbox";
    c.checked = on;
    c.addEventListener("change", function () { change(c.checked); draw(); });
    l.appendChild(c);
    l.appendChild(document.createTextNode(" " + label));
    return l;
  }

  function filters() {
    const f = el("nav", "filters");
    f.appendChild(el("span", "label", "level"));
    LEVELS.forEach(function (lv) {
      f.appendChild(check(lv, state.levels.has(lv), function (on) { on ? state.levels.add(lv) : state.levels.delete(lv); }));
    });
    f.appendChild(el("span", "label", "side"));
    ["client", "server"].forEach(function (sd) {
      f.appendChild(check(sd, state.sides.has(sd), function (on) { on ? state.sides.add(sd) : state.sides.delete(sd); }));
    });
    f.appendChild(el("span", "label", "rule"));
    const rule = el("input");
    rule.type = "search";
    rule.placeholder = "client.domain.* or part of an id";
    rule.value = state.rule;
    rule.id = "rule-filter";
    rule.addEventListener("input", function () { state.rule = rule.value.trim(); drawBody(); });
    f.appendChild(rule);
    f.appendChild(check("waived", state.waived, function (on) { state.waived = on; }));
    f.appendChild(check("only failing", state.failingOnly, function (on) { state.failingOnly = on; }));
    return f;
  }

  function dialogueSection(d) {
    const sec = el("details", "dialogue verdict-" + d.verdict);
    const visible = (d.findings || []).filter(shown);
    if (state.failingOnly && d.verdict === "pass") return null;
    if (state.rule && visible.length === 0) return null;
    sec.open = d.verdict !== "pass";
    const sum = el("summary");
    sum.appendChild(verdictTag(d.verdict));
    sum.appendChild(el("span", "source", " " + d.source));
    sum.appendChild(el("span", "count", " " + visible.length + " finding" + (visible.length === 1 ? "" : "s")));
    sec.appendChild(sum);
    if (d.error) {
      sec.appendChild(el("p", "error", d.source + ":" + d.error.line + ":" + d.error.column + ": " + d.error.message));
      return sec;
    }
    if (visible.length) sec.appendChild(findingTable(visible, d.source + ":"));
    if (d.transcript) L.render(sec, d.transcript, ladderFindings(d.findings), {filter: function (f) {
      return shown({level: f.level, side: f.side, rule: f.rule, waived: f.waived});
    }});
    return sec;
  }

  function scenarioRow(s) {
    if (state.failingOnly && (s.verdict === "pass" || s.verdict === "not-applicable")) return null;
    const visible = (s.findings || []).filter(shown);
    if (state.rule && visible.length === 0 && !ruleMatches(state.rule, s.id)) return null;
    const sec = el("details", "scenario verdict-" + s.verdict);
    sec.open = s.verdict === "fail" || s.verdict === "error";
    const sum = el("summary");
    sum.appendChild(verdictTag(s.verdict));
    sum.appendChild(el("code", "id", " " + s.id));
    sum.appendChild(el("span", "title", " " + s.title));
    if (s.failed_level) sum.appendChild(el("span", "where", " [" + s.failed_level + ", " + s.rfc + "]"));
    if (s.waived) sum.appendChild(el("span", "waived-note", " waived: " + s.waived.reason));
    sec.appendChild(sum);
    if (s.reason) sec.appendChild(el("p", "reason", s.reason));
    (s.notes || []).forEach(function (n) { sec.appendChild(el("p", "reason", "note: " + n)); });
    if (s.client) {
      // probe client: how the client under test ended, and what it printed last.
      sec.appendChild(el("p", "reason", "client: " + s.client.status));
      if (s.client.output) sec.appendChild(el("pre", "client-output", s.client.output));
    }
    (s.mismatches || []).forEach(function (m) {
      sec.appendChild(el("p", "mismatch", s.file + ":" + m.line + ": expected " + m.expected + ", received " + m.received));
    });
    if (visible.length) sec.appendChild(findingTable(visible, "dialogue:"));
    if (s.dialogue) L.render(sec, s.dialogue, ladderFindings(s.findings), {filter: function (f) {
      return shown({level: f.level, side: f.side, rule: f.rule, waived: f.waived});
    }});
    return sec;
  }

  function replaySection(r) {
    const sec = el("section", "replay");
    sec.appendChild(el("h2", null, "Replies of " + r.transcript + ": " + r.replies_compared + " compared, " +
      r.differences.length + " differ"));
    r.differences.forEach(function (m) {
      sec.appendChild(el("p", "mismatch", r.transcript + ":" + m.line + ": expected " + m.expected + ", received " + m.received));
    });
    return sec;
  }

  function drawBody() {
    const main = document.getElementById("report-body");
    main.textContent = "";
    if (data.replay) main.appendChild(replaySection(data.replay));
    if (data.scenarios) {
      const groups = [];
      data.scenarios.forEach(function (s) {
        let g = groups.find(function (x) { return x.name === s.group; });
        if (!g) groups.push(g = {name: s.group, list: []});
        g.list.push(s);
      });
      groups.forEach(function (g) {
        const sec = el("section", "group");
        sec.appendChild(el("h2", null, g.name));
        g.list.forEach(function (s) { const row = scenarioRow(s); if (row) sec.appendChild(row); });
        main.appendChild(sec);
      });
    } else {
      (data.dialogues || []).forEach(function (d) { const sec = dialogueSection(d); if (sec) main.appendChild(sec); });
    }
  }

  function draw() {
    const root = document.getElementById("app");
    root.textContent = "";
    root.appendChild(header());
    root.appendChild(filters());
    const main = el("main");
    main.id = "report-body";
    root.appendChild(main);
    drawBody();
  }

  draw();
})();
