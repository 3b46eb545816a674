# test_flawed_relay.py — peers/flawed_relay.py between smtplib (or a raw
# socket) and a next-hop sink defined here. The relay is careful by
# default and breaks one rule per --break; these tests show both halves:
#
# - careful: a message reaches the next hop with one Received: field on
#   top, the header otherwise untouched and the dot-stuffing right, with
#   its MAIL and RCPT parameters passed on; a deferred recipient is tried
#   again, a refused one bounced with a multipart/report DSN to the sender
#   (whose domain goes to the same next hop); 8-bit mail to a hop without
#   8BITMIME is bounced with 5.6.3; bare LF data (550 5.6.0) and more than
#   100 Received: fields (554 5.4.6) are refused; "\n.\n" never ends the data;
# - broken: under the same set-up each break tested shows what it breaks.
#
# The sink records every message's MAIL and RCPT command lines and its raw
# data octets (dot-stuffed, as on the wire; the data ends at CRLF.CRLF
# only). It defers ("450") a recipient whose local part starts with
# "defer-" the first time, refuses ("550") one that starts with "reject-".
#
# Limits: everything on 127.0.0.1 port 0; the relay runs with
# --retry-delay 0.2; waits are bounded (5 s), and the only fixed waits
# are the short ones that show that nothing more arrives.
import email
import email.policy
import os
import re
import select
import smtplib
import socket
import socketserver
import subprocess
import sys
import threading
import time

import pytest

from peers.flawed_relay import BREAKS

RELAY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers", "flawed_relay.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
ALL_EXTENSIONS = ("PIPELINING", "SIZE 20000000", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES")
WAIT = 5.0
QUIET = 0.6  # how long "nothing more arrives" is watched for

MESSAGE = (b"Received: from a.example.test by b.example.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: relay me\r\n\r\n"
           b"Hello.\r\n.A line that starts with a dot.\r\n..Two dots.\r\n.\r\n\r\n"
           + b"y" * 998 + b"\r\nLast line.\r\n")


# --- the next hop ------------------------------------------------------------------------


class SinkHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink = self.server
        self.reply("220 sink.test ESMTP")
        mail, rcpts = None, []
        for _ in range(1000):
            line = self.rfile.readline(65536)
            if not line:
                return
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["sink.test"] + list(sink.extensions)
                self.reply("\r\n".join("250%s%s" % ("-" if i < len(lines) - 1 else " ", x)
                                       for i, x in enumerate(lines)))
            elif verb == "HELO":
                self.reply("250 sink.test")
            elif verb == "MAIL":
                mail, rcpts = text, []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                local = re.search(r"<([^@>]*)", text).group(1)
                with sink.lock:
                    first = text not in sink.deferred
                    sink.deferred.add(text)
                if local.startswith("defer-") and first:
                    self.reply("450 4.2.0 <%s>: try again later" % local)
                elif local.startswith("reject-"):
                    self.reply("550 5.1.1 <%s>: Recipient address rejected: User unknown" % local)
                else:
                    rcpts.append(text)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b"\r\n"
                for _ in range(1000000):
                    chunk = self.rfile.readline(65536)
                    if not chunk:
                        return
                    data += chunk
                    if data.endswith(b"\r\n.\r\n"):
                        break
                with sink.lock:
                    sink.messages.append({"mail": mail, "rcpts": rcpts, "raw": data[2:-3]})
                    sink.changed.notify_all()
                self.reply("250 2.0.0 Ok: stored")
            elif verb == "RSET":
                mail, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("500 5.5.2 what?")


class Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, extensions):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.extensions = extensions
        self.messages = []
        self.deferred = set()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    @property
    def port(self):
        return self.server_address[1]

    def wait_for(self, n, timeout=WAIT):
        """The first n messages, waiting up to timeout for them."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                assert left > 0, "%d message(s) at the next hop, not %d" % (len(self.messages), n)
                self.changed.wait(left)
            return list(self.messages[:n])

    def quiet(self, n):
        """Asserts that no more than n messages arrive within QUIET seconds."""
        time.sleep(QUIET)
        with self.lock:
            assert len(self.messages) == n, [m["mail"] for m in self.messages]


def unstuff(raw):
    return re.sub(rb"(?:^|(?<=\r\n))\.", b"", raw)


def bounce_of(message):
    assert message["mail"].startswith("MAIL FROM:<>")
    return email.message_from_bytes(unstuff(message["raw"]), policy=email.policy.compat32)


# --- fixtures ---------------------------------------------------------------------------


class Relay:
    def __init__(self, proc, port, log):
        self.proc, self.port, self.log = proc, port, log

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.test", timeout=10)

    def send(self, msg=MESSAGE, sender="alice@example.test", rcpts=("bob@example.test",), **kw):
        with self.smtp() as s:
            return s.sendmail(sender, list(rcpts), msg, **kw)

    def raw(self, data, rcpts=("bob@example.test",)):
        """Sends data (with its end marker) after DATA on a raw socket, then
        HELP; the reply lines before HELP's 214."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            for command, code in [(b"", b"220"), (b"HELO client.test", b"250"),
                                  (b"MAIL FROM:<alice@example.test>", b"250")] + [
                    (b"RCPT TO:<%s>" % r.encode(), b"250") for r in rcpts] + [(b"DATA", b"354")]:
                if command:
                    s.sendall(command + b"\r\n")
                reply = b""
                while not reply.endswith(b"\n"):
                    reply += s.recv(4096)
                assert reply.startswith(code), (command, reply)
            s.sendall(data + b"HELP\r\n")
            octets = b""
            while not re.search(rb"(^|\n)214 [^\n]*\n$", octets):
                chunk = s.recv(4096)
                assert chunk, octets
                octets += chunk
            s.sendall(b"QUIT\r\n")
            return octets.decode().splitlines()[:-1]

    def wait_log(self, text, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log) as f:
                if text in f.read():
                    return
            time.sleep(0.05)
        with open(self.log) as f:
            raise AssertionError("%r not in the relay's log:\n%s" % (text, f.read()))


@pytest.fixture
def sink_factory():
    sinks = []

    def start(extensions=ALL_EXTENSIONS):
        sink = Sink(extensions)
        threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        sinks.append(sink)
        return sink

    yield start
    for sink in sinks:
        sink.shutdown()
        sink.server_close()


@pytest.fixture
def sink(sink_factory):
    return sink_factory()


@pytest.fixture
def relay_factory(tmp_path):
    procs = []

    def start(sink, *breaks, extra=()):
        log = tmp_path / ("relay-%d.log" % len(procs))
        cmd = [PYTHON, RELAY, "--listen", "127.0.0.1:0", "--next-hop", "127.0.0.1:%d" % sink.port,
               "--hostname", "relay.test", "--retry-delay", "0.2", "--max-attempts", "3"]
        for b in breaks:
            cmd += ["--break", b]
        cmd += list(extra)
        with open(log, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        procs.append(proc)
        assert select.select([proc.stdout], [], [], WAIT)[0], "the relay did not start"
        line = proc.stdout.readline().decode()
        m = re.fullmatch(r"listening 127\.0\.0\.1:(\d+)\n", line)
        assert m, "first line %r" % line
        return Relay(proc, int(m.group(1)), log)

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    for proc in procs:
        assert proc.returncode == 0, "the relay exited %s" % proc.returncode


# --- careful ----------------------------------------------------------------------------


def test_breaks_are_listed_in_the_docstring():
    import peers.flawed_relay as relay

    for name in BREAKS:
        assert re.search(r"^  %s " % re.escape(name), relay.__doc__, re.M), name


def test_careful_relay_forwards_with_one_trace_field_on_top(sink, relay_factory):
    relay = relay_factory(sink)
    with relay.smtp() as s:
        code, text = s.ehlo()
        assert code == 250 and text.decode().split("\n")[0] == "relay.test greets client.test"
        for keyword in ("pipelining", "size", "8bitmime", "smtputf8", "dsn", "enhancedstatuscodes"):
            assert s.has_extn(keyword), keyword
        for keyword in ("chunking", "starttls", "auth"):
            assert not s.has_extn(keyword), keyword
        assert s.docmd("VRFY", "bob")[0] == 252
        assert s.docmd("FROB")[0] == 500
        s.sendmail("alice@example.test", ["bob@example.test", "carol@example.test"], MESSAGE,
                   mail_options=["BODY=8BITMIME", "RET=HDRS", "ENVID=env+2Bid"],
                   rcpt_options=["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;bob@example.test"])
    (m,) = sink.wait_for(1)
    data = unstuff(m["raw"])
    trace = re.match(rb"Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\r\n"
                     rb"\tby relay\.test \(flawed-relay\) with ESMTP id ([0-9A-F]+)\r\n"
                     rb"\tfor <bob@example\.test>; [^\r\n]+\r\n", data)
    assert trace, data[:300]
    assert data[trace.end():] == MESSAGE  # the rest untouched, byte for byte
    assert data.count(b"\nReceived:") + data.startswith(b"Received:") == 2
    # Dot-stuffing on the wire: every line that starts with a dot got one more.
    assert b"\r\n..A line" in m["raw"] and b"\r\n...Two dots." in m["raw"] and b"\r\n..\r\n" in m["raw"]
    assert m["mail"] == ("MAIL FROM:<alice@example.test> SIZE=%d BODY=8BITMIME RET=HDRS ENVID=env+2Bid"
                         % len(data))
    assert m["rcpts"] == ["RCPT TO:<bob@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.test",
                          "RCPT TO:<carol@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.test"]
    assert "Return-Path" not in data.decode("latin-1")
    relay.wait_log("<carol@example.test>: sent")
    sink.quiet(1)


def test_careful_relay_retries_a_deferred_recipient(sink, relay_factory):
    relay = relay_factory(sink)
    relay.send(rcpts=["defer-dan@example.test", "bob@example.test"])
    first, second = sink.wait_for(2)
    assert first["rcpts"] == ["RCPT TO:<bob@example.test>"]
    assert second["rcpts"] == ["RCPT TO:<defer-dan@example.test>"]
    assert first["raw"] == second["raw"]  # the same trace field on every attempt
    relay.wait_log("<defer-dan@example.test>: deferred (450 4.2.0")
    sink.quiet(2)  # and no DSN


def test_careful_relay_bounces_a_refused_recipient(sink, relay_factory):
    relay = relay_factory(sink)
    relay.send(rcpts=["reject-eve@example.test", "bob@example.test"], mail_options=["ENVID=e1"],
               rcpt_options=["ORCPT=rfc822;reject-eve+2Bx@example.test"])
    original, dsn = sink.wait_for(2)
    assert original["rcpts"] == ["RCPT TO:<bob@example.test> ORCPT=rfc822;reject-eve+2Bx@example.test"]
    assert dsn["rcpts"] == ["RCPT TO:<alice@example.test>"]
    assert b"Received:" not in unstuff(dsn["raw"]).split(b"\r\n\r\n")[0]  # a DSN gets no trace field
    msg = bounce_of(dsn)
    assert msg["From"].startswith("MAILER-DAEMON@relay.test")
    assert msg["To"] == "<alice@example.test>"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Message-ID"] and msg["Date"] and msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    text, status, headers = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert "reject-eve@example.test" in text.get_payload()
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_rcpt = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; relay.test"
    assert per_message["Original-Envelope-Id"] == "e1"
    assert per_message["Arrival-Date"]
    assert per_rcpt["Final-Recipient"] == "rfc822; reject-eve@example.test"
    assert per_rcpt["Original-Recipient"] == "rfc822;reject-eve+x@example.test"
    assert per_rcpt["Action"] == "failed"
    assert per_rcpt["Status"] == "5.1.1"
    assert per_rcpt["Remote-MTA"] == "dns; 127.0.0.1"
    assert per_rcpt["Diagnostic-Code"].startswith("smtp; 550 5.1.1 <reject-eve>")
    assert headers.get_content_type() == "text/rfc822-headers"
    assert "Subject: relay me" in headers.get_payload()
    assert "Hello." not in unstuff(dsn["raw"]).decode()  # headers only (no RET=FULL)
    sink.quiet(2)


def test_careful_relay_bounces_8bit_mail_to_a_7bit_hop(sink_factory, relay_factory):
    sink = sink_factory(("SIZE 20000000", "DSN"))
    relay = relay_factory(sink)
    relay.send(msg=b"Subject: 8-bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n", mail_options=["BODY=8BITMIME"])
    (dsn,) = sink.wait_for(1)
    per_rcpt = bounce_of(dsn).get_payload()[1].get_payload()[1]
    assert per_rcpt["Status"] == "5.6.3"
    sink.quiet(1)


def test_careful_relay_refuses_bare_line_ends(sink, relay_factory):
    relay = relay_factory(sink)
    for data in (b"Subject: x\r\n\r\none\ntwo\r\n.\r\n", b"Subject: x\r\n\r\none\rtwo\r\n.\r\n",
                 b"Subject: x\r\n\r\none\x00two\r\n.\r\n"):
        assert relay.raw(data) == ["550 5.6.0 bare LF/CR in message data"]
    # "\n.\n" and "\r.\r" do not end the data: one reply, at CRLF.CRLF, and the
    # line after is not read as a command.
    assert relay.raw(b"Subject: x\r\n\r\na\n.\nNOOP\r\nb\r.\rNOOP\r\n.\r\n") == [
        "550 5.6.0 bare LF/CR in message data"]
    # 998 octets pass, 999 do not.
    assert relay.raw(b"Subject: x\r\n\r\n" + b"z" * 999 + b"\r\n.\r\n")[0].startswith("500 5.5.6")
    assert relay.raw(b"Subject: x\r\n\r\n" + b"z" * 998 + b"\r\n.\r\n")[0].startswith("250 2.0.0 Ok: queued as ")
    assert len(sink.wait_for(1)) == 1
    sink.quiet(1)


def test_careful_relay_refuses_too_many_hops(sink, relay_factory):
    relay = relay_factory(sink)
    def hops(n):
        return b"".join(b"Received: from h%d.test by h%d.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                        % (i, i + 1) for i in range(n)) + b"Subject: loop\r\n\r\nbody\r\n"

    with pytest.raises(smtplib.SMTPDataError) as e:
        relay.send(msg=hops(101))
    assert e.value.smtp_code == 554 and e.value.smtp_error.startswith(b"5.4.6")
    relay.send(msg=hops(100))
    (m,) = sink.wait_for(1)
    assert unstuff(m["raw"]).count(b"Received:") == 101


# --- broken -----------------------------------------------------------------------------


def test_pass_bare_lf_forwards_the_octets_raw(sink, relay_factory):
    relay = relay_factory(sink, "pass-bare-lf")
    data = b"Subject: x\r\n\r\nbefore\n.\nMAIL FROM:<x@y>\nafter\r\n"
    assert relay.raw(data + b".\r\n")[0].startswith("250 ")
    (m,) = sink.wait_for(1)
    assert m["raw"].endswith(data)


def test_end_at_lf_dot_lets_commands_be_smuggled(sink_factory, relay_factory):
    careful = relay_factory(sink_factory())
    smuggle = b"Subject: x\r\n\r\nhi\r\n.\nNOOP\r\n.\r\n"
    assert careful.raw(smuggle) == ["550 5.6.0 bare LF/CR in message data"]
    sink = sink_factory()
    relay = relay_factory(sink, "end-at-lf-dot")
    replies = relay.raw(smuggle)
    assert [r[:3] for r in replies] == ["250", "250", "500"]  # the data, the smuggled NOOP, the "."
    (m,) = sink.wait_for(1)
    assert m["raw"].endswith(b"\r\n\r\nhi\r\n")


def test_no_dot_stuffing(sink, relay_factory):
    relay = relay_factory(sink, "no-dot-stuffing")
    relay.send(msg=b"Subject: dots\r\n\r\n.x\r\n..y\r\nz\r\n")
    (m,) = sink.wait_for(1)
    assert m["raw"].endswith(b"\r\n\r\n.x\r\n..y\r\nz\r\n")  # as the relay holds it, unstuffed
    assert unstuff(m["raw"]).endswith(b"\r\n\r\nx\r\n.y\r\nz\r\n")  # what the next hop reads


def test_no_received(sink, relay_factory):
    relay = relay_factory(sink, "no-received")
    relay.send()
    (m,) = sink.wait_for(1)
    assert unstuff(m["raw"]) == MESSAGE


@pytest.mark.parametrize("flag", ["no-bounce", None])
def test_no_bounce(sink, relay_factory, flag):
    relay = relay_factory(sink, *([flag] if flag else []))
    relay.send(rcpts=["reject-eve@example.test", "bob@example.test"])
    relay.wait_log("<reject-eve@example.test>: failed (550 5.1.1")
    if flag:
        relay.wait_log("no DSN (no-bounce)")
        sink.quiet(1)
    else:
        dsn = sink.wait_for(2)[1]
        assert dsn["mail"] == "MAIL FROM:<> SIZE=%d" % len(unstuff(dsn["raw"]))


def test_no_retry(sink, relay_factory):
    relay = relay_factory(sink, "no-retry")
    relay.send(rcpts=["defer-dan@example.test"])
    relay.wait_log("<defer-dan@example.test>: dropped (450 4.2.0")
    sink.quiet(0)


def test_drop_dsn_params(sink, relay_factory):
    relay = relay_factory(sink, "drop-dsn-params")
    relay.send(mail_options=["RET=FULL", "ENVID=x1"], rcpt_options=["NOTIFY=NEVER", "ORCPT=rfc822;b@c.test"])
    (m,) = sink.wait_for(1)
    assert m["mail"] == "MAIL FROM:<alice@example.test> SIZE=%d" % len(unstuff(m["raw"]))
    assert m["rcpts"] == ["RCPT TO:<bob@example.test>"]


def test_rewrite_sender(sink, relay_factory):
    relay = relay_factory(sink, "rewrite-sender")
    relay.send()
    (m,) = sink.wait_for(1)
    assert m["mail"].startswith("MAIL FROM:<relay@relay.test> ")


def test_bad_dsn(sink, relay_factory):
    relay = relay_factory(sink, "bad-dsn")
    relay.send(rcpts=["reject-eve@example.test"])
    (dsn,) = sink.wait_for(1)
    msg = bounce_of(dsn)
    assert msg.get_content_type() == "text/plain"
    assert "Status: 5.1.1" in msg.get_payload()


# Breaks whose effect shows in the one forwarded message: (flag, extensions
# of the next hop, send() arguments, a check of the sink's message).
def _data(m):
    return unstuff(m["raw"])


SHOWN_IN_MESSAGE = [
    ("no-size", ALL_EXTENSIONS, {}, lambda m: "SIZE=" not in m["mail"]),
    ("drop-second-rcpt", ALL_EXTENSIONS, {"rcpts": ["bob@example.test", "carol@example.test"]},
     lambda m: m["rcpts"] == ["RCPT TO:<bob@example.test>"]),
    ("received-at-bottom", ALL_EXTENSIONS, {},
     lambda m: _data(m).startswith(MESSAGE.split(b"\r\n")[0]) and b"Subject: relay me\r\nReceived: from" in _data(m)),
    ("drop-received", ALL_EXTENSIONS, {},
     lambda m: _data(m).count(b"Received:") == 1 and b"a.example.test" not in _data(m)),
    ("add-return-path", ALL_EXTENSIONS, {},
     lambda m: _data(m).startswith(b"Return-Path: <alice@example.test>\r\nReceived: from client.test")),
    ("fold-long-lines", ALL_EXTENSIONS, {},
     lambda m: b"y" * 79 not in _data(m) and b"\r\n" + b"y" * 78 + b"\r\n" in _data(m)),
    ("drop-empty-lines", ALL_EXTENSIONS, {},
     lambda m: b"\r\n\r\n" in _data(m) and b".\r\n\r\n" + b"y" not in _data(m)
     and _data(m).count(b"\r\n\r\n") == 1),
    ("drop-body-param", ALL_EXTENSIONS, {"msg": b"Subject: 8\r\n\r\n\xc3\xa9\r\n", "mail_options": ["BODY=8BITMIME"]},
     lambda m: "BODY=" not in m["mail"] and b"\xc3\xa9" in m["raw"]),
    ("force-8bit", ("DSN",), {"msg": b"Subject: 8\r\n\r\n\xc3\xa9\r\n", "mail_options": ["BODY=8BITMIME"]},
     lambda m: m["mail"].startswith("MAIL FROM:<alice@example.test>") and b"\xc3\xa9" in m["raw"]),
    ("drop-smtputf8", ("8BITMIME",), {"mail_options": ["SMTPUTF8"]},
     lambda m: m["mail"] == "MAIL FROM:<alice@example.test>"),
]


@pytest.mark.parametrize("flag,extensions,kw,check", SHOWN_IN_MESSAGE, ids=[x[0] for x in SHOWN_IN_MESSAGE])
def test_break_shows_in_the_message(sink_factory, relay_factory, flag, extensions, kw, check):
    sink = sink_factory(extensions)
    broken = relay_factory(sink, flag)
    broken.send(**kw)
    (m,) = sink.wait_for(1)
    assert check(m), (m["mail"], m["rcpts"], m["raw"][:400])
    # The careful relay, same next hop and message: the check fails (or
    # nothing but a DSN arrives).
    careful = relay_factory(sink)
    careful.send(**kw)
    (_, m) = sink.wait_for(2)
    assert not (check(m) and not m["mail"].startswith("MAIL FROM:<>")), (m["mail"], m["rcpts"], m["raw"][:400])


def test_no_loop_limit(sink, relay_factory):
    relay = relay_factory(sink, "no-loop-limit")
    relay.send(msg=b"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n" * 150 + b"\r\nbody\r\n")
    (m,) = sink.wait_for(1)
    assert _data(m).count(b"Received:") == 151
