#!/usr/bin/python3
# scripts/record_corpus.py — record real SMTP sessions for the corpus: each
# real client (curl, swaks, msmtp, s-nail, Python's smtplib) sends one small
# message to each real server (aiosmtpd, exim) through `smtpkit record`,
# and each session is written as
# corpus/dialogues/real-<client>-<server>[-variant].smtp with a header
# saying who spoke, in which versions, and when.
#
#   /usr/bin/python3 scripts/record_corpus.py [--out DIR] [NAME...]
#
# The message has a fixed Date: and Message-ID:, every client a fixed EHLO
# name, and every session a fresh server, so re-recording gives a reviewable
# diff; what still varies is what the servers make up (exim's queue ids)
# and which side's close the proxy sees first. The proxy's own first comment
# (session id, client and server ports) is left out for the same reason.
# Needs the built smtpkit (SMTPKIT_BIN, else build/default/cli/smtpkit).
# Limits: real-smtplib-aiosmtpd-starttls is recorded with --tls-passthrough,
# so after STARTTLS it records nothing but closes, as the corpus file always
# had it; the other STARTTLS sessions are recorded inside TLS (smtpkit
# record terminates TLS on both legs; the clients do not check the
# certificate). Sessions that send no message (VRFY, EXPN, HELP), and those
# with Postfix's smtpd (its discard transport stores nothing), are not
# checked against a stored message.
import argparse
import datetime
import os
import smtplib
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "tests"), os.path.join(HERE, "python")]

from peers import clients, postfix, servers  # noqa: E402
from peers.dialogue import CLIENT, SERVER, read_transcript, side_bytes  # noqa: E402
from peers.record import Recorder  # noqa: E402

REPO = os.path.dirname(HERE)
SENDER, RCPT = "sender@example.test", "rcpt@example.test"
CORPUS_AUTH = ("smtpkit", "corpus-password")

# (client, server, variant, note)
SESSIONS = [
    ("curl", "aiosmtpd", "", ""),
    ("curl", "exim", "", ""),
    ("curl", "exim", "lf", "the message file has LF line ends: curl sends them as they are (bare LF, "
                           "C= records), stuffs only dots that follow CRLF, and adds CRLF before the final dot"),
    ("swaks", "aiosmtpd", "", ""),
    ("swaks", "exim", "", ""),
    ("msmtp", "aiosmtpd", "", ""),
    ("msmtp", "exim", "", "exim offers PIPELINING and msmtp uses it: RCPT and DATA go out before their replies"),
    ("s-nail", "aiosmtpd", "", "s-nail says HELO and adds Date: (from SOURCE_DATE_EPOCH) and User-Agent:"),
    ("s-nail", "exim", "", "s-nail says HELO and adds Date: (from SOURCE_DATE_EPOCH) and User-Agent:"),
    ("smtplib", "aiosmtpd", "", "smtplib writes verbs and MAIL parameters in lower case (ehlo, mail FROM:, size=, rcpt TO:, data)"),
    ("smtplib", "exim", "", "smtplib writes verbs and MAIL parameters in lower case (ehlo, mail FROM:, size=, rcpt TO:, data)"),
    ("smtplib", "aiosmtpd", "auth-plain", "AUTH PLAIN in the clear (aiosmtpd --auth-plaintext), "
                                          "test credentials %s/%s" % CORPUS_AUTH),
    ("smtplib", "aiosmtpd", "starttls", "STARTTLS with a self-signed certificate; the rest is ciphertext"),
    # Recorded for the audit of the rule catalogue: one feature each.
    ("curl", "aiosmtpd", "vrfy", "curl with --mail-rcpt and nothing to upload says VRFY with the address as it is"),
    ("curl", "exim", "expn", "curl -X EXPN: EXPN with a list name"),
    ("curl", "exim", "help", "curl with no recipient and nothing to upload says HELP"),
    ("smtplib", "aiosmtpd", "vrfy-expn-help", "smtplib's verify(), expn() and help(), then a message"),
    ("smtplib", "exim", "vrfy-expn-help", "smtplib's verify(), expn() and help(), then a message"),
    ("smtplib", "postfix", "vrfy", "smtplib's verify() and help() against Postfix's smtpd"),
    ("smtplib", "smtpkit", "helo-fallback", "smtpkit serve with a script that answers EHLO 502: smtplib falls back "
                                            "to HELO (RFC 5321 §3.2); the 502 is the script's deliberate deviation"),
    ("swaks", "smtpkit", "helo-fallback", "smtpkit serve with a script that answers EHLO 502: swaks falls back to HELO"),
    ("curl", "smtpkit", "helo-fallback", "smtpkit serve with a script that answers EHLO 502: curl falls back to HELO"),
    ("swaks", "exim", "auth-login", "AUTH LOGIN in the clear (the test exim offers AUTH without TLS)"),
    ("swaks", "exim", "auth-cram-md5", "AUTH CRAM-MD5 (an exim cram_md5 authenticator added for the session)"),
    ("swaks", "aiosmtpd", "auth-login", "AUTH LOGIN in the clear (aiosmtpd --auth-plaintext)"),
    ("curl", "exim", "starttls", "STARTTLS, recorded inside TLS"),
    ("swaks", "exim", "starttls", "STARTTLS, recorded inside TLS"),
    ("msmtp", "exim", "starttls", "STARTTLS, recorded inside TLS"),
    ("s-nail", "exim", "starttls", "STARTTLS, recorded inside TLS; s-nail says EHLO when it needs STARTTLS"),
    ("smtplib", "exim", "starttls-auth", "STARTTLS, then AUTH PLAIN inside TLS, recorded inside TLS"),
    ("swaks", "exim", "pipelining", "swaks --pipeline: MAIL, RCPT and DATA in one group (exim offers PIPELINING)"),
    ("smtplib", "exim", "bdat", "exim offers CHUNKING; smtplib sends the message in two BDAT chunks by hand"),
    ("smtplib", "postfix", "bdat", "Postfix offers CHUNKING; smtplib sends BDAT ... LAST by hand"),
    ("curl", "postfix", "", "Postfix smtpd under its own master"),
    ("msmtp", "postfix", "", "Postfix offers PIPELINING and msmtp uses it"),
    ("swaks", "postfix", "pipelining", "swaks --pipeline against Postfix"),
    ("smtplib", "postfix", "starttls", "STARTTLS with Postfix, recorded inside TLS"),
    ("swaks", "smtp-sink", "", "Postfix's smtp-sink test server"),
    ("curl", "smtp-sink", "", "Postfix's smtp-sink test server"),
]

# Clients' own dialogues for sessions that are not "send one message".
EHLO_502 = "@rule {re:[Ee][Hh][Ll][Oo]} {*}\nS: 502 5.5.1 EHLO not implemented here\n@end\n"


def _smtplib_session(host, port, tls=False, **_):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return smtplib.SMTP(host, port, local_hostname=clients.EHLO_NAME, timeout=20), ctx


def smtplib_vrfy_expn_help(host, port, sender, rcpts, message, send=True):
    try:
        c, _ = _smtplib_session(host, port)
        with c:
            c.ehlo()
            c.verify(rcpts[0])
            c.expn("staff")
            c.help()
            c.noop()
            refused = c.sendmail(sender, list(rcpts), message) if send else {}
        return clients.Result(0 if not refused else 1, repr(refused).encode(), b"", ["smtplib"])
    except (smtplib.SMTPException, OSError) as e:
        return clients.Result(1, b"", repr(e).encode(), ["smtplib"])


def smtplib_vrfy_help(host, port, sender, rcpts, message):
    try:
        c, _ = _smtplib_session(host, port)
        with c:
            c.ehlo()
            c.verify(rcpts[0])
            c.help()
        return clients.Result(0, b"", b"", ["smtplib"])
    except (smtplib.SMTPException, OSError) as e:
        return clients.Result(1, b"", repr(e).encode(), ["smtplib"])


def smtplib_bdat(host, port, sender, rcpts, message, chunks=2):
    """BDAT by hand: smtplib has no CHUNKING support, but docmd() and send()
    put the octets on the wire as RFC 3030 §2 wants them."""
    try:
        c, _ = _smtplib_session(host, port)
        with c:
            c.ehlo()
            if not c.has_extn("chunking"):
                return clients.Result(1, b"", b"no CHUNKING", ["smtplib"])
            c.mail(sender)
            for r in rcpts:
                c.rcpt(r)
            cut = len(message) // 2 if chunks == 2 else len(message)
            for i, part in enumerate([message[:cut], message[cut:]] if chunks == 2 else [message]):
                last = i == chunks - 1
                c.send(b"BDAT %d%s\r\n" % (len(part), b" LAST" if last else b"") + part)
                code, _ = c.getreply()
                if code != 250:
                    return clients.Result(1, b"", b"BDAT %d" % code, ["smtplib"])
        return clients.Result(0, b"", b"", ["smtplib"])
    except (smtplib.SMTPException, OSError) as e:
        return clients.Result(1, b"", repr(e).encode(), ["smtplib"])


def curl_verb(host, port, rcpts, request=None, timeout=20):
    argv = ["curl", "-sS", "--max-time", str(timeout), "smtp://%s:%d/%s" % (host, port, clients.EHLO_NAME)]
    for r in rcpts:
        argv += ["--mail-rcpt", r]
    if request:
        argv += ["-X", request]
    p = subprocess.run(argv, capture_output=True, timeout=timeout + 5)
    # VRFY and EXPN may be refused (252, 550): curl then exits non-zero, and
    # the session is what the corpus wants all the same.
    return clients.Result(0, p.stdout, p.stderr, argv)


def client_call(client, server, variant):
    """How the client is run for this session: f(host, port, sender, rcpts, message)."""
    if variant == "vrfy" and client == "curl":
        return lambda h, p, s, r, m: curl_verb(h, p, ["bob@example.test"])
    if variant == "expn":
        return lambda h, p, s, r, m: curl_verb(h, p, ["staff"], "EXPN")
    if variant == "help":
        return lambda h, p, s, r, m: curl_verb(h, p, [])
    if variant == "vrfy-expn-help":
        return smtplib_vrfy_expn_help
    if variant == "vrfy":
        return smtplib_vrfy_help
    if variant == "bdat":
        return lambda h, p, s, r, m: smtplib_bdat(h, p, s, r, m, chunks=2 if server == "exim" else 1)
    fn = clients.CLIENTS[client]
    kw = {}
    if "starttls" in variant:
        kw["tls"] = True
    if variant in ("auth-plain", "starttls-auth"):
        kw["auth"] = CORPUS_AUTH
    if variant in ("auth-login", "auth-cram-md5"):
        kw["auth"] = CORPUS_AUTH
        kw["auth_type"] = "LOGIN" if variant == "auth-login" else "CRAM-MD5"
    if variant == "pipelining":
        kw["pipeline"] = True
    return lambda h, p, s, r, m: fn(h, p, s, r, m, **kw)


def sends_message(server, variant):
    """Whether the server must have stored a message: not for the sessions
    that send none, nor Postfix (discard), nor smtpkit serve (not checked)."""
    return server not in ("postfix", "smtpkit") and variant not in ("vrfy", "expn", "help")


def file_name(client, server, variant):
    return "real-%s-%s%s.smtp" % (client, server, "-" + variant if variant else "")


def message(client, server, variant):
    name = file_name(client, server, variant)[:-5]
    headers = [
        "From: Sender <%s>" % SENDER,
        "To: Recipient <%s>" % RCPT,
        "Subject: smtpkit corpus: %s to %s" % (client, server),
        "Date: Thu, 01 Jan 2026 00:00:00 +0000",
        "Message-ID: <%s@client.smtpkit.test>" % name,
    ]
    if client == "s-nail":
        headers = [h for h in headers if not h.startswith("Date:")]  # s-nail writes its own
    body = [
        "This message was sent by %s to %s through the smtpkit recorder." % (client, server),
        ".This line starts with a dot, so the client must stuff it.",
        "Last line.",
    ]
    eol = "\n" if variant == "lf" else "\r\n"
    return (eol.join(headers) + eol + eol + eol.join(body) + eol).encode()


def server_versions():
    pf = postfix.POSTFIX_CMD
    env = dict(os.environ, LD_LIBRARY_PATH=servers.POSTFIX_LIB)
    postconf = os.path.join(os.path.dirname(pf), "postconf")
    pf_version = subprocess.run([postconf, "-d", "mail_version"], capture_output=True, env=env,
                                timeout=20).stdout.decode().strip().replace("mail_version = ", "")
    aiosmtpd = subprocess.run([servers.PYTHON, "-c", "import aiosmtpd, sys; print('aiosmtpd %s (Python %s)' % "
                               "(aiosmtpd.__version__, sys.version.split()[0]))"],
                              capture_output=True, timeout=20).stdout.decode().strip()
    exim = clients.version([servers.EXIM, "--version"])
    return {
        "aiosmtpd": aiosmtpd + ", run by scripts/tests/peers/aiosmtpd_server.py",
        "exim": exim + ", exim -bdf with the private configuration of scripts/tests/peers/servers.py",
        "postfix": "Postfix %s smtpd under its own master (scripts/tests/peers/postfix.py)" % pf_version,
        "smtp-sink": "Postfix %s smtp-sink (scripts/tests/peers/servers.py)" % pf_version,
        "smtpkit": "smtpkit serve with a script (scripts/record_corpus.py, EHLO_502)",
    }


def client_version(client):
    if client == "smtplib":
        return "Python %s smtplib" % sys.version.split()[0]
    return clients.version(clients.VERSION_ARGV[client])


CRAM_AUTHENTICATOR = """
cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = ${if eq{$auth1}{%s}{%s}fail}
  server_set_id = $auth1
""" % CORPUS_AUTH


class ServePeer:
    """smtpkit serve with the EHLO-refusing script, as a peer."""

    def __init__(self):
        from smtpkit.server import MockServer
        self.server = MockServer(EHLO_502)
        self.server.start()
        self.host, self.port = self.server.host, self.server.port
        self.address = "%s:%d" % (self.host, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def wait_messages(self, n, timeout=10):
        return True


def start_server(server, variant):
    if server == "smtpkit":
        return ServePeer()
    if server == "postfix":
        return postfix.start_postfix(tls="starttls" in variant)
    if server == "smtp-sink":
        return servers.start_smtp_sink()
    if server == "exim":
        auth = CORPUS_AUTH if "auth" in variant else None
        extra = CRAM_AUTHENTICATOR if variant == "auth-cram-md5" else ""
        return servers.start_exim(tls="starttls" in variant, auth=auth, extra=extra)
    if variant == "auth-login":
        return servers.start_aiosmtpd(auth=CORPUS_AUTH, auth_plaintext=True)
    if variant == "auth-plain":
        return servers.start_aiosmtpd(auth=CORPUS_AUTH, auth_plaintext=True)
    if variant == "starttls":
        return servers.start_aiosmtpd(tls=True)
    return servers.start_aiosmtpd()


def record(client, server, variant, note, versions, today):
    name = file_name(client, server, variant)
    header = [
        ("%s: %s sending one message to %s, a real session" if sends_message(server, variant) or variant == "bdat"
         else "%s: %s talking to %s, a real session") % (name, client, server),
        "client: " + client_version(client),
        "server: " + versions[server],
        "recorded: %s by scripts/record_corpus.py through smtpkit record" % today,
    ]
    if note:
        header.append("note: " + note)
    sent = message(client, server, variant)
    passthrough = variant == "starttls" and server == "aiosmtpd" and client == "smtplib"
    flags = ["--tls-passthrough"] if passthrough else []
    with start_server(server, variant) as peer, tempfile.TemporaryDirectory(prefix="smtpkit-record-") as out, \
            Recorder(peer.host, peer.port, out, *flags) as rec:
        result = client_call(client, server, variant)(peer.host, rec.port, SENDER, [RCPT], sent)
        if not result.ok:
            raise RuntimeError("%s failed: %r" % (client, result))
        text, _ = rec.transcript(timeout=20)
        if sends_message(server, variant) and not peer.wait_messages(1, timeout=10):
            raise RuntimeError("%s: the server stored nothing" % name)
        if rec.stop() != 0:
            raise RuntimeError("%s: smtpkit record failed: %s" % (name, rec.proc.stderr.read().decode()))
    text = "\n".join(line for line in text.split("\n") if not line.startswith("# smtpkit record: "))
    recs = read_transcript(text, name)
    if not side_bytes(recs, SERVER).startswith(b"220 ") or not side_bytes(recs, CLIENT):
        raise RuntimeError("%s: not a session:\n%s" % (name, text))
    return name, "".join("# %s\n" % h for h in header) + text


def main():
    p = argparse.ArgumentParser(description="Record real SMTP sessions into the corpus.")
    p.add_argument("--out", default=os.path.join(REPO, "corpus", "dialogues"))
    p.add_argument("names", nargs="*", help="only these files (e.g. real-curl-exim.smtp)")
    args = p.parse_args()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else \
        datetime.datetime.now(datetime.timezone.utc)
    today = now.date().isoformat()
    versions = server_versions()
    os.makedirs(args.out, exist_ok=True)
    failed = 0
    for client, server, variant, note in SESSIONS:
        name = file_name(client, server, variant)
        if args.names and name not in args.names:
            continue
        try:
            name, text = record(client, server, variant, note, versions, today)
        except (RuntimeError, servers.PeerError, TimeoutError) as e:
            print("record_corpus: %s: %s" % (name, e), file=sys.stderr)
            failed += 1
            continue
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print("record_corpus: wrote %s" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
