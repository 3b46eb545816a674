# test_peers.py — the real-peer harness itself: the Python dialogue writer
# agrees with the C++ one, each server helper starts and stops cleanly, each
# real client delivers through each server (byte for byte where the server
# stores the message raw), the transcripts of `smtpkit record` between a
# raw client and each server give back exactly the octets each side sent,
# and the corpus files are canonical.
#
# Limits: smtp-sink keeps no raw copy (LF dumps), so it is checked by
# content; s-nail adds headers of its own, so only ours and the body are
# compared. Cross-checks with the C++ code need the built `smtpkit`
# (SMTPKIT_BIN, else build/default/cli/smtpkit) and skip without it.
import glob
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time

import pytest

from peers import clients, servers
from peers.dialogue import CLIENT, SERVER, TranscriptWriter, escape, read_transcript, side_bytes, unescape

REPO = servers.REPO
SMTPKIT_BIN = os.environ.get("SMTPKIT_BIN", os.path.join(REPO, "build", "default", "cli", "smtpkit"))

SENDER, RCPT = "sender@example.test", "rcpt@example.test"
HEADERS = [
    b"From: sender@example.test",
    b"To: rcpt@example.test",
    b"Subject: smtpkit peers test",
    b"Date: Thu, 01 Jan 2026 00:00:00 +0000",
    b"Message-ID: <peers-test@client.smtpkit.test>",
]
BODY = b"Hello.\r\n.A line that starts with a dot.\r\nLast line.\r\n"
MESSAGE = b"\r\n".join(HEADERS) + b"\r\n\r\n" + BODY
AUTH = ("alice", "wonderland")


# --- the dialogue format -----------------------------------------------------

def test_writer_keeps_order_and_marks_bare_lf():
    # The same case as parser/test/transcript_test.cpp.
    w = TranscriptWriter()
    w.sent(SERVER, b"220 mx ready\r\n")
    w.sent(CLIENT, b"MAIL FROM:<a@b>\nRC")
    w.sent(SERVER, b"250 ok\r\n")
    w.sent(CLIENT, b"PT TO:<c@d>\r\n")
    w.close(CLIENT)
    assert w.take() == ("S: 220 mx ready\n"
                        "C= MAIL FROM:<a@b>\\n\n"
                        "C= RC\n"
                        "S: 250 ok\n"
                        "C: PT TO:<c@d>\n"
                        "@close C\n")


@pytest.mark.parametrize("raw,text", [
    (b"250 ok ", "250 ok\\x20"),                      # trailing space survives editors
    (b"a\tb", "a\\tb"),
    (b"a\\b\r\n\t\0\x7f\xff", "a\\\\b\\r\\n\\t\\0\\x7f\\xff"),
    (b"caf\xc3\xa9 \xf0\x9f\x93\xa7", "café 📧"),      # well-formed UTF-8 stays
    (b"\xc0\x80", "\\xc0\\x80"),                      # overlong NUL
    (b"\xed\xa0\x80", "\\xed\\xa0\\x80"),             # surrogate
    (b"\xc3", "\\xc3"),                               # truncated sequence
    (b"\x01\x1b", "\\x01\\x1b"),
    (b"  ", " \\x20"),
])
def test_escape_table(raw, text):
    assert escape(raw) == text
    assert unescape(text) == raw


def test_round_trip_of_arbitrary_octets():
    rng = random.Random(5321)
    alphabet = b"ab \r\n\t\0.\\\x7f\xc3\xa9\xff"
    for _ in range(500):
        w = TranscriptWriter()
        sent = {CLIENT: b"", SERVER: b""}
        for _ in range(rng.randint(1, 8)):
            who = rng.choice((CLIENT, SERVER))
            chunk = bytes(rng.choice(alphabet) for _ in range(rng.randrange(20)))
            w.sent(who, chunk)
            sent[who] += chunk
            if rng.randrange(10) == 0:
                w.tls()
        text = w.take()
        recs = read_transcript(text)
        assert side_bytes(recs, CLIENT) == sent[CLIENT], text
        assert side_bytes(recs, SERVER) == sent[SERVER], text


@pytest.mark.skipif(not os.access(SMTPKIT_BIN, os.X_OK), reason="smtpkit binary not built")
def test_cpp_reads_python_escapes_as_the_same_octets():
    # `smtpkit parse` decodes each line with the C++ unescape; a NUL put at
    # the end is reported at the decoded length, so both sides agree on the
    # octets (a bad escape would exit 2).
    rng = random.Random(6531)
    alphabet = b"ab \\.:\xc3\xa9\xff\xe2\x82\xac"
    payloads = [b"NOOP " + bytes(rng.choice(alphabet) for _ in range(rng.randrange(30))) + b"\0"
                for _ in range(200)]
    text = "".join(escape(p) + "\n" for p in payloads)
    p = subprocess.run([SMTPKIT_BIN, "parse", "--as", "command"], input=text.encode(), capture_output=True,
                       timeout=30)
    assert p.returncode == 1, p.stderr
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert len(out) == len(payloads)
    for payload, o in zip(payloads, out):
        assert (o["rule"], o["offset"]) == ("line.nul", len(payload) - 1), o


# --- servers start and stop ---------------------------------------------------

def need_server(path):
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not installed" % path)


def _refused(port):
    try:
        socket.create_connection((servers.HOST, port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("start,banner", [
    (servers.start_aiosmtpd, b"220 aiosmtpd.smtpkit.test "),
    (servers.start_exim, b"220 exim.smtpkit.test ESMTP Exim "),
    (servers.start_smtp_sink, b"220 sink.smtpkit.test "),
], ids=["aiosmtpd", "exim", "smtp-sink"])
def test_server_starts_and_stops_cleanly(start, banner):
    binaries = {servers.start_exim: servers.EXIM, servers.start_smtp_sink: servers.SMTP_SINK}
    need_server(binaries.get(start, servers.PYTHON))
    peer = start()
    try:
        assert peer.banner.startswith(banner.rstrip())
        assert peer.proc.poll() is None
        assert servers.read_banner(peer.host, peer.port).startswith(banner.rstrip())
    finally:
        workdir, port = peer.workdir, peer.port
        peer.stop()
    assert not os.path.exists(workdir)
    assert servers.wait_for(lambda: _refused(port), timeout=5)


def test_a_lost_port_race_is_retried(monkeypatch):
    need_server(servers.EXIM)
    # Someone takes the port between free_port() and exim's bind: exim logs
    # "Address already in use"; the helper notices and takes another port.
    squatter = socket.socket()
    squatter.bind((servers.HOST, 0))
    squatter.listen(1)
    ports = [squatter.getsockname()[1]]
    real = servers.free_port
    monkeypatch.setattr(servers, "free_port", lambda: ports.pop() if ports else real())
    try:
        with servers.start_exim() as peer:
            assert peer.port != squatter.getsockname()[1]
            assert peer.banner.startswith(b"220 exim.smtpkit.test")
    finally:
        squatter.close()


def test_tls_certificate_is_made_at_run_time(tmp_path):
    cert, key = servers.make_cert(str(tmp_path))
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-subject"], capture_output=True,
                          timeout=10).stdout
    assert b"CN = localhost" in text and os.path.getsize(key) > 0


# --- real clients deliver through real servers -------------------------------

def _message_for(client):
    if client == "s-nail":
        # s-nail writes its own Date: (fixed by SOURCE_DATE_EPOCH); ours would be a second one.
        return b"\r\n".join(h for h in HEADERS if not h.startswith(b"Date:")) + b"\r\n\r\n" + BODY
    return MESSAGE


def _check_stored(client, stored, sent):
    if client != "s-nail":
        assert stored == sent
        return
    head, _, body = stored.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert body == BODY
    for h in HEADERS:
        assert h in lines
    assert any(line.startswith(b"User-Agent: s-nail") for line in lines)


CLIENT_NAMES = list(clients.CLIENTS)


def need_client(name, tls=False):
    if name != "smtplib" and not shutil.which(clients.VERSION_ARGV[name][0]):
        pytest.skip("%s is not installed" % name)
    if name == "swaks" and tls and b"=== TLS supported" not in subprocess.run(
            ["swaks", "--support"], capture_output=True, timeout=20).stdout:
        pytest.skip("swaks has no TLS (install libnet-ssleay-perl)")


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_client_delivers_to_aiosmtpd(aiosmtpd_server, client):
    need_client(client)
    sent = _message_for(client)
    r = clients.CLIENTS[client](aiosmtpd_server.host, aiosmtpd_server.port, SENDER, [RCPT], sent)
    assert r.ok, r
    (meta, stored), = aiosmtpd_server.wait_messages(1)
    assert meta["mail_from"] == SENDER and meta["rcpt_tos"] == [RCPT]
    assert meta["helo"] == clients.EHLO_NAME
    _check_stored(client, stored, sent)


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_client_delivers_to_exim(exim_server, client):
    need_client(client)
    sent = _message_for(client)
    r = clients.CLIENTS[client](exim_server.host, exim_server.port, SENDER, [RCPT], sent)
    assert r.ok, r
    stored, = exim_server.wait_messages(1)
    _check_stored(client, stored, sent)
    log = exim_server.log_text()
    assert "<= %s H=(%s) [127.0.0.1]" % (SENDER, clients.EHLO_NAME) in log
    assert "=> rcpt <%s> R=sink T=maildir_sink" % RCPT in log


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_client_starttls_and_auth_with_aiosmtpd(aiosmtpd_tls_auth, client):
    need_client(client, tls=True)
    sent = _message_for(client)
    r = clients.CLIENTS[client](aiosmtpd_tls_auth.host, aiosmtpd_tls_auth.port, SENDER, [RCPT], sent,
                                tls=True, auth=AUTH)
    assert r.ok, r
    (meta, stored), = aiosmtpd_tls_auth.wait_messages(1)
    assert meta["tls"] is True and meta["auth_login"] == AUTH[0]
    _check_stored(client, stored, sent)


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_client_starttls_and_auth_with_exim(exim_tls_auth, client):
    need_client(client, tls=True)
    sent = _message_for(client)
    r = clients.CLIENTS[client](exim_tls_auth.host, exim_tls_auth.port, SENDER, [RCPT], sent,
                                tls=True, auth=AUTH)
    assert r.ok, r
    stored, = exim_tls_auth.wait_messages(1)
    _check_stored(client, stored, sent)
    assert re.search(r"<= %s .* X=TLS.* A=(plain|login):alice" % SENDER, exim_tls_auth.log_text())


@pytest.mark.parametrize("client", ["msmtp", "smtplib", "curl"])
def test_client_delivers_to_smtp_sink(smtp_sink, client):
    need_client(client)
    r = clients.CLIENTS[client](smtp_sink.host, smtp_sink.port, SENDER, [RCPT], MESSAGE)
    assert r.ok, r
    dump, = smtp_sink.wait_messages(1, contains=b"Last line.")
    assert b"X-Mail-Args: <%s>" % SENDER.encode() in dump
    assert b"X-Rcpt-Args: <%s>" % RCPT.encode() in dump
    # smtp-sink dumps the unstuffed message with LF line ends.
    assert MESSAGE.replace(b"\r\n", b"\n") in dump


def test_exim_bs_speaks_smtp_on_stdio():
    need_server(servers.EXIM)
    need_client("swaks")
    workdir, config, user = servers.prepare_exim()
    try:
        dialogue = (b"EHLO client.smtpkit.test\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                    % (SENDER.encode(), RCPT.encode()) + MESSAGE.replace(b"\r\n.A", b"\r\n..A") + b".\r\nQUIT\r\n")
        p = servers.exim_bs(config, dialogue, user)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(b"220 exim.smtpkit.test ESMTP Exim ")
        assert b"354 " in p.stdout and re.search(rb"250 OK id=\S+\r\n221 ", p.stdout)
        peer = servers.EximPeer("exim-bs", None, 0, b"", workdir)
        assert peer.messages() == [MESSAGE]
        # swaks can drive the same thing through --pipe.
        r = clients.swaks(None, None, SENDER, [RCPT], MESSAGE, pipe=servers.exim_bs_argv(config, user))
        assert r.ok, r
        assert peer.messages() == [MESSAGE, MESSAGE]
    finally:
        servers.Peer("exim-bs", None, 0, b"", workdir).stop()


# --- `smtpkit record` gives back the octets each side sent -------------------

class RawClient:
    """A client we control: remembers every octet sent and received."""

    def __init__(self, port):
        self.sock = socket.create_connection((servers.HOST, port), timeout=10)
        self.sent = b""
        self.received = b""

    def send(self, data):
        self.sock.sendall(data)
        self.sent += data

    def replies(self, n=1, timeout=10):
        """Read until n more final reply lines ("ddd " or "ddd\\r\\n") arrived."""
        deadline = time.monotonic() + timeout
        start = len(self.received)
        while len(re.findall(rb"(?m)^\d{3}(?: [^\n]*)?\r?\n", self.received[start:])) < n:
            assert time.monotonic() < deadline, "no reply: %r" % self.received[start:]
            chunk = self.sock.recv(4096)
            assert chunk, "closed while waiting: %r" % self.received[start:]
            self.received += chunk
        return self.received[start:]

    def read_to_eof(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.sock.recv(4096)
            if not chunk:
                return
            self.received += chunk
        raise AssertionError("server did not close")

    def close(self):
        self.sock.close()


def _check(transcript, client):
    recs = read_transcript(transcript)
    assert side_bytes(recs, CLIENT) == client.sent
    assert side_bytes(recs, SERVER) == client.received
    return recs


def _closes(recs):
    return [r.who for r in recs if r.kind == "directive" and r.name == "close"]


TRICKY_DATA = (b"Subject: octets\r\n\r\n"
               b"trailing space \r\n"
               b"bare LF\nthen\tTAB and back\\slash\r\n"
               b"invalid \xff\xfe, overlong \xc0\x80, fine caf\xc3\xa9\r\n"
               b"..stuffed\r\n"
               b"NUL \x00 and ESC \x1b\r\n"
               b".\r\n")


def test_recorder_gives_back_every_octet_client_closes_mid_line(aiosmtpd_server, record):
    rec = record(aiosmtpd_server)
    c = RawClient(rec.port)
    c.replies()
    c.send(b"EHLO rec.smtpkit.test\r\n")
    c.replies()
    c.send(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n")
    c.replies(2)
    c.send(b"DA")
    c.send(b"TA\r\n")
    c.replies()
    c.send(TRICKY_DATA)
    c.replies()
    c.send(b"NOOP   \r\n")
    c.replies()
    c.send(b"QUIT\r\nRSET")
    c.replies()
    c.sock.shutdown(socket.SHUT_WR)
    c.read_to_eof()
    c.close()
    text, _ = rec.transcript()
    recs = _check(text, c)
    assert "C: NOOP  \\x20\n" in text
    assert "C= RSET\n" in text
    assert "C: invalid \\xff\\xfe, overlong \\xc0\\x80, fine café\n" in text
    assert sorted(_closes(recs)) == [CLIENT, SERVER]
    (meta, stored), = aiosmtpd_server.wait_messages(1)
    assert stored == TRICKY_DATA[:-3].replace(b"\r\n..stuffed", b"\r\n.stuffed")


def test_recorder_server_closes_first(exim_server, record):
    rec = record(exim_server)
    c = RawClient(rec.port)
    c.replies()
    c.send(b"EHLO rec.smtpkit.test\r\n")
    c.replies()
    # PIPELINING: the whole group goes out before any reply.
    c.send(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    c.replies(3)
    c.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    c.replies(2)
    c.read_to_eof()
    c.close()
    text, _ = rec.transcript()
    recs = _check(text, c)
    assert _closes(recs) == [SERVER, CLIENT]
    kinds = [r.who for r in recs if r.kind == "line"]
    i = kinds.index(CLIENT, kinds.index(CLIENT) + 1)      # MAIL, after EHLO
    assert kinds[i:i + 6] == [CLIENT] * 3 + [SERVER] * 3


def test_recorder_client_closes_without_quit(smtp_sink, record):
    rec = record(smtp_sink)
    c = RawClient(rec.port)
    c.replies()
    c.send(b"HELO rec.smtpkit.test\r\n")
    c.replies()
    c.close()
    text, _ = rec.transcript()
    recs = _check(text, c)
    assert _closes(recs)[0] == CLIENT


def test_recorder_stops_at_starttls(aiosmtpd_tls_auth, record):
    rec = record(aiosmtpd_tls_auth, "--tls-passthrough")
    r = clients.python_smtplib(servers.HOST, rec.port, SENDER, [RCPT], MESSAGE, tls=True, auth=AUTH)
    assert r.ok, r
    text, _ = rec.transcript()
    recs = read_transcript(text)
    # smtplib says "ehlo" in lower case.
    assert side_bytes(recs, CLIENT) == b"ehlo client.smtpkit.test\r\nSTARTTLS\r\n"
    assert side_bytes(recs, SERVER).endswith(b"\r\n220 Ready to start TLS\r\n")
    after = text.split("@tls\n", 1)[1]
    assert after.startswith("# TLS: content not recorded")
    assert all(line.startswith("@close ") for line in after.splitlines()[1:])
    assert aiosmtpd_tls_auth.wait_messages(1)


def test_recorder_keeps_recording_when_starttls_is_refused(aiosmtpd_server, record):
    rec = record(aiosmtpd_server)
    c = RawClient(rec.port)
    c.replies()
    c.send(b"EHLO rec.smtpkit.test\r\n")
    c.replies()
    c.send(b"STARTTLS\r\n")
    assert not c.replies().startswith(b"220")
    c.send(b"QUIT\r\n")
    c.replies()
    c.close()
    text, _ = rec.transcript()
    _check(text, c)
    assert "@tls" not in text


# --- the recorded corpus --------------------------------------------------------

CORPUS = sorted(glob.glob(os.path.join(REPO, "corpus", "dialogues", "real-*.smtp")))


def test_corpus_was_recorded():
    assert len(CORPUS) >= 8


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_corpus_file_is_what_the_writer_writes(path):
    # Reading a recorded file and writing its records again gives the file
    # back: it is canonical writer output, and a full SMTP session.
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    recs = read_transcript(text, path)
    w = TranscriptWriter()
    it = iter(recs)
    for line in text.splitlines():
        if line.startswith("#"):
            w.comment(line[2:])
            continue
        r = next(it)
        if r.kind == "directive":
            w.directive(r.name, r.args)
        else:
            w.sent(r.who, r.payload + (b"\r\n" if r.kind == "line" else b""))
    assert w.take() == text
    server = side_bytes(recs, SERVER)
    assert server.startswith(b"220 ")
    assert CLIENT in _closes(recs) or SERVER in _closes(recs)
