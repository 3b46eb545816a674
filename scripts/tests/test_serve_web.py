# test_serve_web.py — the live parts of `smtpkit serve --http`: Mailpit's
# WebSocket /api/events announces new messages, and the web page, in a real
# browser (headless Chromium driven over its DevTools protocol), shows a
# message arrive live, opens it, and opens its session's ladder with the
# finding pinned to the EHLO that caused it.
#
# Limits: skips when Debian's chromium is not installed. On failure the
# page's screenshot is kept (SMTPKIT_TEST_ARTIFACTS, or the temp folder) and
# its path is in the assertion message.
import json
import re
import shutil
import smtplib
import time

import pytest

from peers.browser import Browser
from peers.websocket import WebSocket
from smtpkit.server import MockServer

SUBJECT = "Live in the browser"


def send(srv, helo="client.example.test", subject=SUBJECT):
    with smtplib.SMTP(srv.host, srv.port, local_hostname=helo, timeout=10) as c:
        c.sendmail("alice@example.test", ["bob@example.test"],
                   ("From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: %s\r\n\r\n"
                    "hello from the test\r\n" % subject).encode())


@pytest.fixture
def served():
    srv = MockServer(http=True)
    srv.start()
    try:
        yield srv, srv.http_url
    finally:
        srv.close()


def test_events_stream_announces_new_messages(served):
    srv, url = served
    ws = WebSocket(url.replace("http://", "ws://") + "/api/events")
    try:
        send(srv)
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline:
            e = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            seen.append(e["Type"])
            if e["Type"] == "new":
                assert e["Data"]["Subject"] == SUBJECT
                assert e["Data"]["From"]["Address"] == "alice@example.test"
                assert e["Data"]["ID"] == srv.wait_for_messages(1)[0].id
                break
        assert "new" in seen, seen
    finally:
        ws.close()


# --- the page in Chromium -------------------------------------------------------

@pytest.fixture
def browser():
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed")
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def test_the_page_shows_a_message_live_and_the_session_ladder(served, browser):
    srv, url = served
    browser.call("Page.enable")
    browser.call("Page.navigate", url=url + "/")
    browser.wait("document.getElementById('status') && document.getElementById('status').textContent === 'live'",
                 "the live status")
    browser.wait("!!document.querySelector('#messages .empty')", "an empty inbox")

    # "box" is not a fully qualified EHLO name: one finding, on that line.
    send(srv, helo="box")
    browser.wait("document.querySelectorAll('#messages tr.message').length === 1", "the new message, live")
    assert browser.eval("document.querySelector('#messages tr.message .subject').textContent") == SUBJECT
    browser.wait("[...document.querySelectorAll('#sessions tr.session td')].some(td => td.textContent === '1' "
                 "&& td.classList.contains('findings-count'))", "the session with its finding")

    browser.eval("document.querySelector('#messages tr.message').click()")
    browser.wait("document.body.dataset.view === 'message' && !!document.querySelector('#message h2')", "the message")
    assert browser.eval("document.querySelector('#message h2').textContent") == SUBJECT
    browser.eval("document.querySelector('.tabs button[data-pane=text]').click()")
    assert "hello from the test" in browser.wait("document.querySelector('pre.text') && "
                                                 "document.querySelector('pre.text').textContent", "the text")
    browser.eval("document.querySelector('.tabs button[data-pane=source]').click()")
    browser.wait("document.querySelector('pre.source').textContent.includes('Subject: %s')" % SUBJECT, "the source")

    browser.eval("document.querySelector('a.session-link').click()")
    browser.wait("document.body.dataset.view === 'session' && !!document.querySelector('.ladder')", "the ladder")
    pinned = browser.wait(
        "(() => { const f = document.querySelector('.pinned .finding[data-rule=\"client.domain.unqualified\"]');"
        " if (!f) return null; const n = f.parentElement.dataset.line;"
        " const row = document.querySelector('.ladder .row[data-line=\"' + n + '\"]');"
        " return {row: row.textContent, level: f.dataset.level, rfc: f.querySelector('a.rfc').href}; })()",
        "the finding pinned to its line")
    assert "ehlo box" in pinned["row"].lower(), pinned
    assert pinned["level"] == "MUST"
    assert pinned["rfc"] == "https://www.rfc-editor.org/rfc/rfc5321#section-2.3.5"
    # Each record shows when it crossed, counted from the session's start.
    assert re.fullmatch(r"\+\d+(\.\d+)? ms", browser.eval("document.querySelector('.ladder .row .elapsed').textContent"))


def test_smtpkit_events_stream_is_the_events_json(served):
    srv, url = served
    ws = WebSocket(url.replace("http://", "ws://") + "/api/smtpkit/events")
    try:
        time.sleep(0.2)  # the server builds events once someone listens
        send(srv)
        kinds = []
        deadline = time.monotonic() + 10
        while "message" not in kinds and time.monotonic() < deadline:
            e = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            assert "ts" in e and "event" in e
            kinds.append(e["event"])
        assert "message" in kinds and "command" in kinds, kinds
    finally:
        ws.close()
