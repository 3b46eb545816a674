// app.js — the web view of `smtpkit serve` (docs/serve.md): an inbox that
// updates live (Mailpit's /api/events and smtpkit's /api/smtpkit/live
// WebSockets), a message (headers, text, HTML in a sandboxed frame, source,
// attachments) and a session drawn as a ladder by ladder.js, the renderer
// the HTML report uses too. Everything comes from the server's own API;
// message text goes into the page only through textContent or a sandboxed
// frame.
(function () {
  "use strict";

  const main = document.getElementById("main");
  const status = document.getElementById("status");
  const counts = document.getElementById("counts");
  let route = null;        // {view, id}
  let refreshTimer = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function api(path, options) {
    const r = await fetch(path, options);
    if (!r.ok) throw new Error(path + ": " + r.status);
    const type = r.headers.get("Content-Type") || "";
    return type.startsWith("application/json") ? r.json() : r.text();
  }

  function address(a) {
    if (!a) return "";
    return a.Name ? a.Name + " <" + a.Address + ">" : a.Address;
  }

  function addresses(list) { return (list || []).map(address).join(", "); }

  function section(title, id) {
    const s = el("section");
    if (id) s.id = id;
    s.appendChild(el("h2", null, title));
    const body = el("div", "body");
    s.appendChild(body);
    main.appendChild(s);
    return body;
  }

  function table(headings) {
    const t = el("table");
    const tr = el("tr");
    headings.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.appendChild(tr);
    return t;
  }

  function size(n) { return n < 1024 ? n + " B" : (n / 1024).toFixed(1) + " KiB"; }
  function when(t) { return t ? new Date(t).toLocaleString() : ""; }

  // --- the inbox -------------------------------------------------------------

  async function showInbox() {
    const [page, sessions] = await Promise.all([api("/api/v1/messages?limit=200"), api("/api/smtpkit/sessions?limit=100")]);
    main.replaceChildren();
    counts.textContent = page.total + " messages, " + page.unread + " unread";
    const mbody = section("Messages", "messages");
    if (page.total > 0) {
      const del = el("button", "danger", "Delete all");
      del.addEventListener("click", function () { api("/api/v1/messages", {method: "DELETE"}).then(refresh); });
      mbody.appendChild(del);
    }
    if (!page.messages.length) mbody.appendChild(el("div", "empty", "No messages yet."));
    else {
      const t = table(["From", "To", "Subject", "Size", "Received"]);
      page.messages.forEach(function (m) {
        const tr = el("tr", "clickable message" + (m.Read ? "" : " unread"));
        tr.dataset.id = m.ID;
        tr.appendChild(el("td", null, address(m.From)));
        tr.appendChild(el("td", null, addresses(m.To)));
        const subj = el("td", "subject", m.Subject || "(no subject)");
        tr.appendChild(subj);
        tr.appendChild(el("td", null, size(m.Size)));
        tr.appendChild(el("td", null, when(m.Created)));
        tr.addEventListener("click", function () { location.hash = "#/message/" + encodeURIComponent(m.ID); });
        t.appendChild(tr);
      });
      mbody.appendChild(t);
    }
    const sbody = section("Sessions", "sessions");
    if (!sessions.sessions.length) sbody.appendChild(el("div", "empty", "No sessions yet."));
    else {
      const t = table(["Session", "Peer", "State", "Opened", "Messages", "Findings"]);
      sessions.sessions.forEach(function (s) {
        const tr = el("tr", "clickable session");
        tr.dataset.id = s.id;
        tr.appendChild(el("td", null, s.id));
        tr.appendChild(el("td", null, s.peer + (s.tls ? " (TLS)" : "")));
        tr.appendChild(el("td", null, s.state));
        tr.appendChild(el("td", null, when(s.opened)));
        tr.appendChild(el("td", null, (s.messages || []).length));
        tr.appendChild(el("td", "findings-count" + (s.findings ? "" : " none"), s.findings));
        tr.addEventListener("click", function () { location.hash = "#/session/" + encodeURIComponent(s.id); });
        t.appendChild(tr);
      });
      sbody.appendChild(t);
    }
  }

  // --- a message -------------------------------------------------------------

  async function showMessage(id) {
    const base = "/api/v1/message/" + encodeURIComponent(id);
    const [m, headers, own] = await Promise.all([api(base), api(base + "/headers"),
      api("/api/smtpkit/messages/" + encodeURIComponent(id)).catch(function () { return null; })]);
    main.replaceChildren();
    const meta = section(m.Subject || "(no subject)", "message");
    const dl = el("dl", "meta");
    [["From", address(m.From)], ["To", addresses(m.To)], ["Cc", addresses(m.Cc)], ["Bcc", addresses(m.Bcc)],
     ["Date", when(m.Date)], ["Return-Path", m.ReturnPath], ["Size", size(m.Size)]].forEach(function (kv) {
      if (!kv[1]) return;
      dl.appendChild(el("dt", null, kv[0]));
      dl.appendChild(el("dd", null, kv[1]));
    });
    if (own && own.session) {
      dl.appendChild(el("dt", null, "Session"));
      const dd = el("dd");
      const a = el("a", "session-link", own.session);
      a.href = "#/session/" + encodeURIComponent(own.session);
      dd.appendChild(a);
      dl.appendChild(dd);
    }
    meta.appendChild(dl);

    const s = el("section", null);
    s.id = "parts";
    const tabs = el("div", "tabs");
    const body = el("div", "body");
    s.appendChild(tabs);
    s.appendChild(body);
    main.appendChild(s);
    const panes = [];
    if (m.HTML) panes.push(["HTML", function () {
      const f = el("iframe", "html");
      f.setAttribute("sandbox", "");  // no scripts, no same origin: other people's HTML
      f.src = "/view/" + encodeURIComponent(m.ID) + ".html";
      return f;
    }]);
    panes.push(["Text", function () { return el("pre", "text", m.Text); }]);
    panes.push(["Headers", function () {
      const t = table(["Name", "Value"]);
      Object.keys(headers).forEach(function (k) {
        headers[k].forEach(function (v) {
          const tr = el("tr");
          tr.appendChild(el("td", null, k));
          tr.appendChild(el("td", null, v));
          t.appendChild(tr);
        });
      });
      return t;
    }]);
    panes.push(["Source", function () {
      const pre = el("pre", "source", "…");
      api(base + "/raw").then(function (t) { pre.textContent = t; });
      return pre;
    }]);
    const files = (m.Attachments || []).concat(m.Inline || []);
    if (files.length) panes.push(["Attachments (" + files.length + ")", function () {
      const ul = el("ul", "attachments");
      files.forEach(function (a) {
        const li = el("li");
        const link = el("a", null, a.FileName || a.PartID);
        link.href = base + "/part/" + encodeURIComponent(a.PartID);
        link.target = "_blank";
        li.appendChild(link);
        li.appendChild(document.createTextNode(" " + a.ContentType + ", " + size(a.Size)));
        ul.appendChild(li);
      });
      return ul;
    }]);
    function open(i) {
      tabs.querySelectorAll("button").forEach(function (b, j) { b.classList.toggle("on", i === j); });
      body.replaceChildren(panes[i][1]());
    }
    panes.forEach(function (p, i) {
      const b = el("button", null, p[0]);
      b.dataset.pane = p[0].split(" ")[0].toLowerCase();
      b.addEventListener("click", function () { open(i); });
      tabs.appendChild(b);
    });
    open(0);
  }

  // --- a session -------------------------------------------------------------

  async function showSession(id) {
    const s = await api("/api/smtpkit/sessions/" + encodeURIComponent(id));
    main.replaceChildren();
    const meta = section("Session " + s.id, "session");
    const dl = el("dl", "meta");
    [["Peer", s.peer], ["TLS", s.tls ? "implicit" : ""], ["Opened", when(s.opened)], ["Closed", when(s.closed)],
     ["State", s.state], ["Findings", String(s.findings.length)],
     ["Octets", s.octets ? "client " + s.octets.client + ", server " + s.octets.server : ""]].forEach(function (kv) {
      if (!kv[1]) return;
      dl.appendChild(el("dt", null, kv[0]));
      dl.appendChild(el("dd", null, kv[1]));
    });
    (s.messages || []).forEach(function (mid) {
      dl.appendChild(el("dt", null, "Message"));
      const dd = el("dd");
      const a = el("a", null, mid);
      a.href = "#/message/" + encodeURIComponent(mid);
      dd.appendChild(a);
      dl.appendChild(dd);
    });
    const file = el("a", null, "transcript");
    file.href = "/api/smtpkit/sessions/" + encodeURIComponent(s.id) + "/transcript";
    dl.appendChild(el("dt", null, "Download"));
    const dd = el("dd");
    dd.appendChild(file);
    dl.appendChild(dd);
    meta.appendChild(dl);
    const lbody = section("Dialogue", "dialogue");
    const ladder = SmtpkitLadder.render(lbody, s.transcript, s.findings, {lines: true});
    // Time since the session opened, per record (milliseconds).
    const times = s.times || {};
    ladder.querySelectorAll(".row[data-line]").forEach(function (row) {
      const t = times[row.dataset.line];
      if (t !== undefined) row.appendChild(el("span", "elapsed", "+" + t + " ms"));
    });
  }

  // --- routing and live updates ----------------------------------------------

  function parse() {
    const m = /^#\/(message|session)\/(.+)$/.exec(location.hash);
    return m ? {view: m[1], id: decodeURIComponent(m[2])} : {view: "inbox"};
  }

  function refresh() {
    route = parse();
    const shown = route.view === "message" ? showMessage(route.id)
                : route.view === "session" ? showSession(route.id) : showInbox();
    return shown.then(function () { document.body.dataset.view = route.view; }).catch(function (e) {
      main.replaceChildren(el("div", "empty error", String(e.message || e)));
    });
  }

  // Many updates in a burst are one refresh, and under load the page asks
  // at most once a second: the server's one thread also carries SMTP.
  let lastRefresh = 0;
  function soon(pred) {
    if (!pred()) return;
    if (refreshTimer) return;
    const wait = Math.max(150, lastRefresh + 1000 - Date.now());
    refreshTimer = setTimeout(function () { refreshTimer = null; lastRefresh = Date.now(); refresh(); }, wait);
  }

  function follow(path, onMessage, delay) {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
    ws.addEventListener("open", function () {
      delay = 500;
      status.textContent = "live";
      status.classList.add("live");
    });
    ws.addEventListener("message", function (e) {
      try { onMessage(JSON.parse(e.data)); } catch (err) { /* not ours */ }
    });
    ws.addEventListener("close", function () {
      status.textContent = "reconnecting…";
      status.classList.remove("live");
      setTimeout(function () { follow(path, onMessage, Math.min(delay * 2, 5000)); refresh(); }, delay);
    });
  }

  window.addEventListener("hashchange", refresh);
  refresh();
  follow("/api/events", function (e) {
    if (e.Type === "stats" && e.Data) counts.textContent = e.Data.Total + " messages, " + e.Data.Unread + " unread";
    soon(function () { return route && route.view === "inbox"; });
  }, 500);
  follow("/api/smtpkit/live", function (e) {
    const changed = (e.Data && e.Data.sessions) || [];
    soon(function () {
      if (!route) return false;
      if (route.view === "inbox") return true;
      return route.view === "session" && changed.some(function (s) { return s.id === route.id; });
    });
  }, 500);
})();
