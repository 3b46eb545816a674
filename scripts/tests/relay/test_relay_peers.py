# test_relay_peers.py — Exim and Postfix as relays under test
# (peers/relays.py) in front of a tiny threaded SMTP sink written here:
# a message is relayed with a new Received: line on top, a 4xx from the
# sink is retried until it is delivered, and a 5xx makes a DSN to the
# sender, which the relay delivers to the sink too.
#
# The sink records every transaction (MAIL FROM, accepted RCPTs, the DATA
# after dot-unstuffing, CRLF kept) and every RCPT reply. RCPT for a local
# part starting "defer-" gets 451 the first time, "reject-" always 550.
import email.utils
import smtplib
import socketserver
import threading
import time

import pytest

from peers import relays, servers

DOMAIN = "sink.test"
SENDER = "probe@" + DOMAIN


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__((servers.HOST, 0), SinkHandler)
        self.lock = threading.Lock()
        self.messages = []    # {"mail_from", "rcpts", "data"}
        self.rcpt_log = []    # (address, reply code)
        self.deferred = set()

    @property
    def port(self):
        return self.server_address[1]

    def rcpt_reply(self, addr):
        local = addr.split("@", 1)[0].lower()
        with self.lock:
            if local.startswith("reject-"):
                code = 550
            elif local.startswith("defer-") and addr.lower() not in self.deferred:
                self.deferred.add(addr.lower())
                code = 451
            else:
                code = 250
            self.rcpt_log.append((addr, code))
        return code

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, predicate, timeout):
        """The first recorded message for which predicate() holds, or None."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.snapshot():
                if predicate(m):
                    return m
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)


def _path(arg):
    """The address inside <...> of 'FROM:<a> PARAMS' / 'TO:<a>'."""
    start, end = arg.find("<"), arg.find(">")
    return arg[start + 1:end] if 0 <= start < end else arg.split(":", 1)[-1].split()[0]


class SinkHandler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        srv = self.server
        self.reply("220 sink.smtpkit.test ESMTP test sink")
        mail_from, rcpts = None, []
        while True:
            try:
                line = self.rfile.readline(4096)
            except OSError:
                return
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                self.reply("250-sink.smtpkit.test\r\n250-8BITMIME\r\n250 SIZE 10485760")
            elif verb == "HELO":
                self.reply("250 sink.smtpkit.test")
            elif verb == "MAIL":
                mail_from, rcpts = _path(cmd[5:]), []
                self.reply("250 ok")
            elif verb == "RCPT":
                if mail_from is None:
                    self.reply("503 MAIL first")
                    continue
                addr = _path(cmd[5:])
                code = srv.rcpt_reply(addr)
                if code == 250:
                    rcpts.append(addr)
                    self.reply("250 ok")
                elif code == 451:
                    self.reply("451 4.3.0 try again later")
                else:
                    self.reply("550 5.1.1 no such user here")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = bytearray()
                while True:
                    dl = self.rfile.readline(1 << 20)
                    if not dl:
                        return
                    if dl in (b".\r\n", b".\n"):
                        break
                    data += dl[1:] if dl.startswith(b".") else dl
                with srv.lock:
                    srv.messages.append({"mail_from": mail_from, "rcpts": rcpts, "data": bytes(data)})
                mail_from, rcpts = None, []
                self.reply("250 ok queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 ok")
            elif verb == "NOOP":
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def sink():
    srv = SinkServer()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


RELAYS = {
    "exim": (relays.exim_available, relays.start_exim_relay, "relay-exim.test"),
    "postfix": (relays.postfix_available, relays.start_postfix_relay, "relay-postfix.test"),
}


def message(rcpt, tag):
    return ("From: Probe <%s>\r\nTo: <%s>\r\nSubject: relay test %s\r\nDate: %s\r\n"
            "Message-ID: <%s.%d@sink.test>\r\n\r\nbody of %s\r\n.leading dot line\r\n"
            % (SENDER, rcpt, tag, email.utils.formatdate(), tag, time.time_ns(), tag)).encode()


def submit(relay, rcpt, tag):
    with smtplib.SMTP(relay.host, relay.port, local_hostname="client.smtpkit.test", timeout=15) as s:
        s.sendmail(SENDER, [rcpt], message(rcpt, tag))


@pytest.mark.parametrize("name", sorted(RELAYS))
def test_relay_delivers_retries_and_bounces(name, sink):
    available, start, hostname = RELAYS[name]
    if not available():
        pytest.skip("%s relay is not available here" % name)
    with start(sink.port, domain=DOMAIN) as relay:
        assert relay.address == "%s:%d" % (servers.HOST, relay.port)
        ok, defer, reject = ("%s-1@%s" % (p, DOMAIN) for p in ("ok", "defer", "reject"))
        for rcpt, tag in ((ok, "ok"), (defer, "defer"), (reject, "reject")):
            submit(relay, rcpt, tag)

        # Relayed at once, with the relay's Received: line on top.
        got = sink.wait(lambda m: m["rcpts"] == [ok], 15)
        assert got, relay.log_text()
        assert got["mail_from"] == SENDER
        first = got["data"].split(b"\r\n", 1)[0]
        assert first.startswith(b"Received: from ") and b"Subject: relay test ok" in got["data"], got["data"]
        assert b"by " + hostname.encode() in got["data"].split(b"\r\n\r\n", 1)[0]
        assert b"\r\n.leading dot line\r\n" in got["data"]

        # 550 at RCPT: a DSN from <> to the sender, which is in the domain.
        dsn = sink.wait(lambda m: m["mail_from"] == "" and m["rcpts"] == [SENDER], 20)
        assert dsn, relay.log_text()
        head = dsn["data"].split(b"\r\n\r\n", 1)[0].lower()
        assert b"multipart/report" in head and b"delivery-status" in head, dsn["data"]
        assert reject.encode() in dsn["data"]

        # 451 at RCPT: retried, and delivered on a later attempt.
        late = sink.wait(lambda m: m["rcpts"] == [defer], 40)
        assert late, relay.log_text()
        assert late["mail_from"] == SENDER and b"Subject: relay test defer" in late["data"]
        attempts = [code for addr, code in sink.rcpt_log if addr == defer]
        assert attempts[0] == 451 and attempts[-1] == 250, attempts

        # Nothing else came through: no DSN for the deferral, one bounce only.
        time.sleep(0.5)
        envelopes = sorted((m["mail_from"], tuple(m["rcpts"])) for m in sink.snapshot())
        assert envelopes == sorted([(SENDER, (ok,)), (SENDER, (defer,)), ("", (SENDER,))]), envelopes


def test_relays_refuse_other_domains(sink):
    """RCPT outside the domain is refused, so nothing goes anywhere else."""
    ran = 0
    for name, (available, start, _) in sorted(RELAYS.items()):
        if not available():
            continue
        ran += 1
        with start(sink.port, domain=DOMAIN) as relay:
            with smtplib.SMTP(relay.host, relay.port, local_hostname="client.smtpkit.test", timeout=15) as s:
                s.ehlo()
                assert s.mail(SENDER)[0] == 250
                code, _ = s.rcpt("someone@example.com")
                assert 500 <= code < 600, (name, code)
    if not ran:
        pytest.skip("neither relay is available here")
    assert sink.snapshot() == []
