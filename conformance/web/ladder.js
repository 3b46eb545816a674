// ladder.js — draws an SMTP dialogue (the dialogue format, docs/dialogue-format.md)
// as a ladder: a client lane and a server lane, one arrow per record, TLS
// start and closes as bands, pauses as gaps, escapes of control octets shown
// as such, and each finding pinned to the record that carried its octets,
// with its rule, level and RFC section linking to the RFC text.
//
// Shared by the HTML report (`--format html`) and the mock server's web
// view; no network, no dependency. Text goes into the page only through
// textContent: a dialogue is other people's bytes.
//
//   SmtpkitLadder.render(container, transcriptText, findings, options)
//     findings: [{line, rule, level, side, message, rfc, excerpt, waived, counts}]
//     options:  {lines: true (line numbers), filter: finding => bool}
(function (global) {
  "use strict";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // "RFC 5321 §4.1.1.1" → the RFC Editor's page of that section.
  function rfcLink(rfc) {
    const m = /RFC\s*(\d+)(?:\s*§\s*([0-9A-Z.]*[0-9A-Z]))?/.exec(rfc || "");
    if (!m) return null;
    return "https://www.rfc-editor.org/rfc/rfc" + m[1] + (m[2] ? "#section-" + m[2] : "");
  }

  // The payload with the dialogue format's escapes (\r \n \t \0 \xHH \\)
  // marked, so a bare CR or a NUL stands out from the text around it.
  function payload(text) {
    const span = el("span", "payload");
    const re = /\\(?:x[0-9A-Fa-f]{2}|[rnt0\\])/g;
    let last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) span.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[0] === "\\\\") span.appendChild(document.createTextNode("\\"));
      else span.appendChild(el("span", "esc", m[0]));
      last = m.index + m[0].length;
    }
    if (last < text.length) span.appendChild(document.createTextNode(text.slice(last)));
    return span;
  }

  // One record of the dialogue format: who, how, and its text.
  function classify(line) {
    const m = /^([CS])([:=~])(?: (.*))?$/.exec(line);
    if (m) {
      return {kind: "send", who: m[1] === "C" ? "client" : "server", how: m[2], text: m[3] === undefined ? "" : m[3]};
    }
    if (/^@tls\b/.test(line)) return {kind: "band", what: "tls", text: "TLS starts"};
    let c = /^@close\s+([CS])/.exec(line);
    if (c) return {kind: "band", what: "close", text: (c[1] === "C" ? "client" : "server") + " closes"};
    c = /^@pause\s+(\S+)/.exec(line);
    if (c) return {kind: "band", what: "pause", text: "pause " + c[1]};
    if (line.startsWith("@")) return {kind: "band", what: "directive", text: line};
    if (line.startsWith("#")) return {kind: "comment", text: line.replace(/^#\s?/, "")};
    if (line.trim() === "") return {kind: "blank"};
    return {kind: "comment", text: line};
  }

  function findingBox(f) {
    const box = el("div", "finding level-" + String(f.level).toLowerCase() + (f.waived ? " waived" : ""));
    box.appendChild(el("span", "level", f.level));
    box.appendChild(el("code", "rule", f.rule));
    box.appendChild(el("span", "message", f.message));
    const href = rfcLink(f.rfc);
    if (href) {
      const a = el("a", "rfc", f.rfc);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      box.appendChild(a);
    } else if (f.rfc) {
      box.appendChild(el("span", "rfc", f.rfc));
    }
    if (f.waived) box.appendChild(el("span", "waived-note", "waived: " + f.waived));
    box.dataset.rule = f.rule;
    box.dataset.level = f.level;
    box.dataset.side = f.side || "";
    return box;
  }

  function render(container, text, findings, options) {
    options = options || {};
    const keep = options.filter || function () { return true; };
    const byLine = new Map();
    (findings || []).forEach(function (f) {
      if (!keep(f)) return;
      if (!byLine.has(f.line)) byLine.set(f.line, []);
      byLine.get(f.line).push(f);
    });
    const ladder = el("div", "ladder");
    const head = el("div", "ladder-head");
    head.appendChild(el("span", "lane-name client", "client"));
    head.appendChild(el("span", "lane-name server", "server"));
    ladder.appendChild(head);
    const lines = String(text || "").split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    lines.forEach(function (line, i) {
      const n = i + 1;
      const r = classify(line);
      if (r.kind === "blank") return;
      const row = el("div", "row " + r.kind);
      row.dataset.line = String(n);
      if (options.lines !== false) row.appendChild(el("span", "lineno", String(n)));
      if (r.kind === "send") {
        row.classList.add(r.who === "client" ? "to-server" : "to-client");
        const arrow = el("div", "arrow");
        arrow.appendChild(el("span", "tag", (r.who === "client" ? "C" : "S") + r.how));
        arrow.appendChild(payload(r.text));
        if (r.how === ":") arrow.appendChild(el("span", "eol", "CRLF"));
        else if (r.how === "~") arrow.appendChild(el("span", "eol", "pattern"));
        else arrow.appendChild(el("span", "eol raw", "no CRLF added"));
        row.appendChild(arrow);
      } else if (r.kind === "band") {
        row.classList.add(r.what);
        row.appendChild(el("div", "band", r.text));
      } else {
        row.appendChild(el("div", "note", r.text));
      }
      const pinned = byLine.get(n);
      if (pinned) {
        row.classList.add("has-finding");
        const worst = pinned.some(function (f) { return f.level === "MUST" && !f.waived; }) ? "must" : "other";
        row.classList.add("finding-" + worst);
      }
      ladder.appendChild(row);
      if (pinned) {
        const list = el("div", "pinned");
        list.dataset.line = String(n);
        pinned.forEach(function (f) { list.appendChild(findingBox(f)); });
        ladder.appendChild(list);
      }
    });
    container.appendChild(ladder);
    return ladder;
  }

  global.SmtpkitLadder = {render: render, rfcLink: rfcLink, findingBox: findingBox};
})(typeof window !== "undefined" ? window : this);
