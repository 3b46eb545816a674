"""aiosmtpd (python3-aiosmtpd) as a real SMTP server in its own process.

For peers/servers.py. Run with /usr/bin/python3:

  aiosmtpd_server.py --maildir DIR [--port 0] [--hostname H]
                     [--tls-cert F --tls-key F] [--auth USER:PASS]
                     [--auth-plaintext] [--require-auth]

Binds 127.0.0.1 only; prints "port N" on stdout once listening. Every
message is stored as DIR/NNNN.eml (the DATA content after dot-unstuffing,
byte for byte as aiosmtpd hands it over) with DIR/NNNN.json beside it
(envelope and AUTH login); the .eml appears last, by rename. SIGTERM or
SIGINT stops it. AUTH offers aiosmtpd's built-in PLAIN and LOGIN; without
--auth-plaintext aiosmtpd offers AUTH only after STARTTLS.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class StoreHandler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.seq)
        base = os.path.join(self.maildir, "%04d" % n)
        login = session.auth_data.login.decode("utf-8", "replace") if isinstance(session.auth_data, LoginPassword) else None
        meta = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "helo": session.host_name,
            "tls": session.ssl is not None,
            "auth_login": login,
        }
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK stored as %04d" % n


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode() and auth_data.password == password.encode())
        # handled=False: aiosmtpd then answers a failure itself (535); with
        # its default (True) it would answer nothing and the client hangs.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def serve(args):
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs["authenticator"] = make_authenticator(user, password)
        kwargs["auth_require_tls"] = not args.auth_plaintext
        kwargs["auth_required"] = args.require_auth
    handler = StoreHandler(args.maildir)
    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(handler, hostname=args.hostname, tls_context=tls, enable_SMTPUTF8=True,
                    decode_data=False, timeout=30, loop=loop, **kwargs)

    server = await loop.create_server(factory, host="127.0.0.1", port=args.port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    server.close()
    await asyncio.wait_for(server.wait_closed(), 5)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--hostname", default="aiosmtpd.smtpkit.test")
    p.add_argument("--maildir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth", help="USER:PASS accepted by AUTH PLAIN and LOGIN")
    p.add_argument("--auth-plaintext", action="store_true", help="offer AUTH without TLS")
    p.add_argument("--require-auth", action="store_true")
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
