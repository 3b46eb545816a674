"""Send one message to HOST:PORT with each real client.

The clients are curl, swaks, msmtp and s-nail from Debian, and Python's
smtplib. Every helper takes the message as bytes, fixes the EHLO/HELO
name where the client allows it, returns a Result (exit status, stdout,
stderr) and is bounded by `timeout` seconds.

Limits and known client habits (see README.md):
- curl sends the file as is: LF line ends go out as bare LF, and only
  lines after CRLF are dot-stuffed; it adds CRLF before the final ".".
- swaks ends DATA with CRLF "." CRLF after the data; the helper drops one
  final line end so the server stores exactly `message` (swaks itself
  would add an empty line).
- s-nail (-t) adds its own Date: (SOURCE_DATE_EPOCH fixes it) and
  User-Agent: headers, says HELO unless it needs an extension, takes the
  envelope sender from its `from` variable, and reads LF text only.
- msmtp and smtplib turn LF into CRLF and dot-stuff; smtplib writes its
  verbs and MAIL parameters in lower case ("ehlo", "mail FROM:", "size=").
TLS is STARTTLS without certificate checks (self-signed test servers).
"""
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile

EHLO_NAME = "client.smtpkit.test"
# 2026-01-01T00:00:00Z: the Date s-nail writes.
FIXED_EPOCH = "1767225600"


class Result:
    def __init__(self, returncode, stdout=b"", stderr=b"", argv=None):
        self.returncode, self.stdout, self.stderr, self.argv = returncode, stdout, stderr, argv

    @property
    def ok(self):
        return self.returncode == 0

    def __repr__(self):
        return "Result(rc=%r, stderr=%r)" % (self.returncode, self.stderr[-400:])


class _Scratch:
    """A temp dir for one client run (config files, the message file, HOME)."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="smtpkit-client-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def _run(argv, timeout, stdin=b"", env=None, cwd=None):
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, env=env, cwd=cwd)
        return Result(p.returncode, p.stdout, p.stderr, argv)
    except subprocess.TimeoutExpired as e:
        return Result(None, e.stdout or b"", (e.stderr or b"") + b"\n(timed out)", argv)


def _write(directory, name, data, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def _base_env(home):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    env.update(HOME=home, TZ="UTC")
    return env


def version(argv):
    """First line of a client's --version (for corpus headers)."""
    try:
        p = subprocess.run(argv, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (p.stdout or p.stderr).decode("utf-8", "replace").strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "unknown"


def curl(host, port, mail_from, rcpts, message, tls=False, auth=None, ehlo=EHLO_NAME, timeout=20):
    with _Scratch() as d:
        path = _write(d, "message.eml", message)
        argv = ["curl", "-sS", "--max-time", str(timeout), "smtp://%s:%d/%s" % (host, port, ehlo),
                "--mail-from", mail_from, "-T", path]
        for r in rcpts:
            argv += ["--mail-rcpt", r]
        if tls:
            argv += ["--ssl-reqd", "-k"]
        if auth:
            argv += ["--user", "%s:%s" % auth, "--login-options", "AUTH=PLAIN"]
        return _run(argv, timeout + 5, env=_base_env(d))


def swaks(host, port, mail_from, rcpts, message, tls=False, auth=None, pipeline=False, pipe=None,
          ehlo=EHLO_NAME, timeout=20, auth_type="PLAIN", extra=()):
    """message: bytes, or None for swaks' own message (it writes a fresh
    Date:, Message-Id:, X-Mailer: and "Subject: test DATE"; --header in
    extra replaces one). pipe: a command line (list) swaks talks SMTP to
    over stdin/stdout instead of the network (e.g. exim -bs); host/port are
    then ignored. auth_type: the SASL mechanism for auth (PLAIN, LOGIN,
    CRAM-MD5); extra: more swaks arguments, appended as given."""
    with _Scratch() as d:
        argv = ["swaks", "--from", mail_from, "--to", ",".join(rcpts), "--helo", ehlo,
                "--timeout", str(timeout), "--hide-all"]
        if message is not None:
            data = message[:-2] if message.endswith(b"\r\n") else message[:-1] if message.endswith(b"\n") else message
            argv += ["--data", "@" + _write(d, "message.eml", data)]
        argv += ["--pipe", " ".join(pipe)] if pipe else ["--server", "%s:%d" % (host, port)]
        if tls:
            argv.append("--tls")
        if auth:
            argv += ["--auth", auth_type, "--auth-user", auth[0], "--auth-password", auth[1]]
        if pipeline:
            argv.append("--pipeline")
        return _run(argv + list(extra), timeout + 5, env=_base_env(d))


def msmtp(host, port, mail_from, rcpts, message, tls=False, auth=None, ehlo=EHLO_NAME, timeout=20):
    with _Scratch() as d:
        conf = [
            "defaults",
            "timeout %d" % timeout,
            "logfile %s/msmtp.log" % d,
            "account test",
            "host %s" % host,
            "port %d" % port,
            "from %s" % mail_from,
            "domain %s" % ehlo,
            "tls %s" % ("on" if tls else "off"),
        ]
        if tls:
            conf += ["tls_starttls on", "tls_certcheck off"]
        if auth:
            conf += ["auth plain", "user %s" % auth[0], "password %s" % auth[1]]
        else:
            conf.append("auth off")
        path = _write(d, "msmtprc", ("\n".join(conf) + "\n").encode())
        argv = ["msmtp", "-C", path, "-a", "test", "--"] + list(rcpts)
        return _run(argv, timeout + 5, stdin=message, env=_base_env(d))


def s_nail(host, port, mail_from, rcpts, message, tls=False, auth=None, ehlo=EHLO_NAME, timeout=20,
           fixed_date=True, attach=()):
    """message: headers and body; recipients come from To:/Cc: (-t) plus
    rcpts. s-nail -t reads its input as LF text (a CR before LF would end up
    in the header values), so CRLF is turned into LF first; s-nail writes
    CRLF on the wire itself. fixed_date: its Date: from FIXED_EPOCH (else
    the time now); attach: (name, bytes) files it attaches, which makes the
    message multipart with a boundary of its own choosing."""
    message = message.replace(b"\r\n", b"\n")
    with _Scratch() as d:
        url = "smtp://%s%s:%d" % ("%s:%s@" % auth if auth else "", host, port)
        argv = ["s-nail", "-:/", "-S", "v15-compat", "-S", "nosave", "-S", "DEAD=%s/dead.letter" % d,
                "-S", "from=" + mail_from, "-S", "hostname=" + ehlo, "-S", "mta=" + url,
                "-S", "smtp-auth=%s" % ("plain" if auth else "none"), "-S", "sendcharsets=utf-8"]
        if tls:
            argv += ["-S", "smtp-use-starttls", "-S", "tls-verify=ignore"]
        for name, content in attach:
            argv += ["-a", _write(d, name, content)]
        argv += ["-t"] + list(rcpts)
        env = _base_env(d)
        if fixed_date:
            env["SOURCE_DATE_EPOCH"] = FIXED_EPOCH
        return _run(argv, timeout + 5, stdin=message, env=env)


def python_smtplib(host, port, mail_from, rcpts, message, tls=False, auth=None, ehlo=EHLO_NAME, timeout=20):
    """smtplib.SMTP.sendmail; auth uses AUTH PLAIN (in the clear unless tls)."""
    try:
        with smtplib.SMTP(host, port, local_hostname=ehlo, timeout=timeout) as c:
            if tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                c.starttls(context=ctx)
            if auth:
                # auth() neither says EHLO first nor fails on the 503 that
                # follows: smtplib counts 503 as "already authenticated".
                c.ehlo_or_helo_if_needed()
                c.user, c.password = auth
                c.auth("PLAIN", c.auth_plain)
            refused = c.sendmail(mail_from, list(rcpts), message)
        return Result(0 if not refused else 1, repr(refused).encode(), b"", ["smtplib"])
    except (smtplib.SMTPException, OSError) as e:
        return Result(1, b"", repr(e).encode(), ["smtplib"])


CLIENTS = {
    "curl": curl,
    "swaks": swaks,
    "msmtp": msmtp,
    "s-nail": s_nail,
    "smtplib": python_smtplib,
}

VERSION_ARGV = {
    "curl": ["curl", "--version"],
    "swaks": ["swaks", "--version"],
    "msmtp": ["msmtp", "--version"],
    "s-nail": ["s-nail", "-V"],
}
