#!/usr/bin/env python3
"""planted_client.py -- an SMTP client with planted bugs, the ground truth
for `smtpkit fuzz client` (test_fuzz_client.py).

    planted_client.py HOST PORT [--bugs all|none|NAME,NAME...]

Sends one message (EHLO, MAIL, RCPT, DATA, QUIT) and reads replies the
RFC 5321 way (§4.2.1: lines until one whose fourth octet is a space), except
where a planted bug says otherwise:

  code-crash     a reply code outside 200-599 makes it die by SIGSEGV
                 (a table indexed by the first digit, in C terms);
  long-hang      a reply line longer than 2000 octets makes it stop, reading
                 nothing and sending nothing, for ever;
  data-on-2xx    any 2xx or 3xx reply to DATA is taken as the go-ahead: mail
                 data without a 354 (RFC 5321 §3.3);
  ehlo-abort     an EHLO reply of more than 150 lines makes it abort
                 (SIGABRT), as a fixed-size keyword table would.

Each bug is reached only through a reply a well-behaved server never sends,
so the clean client (--bugs none) meets none of them. A bug that fires says
so on stderr first ("planted: NAME"), which is how the tests tell which bug
a finding is; the fuzzer never reads it.
"""
import os
import signal
import socket
import sys
import time

BUGS = ("code-crash", "long-hang", "data-on-2xx", "ehlo-abort")


def fired(name):
    sys.stderr.write("planted: %s\n" % name)
    sys.stderr.flush()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    bugs = set(BUGS)
    if "--bugs" in sys.argv:
        spec = sys.argv[sys.argv.index("--bugs") + 1]
        bugs = set() if spec == "none" else set(BUGS) if spec == "all" else set(spec.split(","))
    sock = socket.create_connection((host, port), timeout=30)
    buf = b""

    def reply():
        nonlocal buf
        lines = []
        while True:
            while b"\r\n" not in buf:
                if "long-hang" in bugs and len(buf) > 2000:
                    fired("long-hang")
                    while True:
                        time.sleep(60)
                chunk = sock.recv(65536)
                if not chunk:
                    sys.exit("planted_client: connection closed")
                buf += chunk
            line, buf = buf.split(b"\r\n", 1)
            if "long-hang" in bugs and len(line) > 2000:
                fired("long-hang")
                while True:
                    time.sleep(60)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                break
        code = lines[-1][:3]
        if not code.isdigit():
            sys.exit("planted_client: not a reply: %r" % lines[-1][:40])
        if "code-crash" in bugs and not 200 <= int(code) <= 599:
            fired("code-crash")
            os.kill(os.getpid(), signal.SIGSEGV)
        return int(code), lines

    def cmd(text):
        sock.sendall(text.encode() + b"\r\n")
        return reply()

    code, _ = reply()
    if code != 220:
        sys.exit("planted_client: greeting %d" % code)
    code, lines = cmd("EHLO client.example")
    if "ehlo-abort" in bugs and len(lines) > 150:
        fired("ehlo-abort")
        os.abort()
    if code != 250:
        sys.exit("planted_client: EHLO %d" % code)
    for line in ("MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>"):
        code, _ = cmd(line)
        if code // 100 != 2:
            cmd("QUIT")
            sys.exit("planted_client: %s refused" % line.split()[0])
    code, _ = cmd("DATA")
    go = code // 100 in (2, 3) if "data-on-2xx" in bugs else code == 354
    if go and code != 354:
        fired("data-on-2xx")
    if not go:
        cmd("QUIT")
        sys.exit("planted_client: DATA refused")
    sock.sendall(b"Subject: planted\r\n\r\nhello\r\n.\r\n")
    code, _ = reply()
    cmd("QUIT")
    sock.close()
    sys.exit(0 if code == 250 else 1)


if __name__ == "__main__":
    main()
