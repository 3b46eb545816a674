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
# Limits: the STARTTLS session is recorded with --tls-passthrough, so after
# STARTTLS it records nothing but closes, as the corpus file always had it.
import argparse
import datetime
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "tests"), os.path.join(HERE, "python")]

from peers import clients, servers  # noqa: E402
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
]


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
    aiosmtpd = subprocess.run([servers.PYTHON, "-c", "import aiosmtpd, sys; print('aiosmtpd %s (Python %s)' % "
                               "(aiosmtpd.__version__, sys.version.split()[0]))"],
                              capture_output=True, timeout=20).stdout.decode().strip()
    exim = clients.version([servers.EXIM, "--version"])
    return {
        "aiosmtpd": aiosmtpd + ", run by scripts/tests/peers/aiosmtpd_server.py",
        "exim": exim + ", exim -bdf with the private configuration of scripts/tests/peers/servers.py",
    }


def client_version(client):
    if client == "smtplib":
        return "Python %s smtplib" % sys.version.split()[0]
    return clients.version(clients.VERSION_ARGV[client])


def start_server(server, variant):
    if server == "exim":
        return servers.start_exim()
    if variant == "auth-plain":
        return servers.start_aiosmtpd(auth=CORPUS_AUTH, auth_plaintext=True)
    if variant == "starttls":
        return servers.start_aiosmtpd(tls=True)
    return servers.start_aiosmtpd()


def record(client, server, variant, note, versions, today):
    name = file_name(client, server, variant)
    header = [
        "%s: %s sending one message to %s, a real session" % (name, client, server),
        "client: " + client_version(client),
        "server: " + versions[server],
        "recorded: %s by scripts/record_corpus.py through smtpkit record" % today,
    ]
    if note:
        header.append("note: " + note)
    sent = message(client, server, variant)
    flags = ["--tls-passthrough"] if variant == "starttls" else []
    with start_server(server, variant) as peer, tempfile.TemporaryDirectory(prefix="smtpkit-record-") as out, \
            Recorder(peer.host, peer.port, out, *flags) as rec:
        result = clients.CLIENTS[client](peer.host, rec.port, SENDER, [RCPT], sent,
                                         tls=variant == "starttls",
                                         auth=CORPUS_AUTH if variant == "auth-plain" else None)
        if not result.ok:
            raise RuntimeError("%s failed: %r" % (client, result))
        text, _ = rec.transcript(timeout=20)
        if not peer.wait_messages(1, timeout=10):
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
