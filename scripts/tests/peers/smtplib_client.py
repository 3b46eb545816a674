#!/usr/bin/python3
"""smtplib_client.py — Python's smtplib used with care: one message to
every recipient, for `smtpkit probe client` (scripts/tests/peers/probe_clients.py).

    smtplib_client.py --host H --port P --message FILE --to A [--to A]...
        [--from A] [--helo NAME] [--cafile PEM] [--tls required|opportunistic]
        [--timeout S]

What "with care" means here, where smtplib.sendmail() would not:
- its own EHLO name; HELO when EHLO is refused with 5yz;
- STARTTLS with an SSL context that trusts --cafile only and checks the
  host name; --tls required (the default) sends nothing in clear when
  STARTTLS is missing or refused; after the handshake EHLO again;
- every reply is judged by its FIRST DIGIT (RFC 5321 §4.2, §4.3.2: a client
  MUST interpret unknown codes by the first digit; sendmail() compares MAIL
  and RCPT replies with 250 exactly), through the low-level putcmd() and
  getreply(), so DATA's 3yz and EHLO's 2yz count too;
- the message goes out with CRLF line ends (bare LF and bare CR become
  CRLF), dot-stuffed, with a final CRLF; lines over 998 octets are refused;
- 8-bit octets go with BODY=8BITMIME when the server offers 8BITMIME, and
  are refused otherwise (no MIME conversion here); a UTF-8 address goes with
  SMTPUTF8 on MAIL when the server offers it, and is refused otherwise
  (RFC 6531 §3.4); SIZE= is declared when SIZE is offered, and a message
  over the limit is not sent;
- recipients refused with 452 (too many recipients, RFC 5321 §4.5.3.1.10)
  are sent in a further transaction of the same session;
- QUIT at the end, after failures too (and after a 421: nothing but QUIT).

Exit status: 0 every recipient got the message; 1 not every one did, or the
server refused, failed or closed, or the message was refused here (8-bit
without 8BITMIME, a UTF-8 address without SMTPUTF8, SIZE, a long line);
2 usage error; 3 TLS policy or certificate failure. One line on stderr
says why.
"""
import argparse
import re
import smtplib
import socket
import ssl
import sys

EHLO_NAME = "client.smtpkit.test"


class Failure(Exception):
    """The message did not reach every recipient; args[0] says why, status the exit code."""

    def __init__(self, why, status=1):
        super().__init__(why)
        self.status = status


def first_digit(code):
    return code // 100 if 100 <= code <= 599 else 0


def command(c, verb, arg=""):
    c.putcmd(verb, arg)
    return c.getreply()


def ehlo(c, name):
    """EHLO; on 2yz the extensions are read (smtplib's ehlo() reads them only after 250 exactly)."""
    code, msg = command(c, "EHLO", name)
    c.ehlo_resp = msg
    c.esmtp_features = {}
    if first_digit(code) != 2:
        return code, msg
    c.does_esmtp = True
    for line in msg.decode("latin-1").split("\n")[1:]:
        m = re.match(r"(?P<key>[A-Za-z0-9][A-Za-z0-9\-]*) ?", line)
        if m:
            c.esmtp_features[m.group("key").lower()] = line[m.end("key"):].strip()
    return code, msg


def greet(c, name):
    code, msg = ehlo(c, name)
    if first_digit(code) == 5:  # EHLO not known: HELO (RFC 5321 §3.2)
        code, msg = command(c, "HELO", name)
        c.esmtp_features, c.does_esmtp = {}, False
    if first_digit(code) != 2:
        raise Failure("EHLO/HELO refused: %d %s" % (code, msg.decode("latin-1")))


def wire_data(message):
    """CRLF line ends, dot-stuffing, a final CRLF, then the end-of-data line."""
    text = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    text = re.sub(rb"(?m)^\.", b"..", text)
    return text + b".\r\n"


def transaction(c, sender, rcpts, data, mail_options):
    """One MAIL/RCPT/DATA transaction; returns (delivered, retry_later, refused)."""
    code, msg = command(c, "MAIL", "FROM:<%s>%s" % (sender, "".join(" " + o for o in mail_options)))
    if first_digit(code) != 2:
        raise Failure("MAIL refused: %d %s" % (code, msg.decode("latin-1")))
    accepted, later, refused = [], [], {}
    for r in rcpts:
        code, msg = command(c, "RCPT", "TO:<%s>" % r)
        if first_digit(code) == 2:
            accepted.append(r)
        elif code == 421:
            raise Failure("RCPT: %d %s" % (code, msg.decode("latin-1")))
        elif code == 452:
            later.append(r)
        else:
            refused[r] = (code, msg)
    if not accepted:
        command(c, "RSET")
        return [], later, refused
    code, msg = command(c, "DATA")
    if first_digit(code) != 3:
        raise Failure("DATA refused: %d %s" % (code, msg.decode("latin-1")))
    c.send(data)
    code, msg = c.getreply()
    if first_digit(code) != 2:
        raise Failure("the message was not accepted: %d %s" % (code, msg.decode("latin-1")))
    return accepted, later, refused


def send(a, message):
    c = smtplib.SMTP(local_hostname=a.helo, timeout=a.timeout)
    try:
        code, msg = c.connect(a.host, a.port)
        if first_digit(code) != 2:
            raise Failure("greeting: %d %s" % (code, msg.decode("latin-1")))
        greet(c, a.helo)
        if a.tls != "none":
            if "starttls" in c.esmtp_features:
                code, msg = command(c, "STARTTLS")
                if first_digit(code) == 2:
                    ctx = ssl.create_default_context(cafile=a.cafile) if a.cafile else ssl.create_default_context()
                    try:
                        # smtplib's starttls() would send STARTTLS itself; this
                        # is its second half: wrap, and drop what was read ahead.
                        c.sock = ctx.wrap_socket(c.sock, server_hostname=a.host)
                    except (ssl.SSLError, ssl.CertificateError) as e:
                        c.sock = None
                        raise Failure("TLS: %s" % e, 3)
                    c.file = None
                    greet(c, a.helo)
                elif a.tls == "required":
                    raise Failure("STARTTLS refused: %d %s" % (code, msg.decode("latin-1")), 3)
            elif a.tls == "required":
                raise Failure("STARTTLS not offered", 3)
        features = c.esmtp_features
        options = []
        if "size" in features:
            limit = features["size"]
            if limit.isdigit() and int(limit) > 0 and len(message) > int(limit):
                raise Failure("the message (%d octets) is over the server's SIZE %s" % (len(message), limit))
            options.append("SIZE=%d" % len(message))
        if re.search(rb"[\x80-\xff]", message):
            if "8bitmime" not in features:
                raise Failure("8-bit message, and the server does not offer 8BITMIME")
            options.append("BODY=8BITMIME")
        if any(not addr.isascii() for addr in [a.sender] + a.to):  # RFC 6531 §3.4
            if "smtputf8" not in features:
                raise Failure("a UTF-8 address, and the server does not offer SMTPUTF8")
            options.append("SMTPUTF8")
            c.command_encoding = "utf-8"
        if any(len(line) > 998 for line in re.split(rb"\r\n|\r|\n", message)):
            raise Failure("a line longer than 998 octets (RFC 5321 §4.5.3.1.6)")
        data = wire_data(message)
        pending, delivered, refused = list(a.to), [], {}
        while pending:
            got, later, no = transaction(c, a.sender, pending, data, options)
            delivered += got
            refused.update(no)
            if not got or not later:  # no progress, or done
                refused.update({r: (452, b"too many recipients") for r in later})
                break
            pending = later
        if refused:
            raise Failure("not delivered to: " + ", ".join(
                "%s (%d %s)" % (r, code, msg.decode("latin-1")) for r, (code, msg) in refused.items()))
        return 0
    finally:
        try:
            if c.sock is not None:
                c.putcmd("QUIT")
                c.getreply()
        except (OSError, smtplib.SMTPException):
            pass
        c.close()


def main():
    p = argparse.ArgumentParser(description="Send one message with smtplib, carefully")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--message", required=True, help="the message file (headers and body)")
    p.add_argument("--from", dest="sender", default="")
    p.add_argument("--to", action="append", required=True)
    p.add_argument("--helo", default=EHLO_NAME)
    p.add_argument("--cafile", help="trust only this CA (PEM)")
    p.add_argument("--tls", choices=("required", "opportunistic", "none"), default="required")
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    with open(a.message, "rb") as f:
        message = f.read()
    try:
        return send(a, message)
    except Failure as e:
        print("smtplib_client: %s" % e, file=sys.stderr)
        return e.status
    except (smtplib.SMTPException, OSError, socket.timeout) as e:
        print("smtplib_client: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
