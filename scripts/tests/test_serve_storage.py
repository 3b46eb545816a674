# test_serve_storage.py — what `smtpkit serve` promises about storage and
# exit status: a message that got 250 is in the Maildir with its envelope
# line in envelopes.jsonl (also when SIGTERM comes right after the 250, or
# while the message is still arriving, in DATA or between BDAT chunks);
# --durable puts message, envelope line and new/ on disk (syncfs, renames,
# fsync of new/) before the 250, one group for the messages of a turn; an
# unwritable Maildir, a port in use and an unusable certificate each give
# one line on stderr and exit 2; --fail-on makes the exit status 1 after a
# client broke a rule of that level.
#
# Limits: the sync order is seen with strace and that test skips without
# it. Running as root, a folder's mode bits do not stop writes, so the
# unwritable Maildir is also made by putting files where folders must be;
# the chmod case runs only as another user.
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

import smtpkit

MESSAGE = b"Subject: stored\r\n\r\nline one\r\n.dotted\r\n"
WIRE = MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\n"  # dot-stuffed, with the end of data


class Client:
    def __init__(self, srv):
        self.sock = socket.create_connection(srv.address, timeout=10)
        self.file = self.sock.makefile("rb")
        self.reply()

    def reply(self):
        while True:
            line = self.file.readline()
            assert line.endswith(b"\r\n"), "connection closed: %r" % line
            if line[3:4] != b"-":
                return line.decode()

    def command(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def start_message(self):
        for cmd, code in [(b"EHLO client.example.test", "250"), (b"MAIL FROM:<a@example.test>", "250"),
                          (b"RCPT TO:<b@example.test>", "250"), (b"DATA", "354")]:
            assert self.command(cmd).startswith(code)

    def close(self):
        self.file.close()
        self.sock.close()


def maildir_files(maildir):
    return {sub: sorted(os.listdir(os.path.join(maildir, sub))) for sub in ("tmp", "new", "cur")}


def journal(maildir):
    """The lines of the Maildir's envelope journal, as JSON."""
    path = os.path.join(maildir, "envelopes.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_a_message_that_got_250_is_stored_with_its_envelope(smtp_server):
    c = Client(smtp_server)
    c.start_message()
    c.sock.sendall(WIRE)
    reply = c.reply()
    assert reply.startswith("250 2.0.0 Ok: queued as ")
    # Checked before anything else happens: no event, no QUIT.
    files = maildir_files(smtp_server.maildir)
    name, = files["new"]
    assert files["tmp"] == [] and files["cur"] == []
    queue_id = reply.split()[-1]
    assert queue_id == name.split(".")[0] + "." + name.split(".")[1]  # the queue id names the file
    with open(os.path.join(smtp_server.maildir, "new", name), "rb") as f:
        assert f.read() == MESSAGE
    line, = journal(smtp_server.maildir)
    assert line["id"] == queue_id and line["file"] == "new/" + name
    envelope = line["envelope"]
    assert envelope["mail_from"] == "a@example.test" and envelope["rcpt_to"] == [
        {"address": "b@example.test", "params": {}}]
    assert envelope["size"] == len(MESSAGE) and envelope["helo"] == "client.example.test"
    c.command(b"QUIT")
    c.close()


@pytest.mark.smtp_allow_findings("client.session.no-quit")
def test_a_message_cut_off_is_not_stored(smtp_server):
    c = Client(smtp_server)
    c.start_message()
    c.sock.sendall(WIRE[:-5])  # no end of data
    c.close()
    session, = smtp_server.wait_for_sessions_closed()
    assert smtp_server.messages == [] and smtp_server.store_errors == []
    assert maildir_files(smtp_server.maildir) == {"tmp": [], "new": [], "cur": []}
    assert journal(smtp_server.maildir) == []
    assert [f.rule for f in session.findings] == ["client.session.no-quit"]


def test_sigterm_right_after_the_250(smtp_server):
    c = Client(smtp_server)
    c.start_message()
    c.sock.sendall(WIRE)
    assert c.reply().startswith("250 ")
    smtp_server.proc.send_signal(signal.SIGTERM)
    assert smtp_server.stop() == 0
    c.close()
    files = maildir_files(smtp_server.maildir)
    name, = files["new"]
    assert files["tmp"] == [] and [line["file"] for line in journal(smtp_server.maildir)] == ["new/" + name]
    with open(os.path.join(smtp_server.maildir, "new", name), "rb") as f:
        assert f.read() == MESSAGE


@pytest.mark.smtp_options(shutdown_grace=5)
def test_sigterm_while_a_message_arrives_lets_it_finish(smtp_server):
    c = Client(smtp_server)
    c.start_message()
    c.sock.sendall(WIRE[:10])
    smtp_server.proc.send_signal(signal.SIGTERM)
    smtp_server.wait_for(lambda s: any(e["event"] == "stopping" for e in s.events), 5, "the 'stopping' event")
    c.sock.sendall(WIRE[10:])
    assert c.reply().startswith("250 ")  # the message in progress is taken...
    assert c.reply().startswith("421 ")  # ...then the server says goodbye
    c.close()
    assert smtp_server.stop() == 0
    m, = smtp_server.messages
    assert m.raw == MESSAGE


@pytest.mark.smtp_options(shutdown_grace=5)
def test_sigterm_between_bdat_chunks_lets_the_transaction_finish(smtp_server):
    # A transaction in progress is one, whichever command carries it (RFC 3030 §2).
    c = Client(smtp_server)
    for cmd, code in [(b"EHLO client.example.test", "250"), (b"MAIL FROM:<a@example.test>", "250"),
                      (b"RCPT TO:<b@example.test>", "250")]:
        assert c.command(cmd).startswith(code)
    c.sock.sendall(b"BDAT 10\r\n" + MESSAGE[:10])
    assert c.reply().startswith("250 2.0.0 10 octets")
    smtp_server.proc.send_signal(signal.SIGTERM)
    smtp_server.wait_for(lambda s: any(e["event"] == "stopping" for e in s.events), 5, "the 'stopping' event")
    time.sleep(1.5)  # past a sweep of the server: the session must still be waited for
    rest = MESSAGE[10:]
    c.sock.sendall(b"BDAT %d LAST\r\n" % len(rest) + rest)
    assert c.reply().startswith("250 2.0.0 Ok: queued as ")
    assert c.reply().startswith("421 ")
    c.close()
    assert smtp_server.stop() == 0
    m, = smtp_server.messages
    assert m.raw == MESSAGE and m.transport == "BDAT"


def _strace_wrapper(tmp_path, log):
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    wrapper = tmp_path / "smtpkit-under-strace"
    # LeakSanitizer cannot run under ptrace: a sanitizer build would fail at exit.
    wrapper.write_text("#!/bin/sh\nASAN_OPTIONS=detect_leaks=0 exec %s -f -qq -y -e trace=fsync,fdatasync,syncfs,sync,"
                       "rename,sendto,sendmsg,write -o %s %s \"$@\"\n" % (strace, log, smtpkit.find_binary()))
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.mark.parametrize("durable", [True, False])
def test_durable_syncs_before_the_250(smtp_server_factory, tmp_path, durable):
    log = tmp_path / "strace.log"
    srv = smtp_server_factory(binary=_strace_wrapper(tmp_path, log), durable=durable)
    c = Client(srv)
    c.start_message()
    c.sock.sendall(WIRE)
    assert c.reply().startswith("250 ")
    c.command(b"QUIT")
    c.close()
    m, = srv.wait_for_messages(1)
    os.kill(srv.info["pid"], signal.SIGTERM)  # the server, not strace
    assert srv.stop() == 0
    calls = log.read_text().splitlines()
    name = os.path.basename(m.path)
    md = srv.maildir
    reply = next(i for i, line in enumerate(calls) if "250 2.0.0 Ok: queued as" in line)
    syncs = [i for i, line in enumerate(calls) if any(" %s(" % f in line for f in ("fsync", "fdatasync", "syncfs", "sync"))]
    renames = [i for i, line in enumerate(calls) if " rename(" in line]
    line = next(i for i, l in enumerate(calls) if " write(" in l and md + "/envelopes.jsonl" in l)
    assert len(renames) == 1 and "/new/" + name in calls[renames[0]] and line < renames[0] < reply
    if not durable:
        assert syncs == []
        return
    # The message's data and its envelope line, then its name in new/, are on disk before the 250.
    syncfs = [i for i in syncs if " syncfs(" in calls[i]]
    new_dir = [i for i in syncs if " fsync(" in calls[i] and "<%s/new>" % md in calls[i]]
    assert len(syncfs) == 1 and line < syncfs[0] < renames[0], calls
    assert len(new_dir) == 1 and renames[0] < new_dir[0] < reply, calls


def serve_setup_error(*args, cwd=None):
    """Run `smtpkit serve` with a setup that must fail: (exit status, stderr lines)."""
    p = subprocess.Popen([smtpkit.find_binary(), "serve", "--listen", "127.0.0.1:0", *args], cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        _, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        pytest.fail("smtpkit serve %s started instead of failing: %r" % (" ".join(args), err))
    return p.returncode, err.decode().splitlines()


def test_unwritable_maildir(tmp_path):
    (tmp_path / "a-file").write_text("")
    rc, err = serve_setup_error("--maildir", str(tmp_path / "a-file" / "maildir"))
    assert rc == 2 and err == ["smtpkit serve: cannot create folder %s: Not a directory" % (tmp_path / "a-file" /
                                                                                             "maildir")]
    for sub in ("tmp", "new"):  # a file where the Maildir needs a folder
        md = tmp_path / ("md-" + sub)
        md.mkdir()
        (md / sub).write_text("")
        rc, err = serve_setup_error("--maildir", str(md))
        assert rc == 2 and len(err) == 1, err
        assert err[0].startswith("smtpkit serve: cannot ") and err[0].endswith("Not a directory"), err
    md = tmp_path / "md-journal"  # a folder where the envelope journal goes
    (md / "envelopes.jsonl").mkdir(parents=True)
    rc, err = serve_setup_error("--maildir", str(md))
    assert rc == 2 and err == ["smtpkit serve: cannot write to maildir %s/envelopes.jsonl: Is a directory" % md], err
    if os.geteuid() != 0:
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o500)
        rc, err = serve_setup_error("--maildir", str(ro / "maildir"))
        assert rc == 2 and len(err) == 1 and "Permission denied" in err[0]


def test_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = subprocess.run([smtpkit.find_binary(), "serve", "--listen", "127.0.0.1:%d" % port, "--maildir",
                            str(tmp_path / "md")], capture_output=True, timeout=15)
    assert p.returncode == 2
    assert p.stderr.decode().splitlines() == ["smtpkit serve: cannot listen on 127.0.0.1:%d: Address already in use"
                                              % port]


def test_unusable_certificate(tmp_path):
    md = str(tmp_path / "md")
    rc, err = serve_setup_error("--maildir", md, "--tls-cert", "/nonexistent/cert.pem", "--tls-key",
                                "/nonexistent/key.pem")
    assert rc == 2 and err == ["smtpkit serve: cannot read /nonexistent/cert.pem"]
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    rc, err = serve_setup_error("--maildir", md, "--tls-cert", str(garbage), "--tls-key", str(garbage))
    assert rc == 2 and len(err) == 1 and err[0].startswith("smtpkit serve: cannot use certificate %s: " % garbage)
    rc, err = serve_setup_error("--maildir", md, "--tls-cert", str(garbage))
    assert rc == 2 and err == ["smtpkit serve: --tls-cert and --tls-key go together"]


@pytest.mark.smtp_allow_findings()
@pytest.mark.parametrize("fail_on,rude,status", [
    ("must", True, 1),       # MAIL before EHLO: a MUST
    ("must", False, 0),
    ("should", True, 1),
])
def test_fail_on_sets_the_exit_status(smtp_server_factory, fail_on, rude, status):
    srv = smtp_server_factory(fail_on=fail_on)
    c = Client(srv)
    if rude:
        assert c.command(b"MAIL FROM:<a@example.test>").startswith("503 ")
    else:
        assert c.command(b"EHLO client.example.test").startswith("250 ")
    c.command(b"QUIT")
    c.close()
    srv.wait_for_sessions_closed()
    assert srv.stop() == status
    assert srv.stopped_info["findings"]["MUST"] == (1 if rude else 0)


def test_fail_on_should_counts_a_should_but_must_does_not(smtp_server_factory):
    # After STARTTLS the client says NOOP before EHLO: RFC 3207 §4.2 says
    # the first command in TLS SHOULD be EHLO. No MUST is broken.
    import ssl

    for fail_on, status in (("must", 0), ("should", 1)):
        srv = smtp_server_factory(fail_on=fail_on)
        c = Client(srv)
        c.command(b"EHLO client.example.test")
        assert c.command(b"STARTTLS").startswith("220 ")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        c.file = c.sock.makefile("rb")
        c.command(b"NOOP")
        c.command(b"EHLO client.example.test")
        c.command(b"QUIT")
        c.close()
        srv.wait_for_sessions_closed()
        levels = sorted({f.level for f in srv.findings})
        assert levels == ["SHOULD"], [str(f) for f in srv.findings]
        assert srv.stop() == status


def test_without_maildir_mail_goes_to_a_fresh_temporary_folder(tmp_path):
    """No --maildir: not the working folder, but a new folder under $TMPDIR, named at start."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    folders = []
    for _ in range(2):
        proc = subprocess.Popen([smtpkit.find_binary(), "serve", "--listen", "127.0.0.1:0"], cwd=cwd, env=env,
                                stderr=subprocess.PIPE, text=True)
        try:
            port = maildir = None
            while port is None:
                line = proc.stderr.readline()
                assert line, "serve ended before listening"
                if "storing messages in " in line:
                    maildir = line.split("storing messages in ", 1)[1].strip()
                if "listening on 127.0.0.1:" in line:
                    port = int(line.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                f = s.makefile("rb")
                f.readline()
                for cmd in [b"HELO client.example.test", b"MAIL FROM:<a@example.test>", b"RCPT TO:<b@example.test>", b"DATA"]:
                    s.sendall(cmd + b"\r\n")
                    f.readline()
                s.sendall(WIRE)
                assert f.readline().startswith(b"250")
                s.sendall(b"QUIT\r\n")
                f.readline()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=20)
        assert maildir and os.path.dirname(maildir) == str(tmp)
        assert len(os.listdir(os.path.join(maildir, "new"))) == 1, "the message is kept after exit"
        folders.append(maildir)
    assert folders[0] != folders[1], "each start has a folder of its own"
    assert os.listdir(cwd) == [], "nothing is written where serve was started"
