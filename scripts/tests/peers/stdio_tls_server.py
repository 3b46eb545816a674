"""A tiny SMTP server on stdin/stdout that can do STARTTLS over its pipes.

STARTTLS (RFC 3207) over its two pipes is for testing that the client
driver's --exec targets support TLS (exim -bs answers STARTTLS with 220
but never completes the handshake on pipes, so it cannot show this).

  stdio_tls_server.py CERT KEY

Greeting, EHLO (STARTTLS until TLS is active), STARTTLS, NOOP, QUIT;
anything else 500. TLS runs through ssl.MemoryBIO: octets from stdin go
in, octets for stdout come out. Standard library only; exits at EOF,
after QUIT, or after 30 s without input.
"""
import os
import select
import ssl
import sys


def main():
    cert, key = sys.argv[1], sys.argv[2]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    fin, fout = sys.stdin.fileno(), sys.stdout.fileno()
    tls = None
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    plain = b""

    def read_raw():
        r, _, _ = select.select([fin], [], [], 30)
        if not r:
            sys.exit(0)
        data = os.read(fin, 65536)
        if not data:
            sys.exit(0)
        return data

    def flush_tls():
        data = out.read()
        if data:
            os.write(fout, data)

    def send(text):
        data = text.encode() + b"\r\n"
        if tls is None:
            os.write(fout, data)
        else:
            tls.write(data)
            flush_tls()

    def line():
        nonlocal plain
        while b"\r\n" not in plain:
            if tls is None:
                plain += read_raw()
                continue
            try:
                plain += tls.read(65536)
            except ssl.SSLWantReadError:
                inc.write(read_raw())
            except ssl.SSLZeroReturnError:
                sys.exit(0)
        got, plain = plain.split(b"\r\n", 1)
        return got.decode("utf-8", "replace")

    send("220 stdio.smtpkit.test ESMTP ready")
    while True:
        cmd = line()
        verb = cmd.split(" ", 1)[0].upper()
        if verb == "EHLO":
            send("250-stdio.smtpkit.test" if tls is None else "250 stdio.smtpkit.test")
            if tls is None:
                send("250 STARTTLS")
        elif verb == "STARTTLS" and tls is None:
            send("220 go ahead")
            plain = b""  # RFC 3207 §4.2: nothing sent before the handshake counts
            tls = ctx.wrap_bio(inc, out, server_side=True)
            while True:
                try:
                    tls.do_handshake()
                    flush_tls()
                    break
                except ssl.SSLWantReadError:
                    flush_tls()
                    inc.write(read_raw())
        elif verb == "NOOP":
            send("250 ok")
        elif verb == "QUIT":
            send("221 bye")
            return
        else:
            send("500 unknown command")


if __name__ == "__main__":
    main()
