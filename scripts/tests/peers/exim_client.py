#!/usr/bin/python3
"""exim_client.py — Exim (Debian's exim4) as an SMTP client: one message
handed to exim on its standard input and delivered at once through its smtp
transport to 127.0.0.1:PORT, for `smtpkit probe client`
(scripts/tests/peers/probe_clients.py).

    exim_client.py --port P --message FILE --from A [--ca PEM] [--helo NAME]
        [--tls opportunistic|required] -- RCPT...

Each run gets a private configuration in a fresh temp dir (spool, log;
owned by the exim user, which exim drops to with -C) whose router sends
every address of example.test (the probe's recipients) to 127.0.0.1 on
PORT (manualroute, `self = send`, the transport's `allow_localhost`), and
throws bounces away (a bounce would go to the probe's server too). Nothing
else is changed from exim's defaults, so exim talks as it would to a
smarthost: PIPELINING, CHUNKING (BDAT) and 8BITMIME used when offered,
STARTTLS whenever the server offers it. TLS as a careful admin sets it:
tls_verify_certificates = --ca with tls_verify_hosts = * (a certificate
that does not verify, or names another host, ends the attempt) and
tls_tempfail_tryclear = false (never retried in clear after a TLS failure);
--tls required adds hosts_require_tls = *.

exim runs as `exim -C CONF -odi -oi -f FROM -- RCPT...`: -odi delivers
before exim exits, -oi keeps a lone "." line as text. (A message submitted
on the command line has no BODY= of its own, so exim never says
BODY=8BITMIME for it; its -B8BITMIME is accepted and ignored.) exim's exit
status says only whether it accepted the message, so the outcome is read
from its main log: exit 0 when every recipient has a "=>" (delivered) line;
1 when one was deferred or failed (the log lines are printed); 2 usage
error or exim could not run.
"""
import argparse
import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

EXIM = "/usr/sbin/exim4"
EHLO_NAME = "client.smtpkit.test"


def exim_user():
    for name in ("Debian-exim", "exim", "mail"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return pwd.getpwuid(os.getuid())


def config(workdir, user, port, ca, helo, tls):
    group = grp.getgrgid(user.pw_gid).gr_name
    lines = [
        "# exim.conf — exim as a client, from scripts/tests/peers/exim_client.py",
        "keep_environment =",
        "primary_hostname = %s" % helo,
        "qualify_domain = example.test",
        "exim_user = " + user.pw_name,
        "exim_group = " + group,
        "spool_directory = %s/spool" % workdir,
        "log_file_path = %s/log/%%slog" % workdir,
        "pid_file_path = %s/exim.pid" % workdir,
        "log_selector = +smtp_confirmation +tls_peerdn +tls_certificate_verified",
        "host_lookup =",
        "rfc1413_hosts =",
        "tls_advertise_hosts =",
        "disable_ipv6 = true",
        "",
        "begin routers",
        "",
        "discard_bounces:",
        "  driver = redirect",
        "  senders = :",
        "  data = :blackhole:",
        "",
        "probe:",
        "  driver = manualroute",
        "  domains = example.test",
        "  route_list = * 127.0.0.1",
        "  self = send",
        "  transport = probe_smtp",
        "  no_more",
        "",
        "begin transports",
        "",
        "probe_smtp:",
        "  driver = smtp",
        "  port = %d" % port,
        "  helo_data = %s" % helo,
        "  allow_localhost",
        "  tls_tempfail_tryclear = false",
    ]
    if ca:
        lines += ["  tls_verify_certificates = " + ca, "  tls_verify_hosts = *", "  tls_verify_cert_hostnames = *"]
    if tls == "required":
        lines.append("  hosts_require_tls = *")
    lines += ["", "begin retry", "", "* * F,1h,10m", ""]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description="Deliver one message with exim's smtp transport to 127.0.0.1:PORT")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--message", required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--ca", help="the CA the server's certificate must verify against")
    p.add_argument("--helo", default=EHLO_NAME)
    p.add_argument("--tls", choices=("opportunistic", "required"), default="opportunistic")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (its path on stderr)")
    p.add_argument("rcpt", nargs="+")
    a = p.parse_args()
    if not os.access(EXIM, os.X_OK):
        print("exim_client: %s is not installed" % EXIM, file=sys.stderr)
        return 2
    with open(a.message, "rb") as f:
        message = f.read()
    user = exim_user()
    workdir = tempfile.mkdtemp(prefix="smtpkit-exim-client-")
    try:
        os.chmod(workdir, 0o755)
        for sub in ("spool", "log"):
            os.mkdir(os.path.join(workdir, sub))
            os.chown(os.path.join(workdir, sub), user.pw_uid, user.pw_gid)
        ca = None
        if a.ca:  # readable by the exim user, wherever the probe keeps it
            ca = os.path.join(workdir, "ca.pem")
            shutil.copyfile(a.ca, ca)
            os.chmod(ca, 0o644)
        conf = os.path.join(workdir, "exim.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(config(workdir, user, a.port, ca, a.helo, a.tls))
        argv = [EXIM, "-C", conf, "-odi", "-oi", "-f", a.sender, "--"] + a.rcpt
        try:
            run = subprocess.run(argv, input=message, capture_output=True, timeout=a.timeout, cwd=workdir)
        except subprocess.TimeoutExpired:
            print("exim_client: exim did not finish in %gs" % a.timeout, file=sys.stderr)
            return 1
        sys.stderr.write(run.stderr.decode("utf-8", "replace"))
        try:
            with open(os.path.join(workdir, "log", "mainlog"), encoding="utf-8", errors="replace") as f:
                log = f.read()
        except OSError:
            log = ""
        for name in ("paniclog", "rejectlog"):
            path = os.path.join(workdir, "log", name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    sys.stderr.write(f.read())
        if run.returncode != 0 and not log:
            print("exim_client: exim exited %d and logged nothing" % run.returncode, file=sys.stderr)
            return 2
        delivered = {m.group(1).lower() for m in re.finditer(r" [=-]> (\S+)", log)}
        missing = [r for r in a.rcpt if r.lower() not in delivered]
        if missing:
            sys.stderr.write(log)
            print("exim_client: not delivered to %s" % ", ".join(missing), file=sys.stderr)
            return 1
        sys.stdout.write(log)
        return 0
    finally:
        if a.keep:
            print("exim_client: kept %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
