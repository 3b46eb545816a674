"""Real SMTP servers from Debian on 127.0.0.1 for tests.

aiosmtpd (python3-aiosmtpd, as a subprocess), exim4 (-bdf daemon with a
private configuration, and `exim -bs` on stdin/stdout), and Postfix's
smtp-sink (unpacked into .deps/postfix, not installed).

Every server gets a fresh work directory under the system temp dir (not
pytest's tmp_path, which the unprivileged exim and smtp-sink users cannot
enter), a port chosen at run time, and is ready once its banner has been
read; stop() ends its whole process group, bounded, then removes the work
directory. Nothing listens anywhere but 127.0.0.1, never on port 25.

Limits: exim runs with -C, so it has no root privilege (as root we start
it as the exim user, Debian-exim); every address is delivered to one
maildir, nothing is ever relayed out. smtp-sink dumps messages with LF
line ends and its own headers, so its copy is not byte-exact.
"""
import glob
import json
import os
import grp
import pwd
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
PYTHON = "/usr/bin/python3"
EXIM = "/usr/sbin/exim4"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
POSTFIX = os.environ.get("SMTPKIT_POSTFIX_ROOT", os.path.join(REPO, ".deps", "postfix"))
SMTP_SINK = os.path.join(POSTFIX, "usr", "sbin", "smtp-sink")
POSTFIX_LIB = os.path.join(POSTFIX, "usr", "lib", "postfix")

# Work directories of every server started by this process (tests look for
# processes still running from them).
started_workdirs = []


class PeerError(RuntimeError):
    pass


def free_port():
    """A port that was free a moment ago (for servers that cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_banner(host, port, timeout=2.0):
    """Connect, read the first reply line, say QUIT; the banner or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            buf = b""
            deadline = time.monotonic() + timeout
            while b"\n" not in buf and time.monotonic() < deadline:
                chunk = s.recv(1024)
                if not chunk:
                    break
                buf += chunk
            if b"\n" in buf:
                try:
                    s.sendall(b"QUIT\r\n")
                    s.recv(1024)
                except OSError:
                    pass
                return buf.split(b"\n", 1)[0].rstrip(b"\r")
    except OSError:
        return None
    return None


def wait_banner(proc, port, expect, timeout=10.0, failed=None):
    """Poll (bounded) until a banner containing `expect` is read on port.
    Returns the banner; raises PeerError if proc exits or `failed()` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PeerError("exited with status %d before answering" % proc.returncode)
        if failed and failed():
            raise PeerError("could not listen on port %d" % port)
        banner = read_banner(HOST, port, timeout=min(1.0, max(0.1, deadline - time.monotonic())))
        if banner is not None:
            if expect.encode() not in banner:
                raise PeerError("port %d answered by someone else: %r" % (port, banner))
            return banner
        time.sleep(0.05)
    raise PeerError("no banner on port %d within %gs" % (port, timeout))


def group_alive(pgid):
    """Pids of the process group that are still running (zombies waiting
    for init to reap them do not count)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            alive.append(int(entry))
    return alive


def stop_process(proc, timeout=5.0):
    """SIGTERM the process group, wait (bounded) for all of it, then SIGKILL
    what is left. Processes are started with start_new_session=True, so the
    group id is the leader's pid."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            continue
        # Children (exim's delivery processes) may outlive the leader briefly.
        if wait_for(lambda: not group_alive(proc.pid), timeout, 0.02):
            return


def make_workdir(name, owner=None):
    path = tempfile.mkdtemp(prefix="smtpkit-peer-%s-" % name)
    os.chmod(path, 0o755)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    started_workdirs.append(path)
    return path


def make_cert(directory, name="localhost"):
    """A self-signed certificate and key (openssl req -x509), for STARTTLS."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=" + name,
         "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % name,
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=30)
    return cert, key


def wait_for(predicate, timeout=10.0, interval=0.05):
    """Poll predicate() (bounded); its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Peer:
    """A running server: host, port, banner, workdir; stop() or `with`."""

    def __init__(self, name, proc, port, banner, workdir, log=None):
        self.name, self.proc, self.port, self.banner = name, proc, port, banner
        self.workdir, self.log = workdir, log
        self.host = HOST

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def stop(self, remove=True):
        stop_process(self.proc)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        if remove and self.workdir and os.path.isdir(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.workdir, "log", "*"))) + ([self.log] if self.log else []):
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    out.append("== %s\n%s" % (path, f.read().decode("utf-8", "replace")))
        return "\n".join(out)


def _spawn(argv, log_path, **kwargs):
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, **kwargs)
    finally:
        log.close()


def _start_with_retries(name, launch, attempts=4):
    """launch() -> Peer or raises PeerError; retried on a lost port race."""
    last = None
    for _ in range(attempts):
        try:
            return launch()
        except PeerError as e:
            last = e
    raise PeerError("%s did not start: %s" % (name, last))


# --- aiosmtpd --------------------------------------------------------------

class AiosmtpdPeer(Peer):
    def messages(self):
        """[(envelope dict, raw message bytes)] in arrival order."""
        out = []
        for eml in sorted(glob.glob(os.path.join(self.workdir, "mail", "*.eml"))):
            with open(eml[:-4] + ".json", encoding="utf-8") as f:
                meta = json.load(f)
            with open(eml, "rb") as f:
                out.append((meta, f.read()))
        return out

    def wait_messages(self, n, timeout=10.0):
        return wait_for(lambda: len(self.messages()) >= n and self.messages(), timeout) or self.messages()


def start_aiosmtpd(tls=False, auth=None, auth_plaintext=False, require_auth=False,
                   hostname="aiosmtpd.smtpkit.test", timeout=15.0):
    """aiosmtpd on a port it picks itself. tls: offer STARTTLS with a fresh
    self-signed certificate; auth: (user, password) for AUTH PLAIN/LOGIN,
    offered only after STARTTLS unless auth_plaintext."""
    workdir = make_workdir("aiosmtpd")
    argv = [PYTHON, os.path.join(HERE, "aiosmtpd_server.py"), "--port", "0", "--hostname", hostname,
            "--maildir", os.path.join(workdir, "mail")]
    if tls:
        cert, key = make_cert(workdir)
        argv += ["--tls-cert", cert, "--tls-key", key]
    if auth:
        argv += ["--auth", "%s:%s" % auth]
        if auth_plaintext:
            argv.append("--auth-plaintext")
        if require_auth:
            argv.append("--require-auth")
    log = os.path.join(workdir, "aiosmtpd.log")
    with open(log, "ab") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
    try:
        port = _read_port_line(proc, timeout)
        banner = wait_banner(proc, port, hostname, timeout)
    except BaseException:
        stop_process(proc)
        with open(log, "rb") as f:
            detail = f.read().decode("utf-8", "replace")[-2000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise PeerError("aiosmtpd did not start:\n" + detail)
    return AiosmtpdPeer("aiosmtpd", proc, port, banner, workdir, log)


def _read_port_line(proc, timeout):
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise PeerError("no port announced within %gs" % timeout)
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                raise PeerError("exited before listening")
            buf += chunk
    line = buf.split(b"\n", 1)[0].decode()
    if not line.startswith("port "):
        raise PeerError("unexpected first line %r" % line)
    return int(line.split()[1])


# --- exim ------------------------------------------------------------------

def exim_run_user():
    """The user exim runs as: as root, the exim user (exim refuses root for
    deliveries, and -C drops privilege anyway); otherwise ourselves."""
    if os.getuid() == 0:
        for name in ("Debian-exim", "exim", "mail"):
            try:
                return pwd.getpwnam(name)
            except KeyError:
                continue
        raise PeerError("no unprivileged user for exim (Debian-exim)")
    return pwd.getpwuid(os.getuid())


def _safe_word(s):
    if not s or not all(c.isalnum() or c in "._-@" for c in s):
        raise ValueError("use letters, digits and ._-@ only: %r" % s)
    return s


def exim_config(workdir, user, tls_files=None, auth=None, extra=""):
    """The private configuration; see README.md for what each part is for."""
    group = grp.getgrgid(user.pw_gid).gr_name
    w = workdir
    lines = [
        "# exim.conf — private test configuration from scripts/tests/peers/servers.py.",
        "# Runs unprivileged (-C), delivers every address to one maildir, no DNS.",
        "keep_environment =",
        "primary_hostname = exim.smtpkit.test",
        "qualify_domain = smtpkit.test",
        "exim_user = " + user.pw_name,
        "exim_group = " + group,
        "spool_directory = %s/spool" % w,
        "log_file_path = %s/log/%%slog" % w,
        "pid_file_path = %s/exim.pid" % w,
        "local_interfaces = <; 127.0.0.1",
        "disable_ipv6 = true",
        "domainlist local_domains = smtpkit.test : example.test : localhost",
        "hostlist relay_from_hosts = <; 127.0.0.1",
        # No reverse lookups, no ident, short DNS timeouts should anything ask.
        "host_lookup =",
        "rfc1413_hosts =",
        "dns_retrans = 1s",
        "dns_retry = 1",
        "smtp_banner = $smtp_active_hostname ESMTP Exim $version_number",
        # No Received: header, so the maildir copy is the DATA byte for byte.
        "received_header_text =",
        "message_size_limit = 10M",
        "accept_8bitmime = true",
        "pipelining_advertise_hosts = *",
        "chunking_advertise_hosts = *",
        "smtputf8_advertise_hosts = *",
        "dsn_advertise_hosts = *",
        "smtp_accept_max = 32",
        "acl_smtp_rcpt = acl_check_rcpt",
    ]
    if tls_files:
        lines += ["tls_advertise_hosts = *", "tls_certificate = " + tls_files[0], "tls_privatekey = " + tls_files[1]]
    else:
        lines.append("tls_advertise_hosts =")
    if auth:
        lines.append("auth_advertise_hosts = *")
    else:
        lines.append("auth_advertise_hosts =")
    lines += [
        "",
        "begin acl",
        "acl_check_rcpt:",
        "  accept domains = +local_domains",
        "  accept hosts = +relay_from_hosts",
        "  deny message = relay not permitted",
        "",
        "begin routers",
        "# Every address, local or not, goes to the sink: nothing leaves.",
        "sink:",
        "  driver = accept",
        "  transport = maildir_sink",
        "",
        "begin transports",
        "maildir_sink:",
        "  driver = appendfile",
        "  directory = %s/mail" % w,
        "  maildir_format",
        "  create_directory",
        "  use_crlf",
        "  delivery_date_add = false",
        "  envelope_to_add = false",
        "  return_path_add = false",
        "  mode = 0644",
        "  user = " + user.pw_name,
        "  group = " + group,
        "",
        "begin retry",
        "*  *  F,1m,1m",
        "",
    ]
    if auth:
        u, p = _safe_word(auth[0]), _safe_word(auth[1])
        lines += [
            "begin authenticators",
            "plain:",
            "  driver = plaintext",
            "  public_name = PLAIN",
            "  server_prompts = :",
            "  server_condition = ${if and {{eq{$auth2}{%s}}{eq{$auth3}{%s}}}}" % (u, p),
            "  server_set_id = $auth2",
            "login:",
            "  driver = plaintext",
            "  public_name = LOGIN",
            "  server_prompts = <| Username: | Password:",
            "  server_condition = ${if and {{eq{$auth1}{%s}}{eq{$auth2}{%s}}}}" % (u, p),
            "  server_set_id = $auth1",
            "",
        ]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


class EximPeer(Peer):
    config = None
    user = None

    def messages(self):
        """Raw stored messages (maildir new/, CRLF), oldest first."""
        files = glob.glob(os.path.join(self.workdir, "mail", "new", "*"))
        out = []
        for path in sorted(files, key=lambda p: (os.stat(p).st_mtime_ns, p)):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, n, timeout=10.0):
        return wait_for(lambda: len(self.messages()) >= n and self.messages(), timeout) or self.messages()


def prepare_exim(tls=False, auth=None, extra=""):
    """Work directory and configuration file; returns (workdir, config, user)."""
    user = exim_run_user()
    workdir = make_workdir("exim", owner=user)
    for sub in ("spool", "log", "mail"):
        os.mkdir(os.path.join(workdir, sub))
        os.chown(os.path.join(workdir, sub), user.pw_uid, user.pw_gid)
    tls_files = None
    if tls:
        tls_files = make_cert(workdir, "exim.smtpkit.test")
        for path in tls_files:
            os.chown(path, user.pw_uid, user.pw_gid)
    config = os.path.join(workdir, "exim.conf")
    with open(config, "w", encoding="utf-8") as f:
        f.write(exim_config(workdir, user, tls_files, auth, extra))
    return workdir, config, user


def _as_user(user):
    if os.getuid() == user.pw_uid:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def exim_bind_failed(workdir, port):
    """Exim's mainlog in `workdir` says it could not bind `port` (it would
    retry every 30 s, ten times; the caller takes another port)."""
    path = os.path.join(workdir, "log", "mainlog")
    if not os.path.exists(path):
        return False
    with open(path, "rb") as f:
        return b"bind() to port %d " % port in f.read()


def start_exim(tls=False, auth=None, extra="", timeout=15.0):
    """exim -bdf (foreground daemon) on 127.0.0.1:<free port>."""
    workdir, config, user = prepare_exim(tls, auth, extra)
    log = os.path.join(workdir, "exim.out")

    def launch():
        port = free_port()
        proc = _spawn([EXIM, "-C", config, "-bdf", "-oX", str(port)], log, cwd=workdir, **_as_user(user))
        try:
            banner = wait_banner(proc, port, "exim.smtpkit.test", timeout,
                                 failed=lambda: exim_bind_failed(workdir, port))
        except PeerError:
            stop_process(proc)
            raise
        peer = EximPeer("exim", proc, port, banner, workdir, log)
        peer.config, peer.user = config, user
        return peer

    try:
        return _start_with_retries("exim", launch)
    except PeerError as e:
        detail = Peer("exim", None, 0, b"", workdir, log).log_text()[-3000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise PeerError("%s\n%s" % (e, detail))


def exim_bs_argv(config, user=None):
    """Command line of `exim -bs` with this configuration, for programs that
    spawn it themselves (swaks --pipe); as root it is wrapped in setpriv so
    exim runs as the same unprivileged user as the daemon."""
    user = user or exim_run_user()
    argv = [EXIM, "-C", config, "-odf", "-bs"]
    if os.getuid() != user.pw_uid:
        argv = ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid, "--clear-groups"] + argv
    return argv


def exim_bs(config, data: bytes, user=None, timeout=20.0):
    """`exim -bs` with the same configuration: SMTP on stdin/stdout. Returns
    the CompletedProcess (stdout: the server's side of the dialogue). With
    -odf exim delivers before it exits, so the maildir is final then."""
    user = user or exim_run_user()
    return subprocess.run([EXIM, "-C", config, "-odf", "-bs"], input=data, capture_output=True, timeout=timeout,
                          cwd=os.path.dirname(config), start_new_session=True, **_as_user(user))


def exim_bs_popen(config, user=None):
    """`exim -bs` as a live process (stdin/stdout pipes) for interactive use;
    stop it with stop_process()."""
    user = user or exim_run_user()
    return subprocess.Popen([EXIM, "-C", config, "-odf", "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=os.path.dirname(config), start_new_session=True,
                            **_as_user(user))


# --- Postfix smtp-sink -----------------------------------------------------

class SmtpSinkPeer(Peer):
    def messages(self):
        """Dump files (smtp-sink's X-* headers, a Received: header, then the
        message with LF line ends), oldest first."""
        files = glob.glob(os.path.join(self.workdir, "dump", "*"))
        out = []
        for path in sorted(files, key=lambda p: (os.stat(p).st_mtime_ns, p)):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, n, contains=b"", timeout=10.0):
        def done():
            m = self.messages()
            return len(m) >= n and all(contains in x for x in m[:n]) and m
        return wait_for(done, timeout) or self.messages()


def start_smtp_sink(hostname="sink.smtpkit.test", options=(), timeout=10.0):
    """smtp-sink on 127.0.0.1:<free port>, dumping each transaction to
    workdir/dump/msg.<hex>; as root it drops to `nobody` (-u)."""
    if not os.access(SMTP_SINK, os.X_OK):
        raise PeerError("smtp-sink not found at %s (run scripts/setup.sh)" % SMTP_SINK)
    owner = pwd.getpwnam("nobody") if os.getuid() == 0 else None
    workdir = make_workdir("smtp-sink", owner=owner)
    dump = os.path.join(workdir, "dump")
    os.mkdir(dump)
    if owner:
        os.chown(dump, owner.pw_uid, owner.pw_gid)
    log = os.path.join(workdir, "smtp-sink.log")
    env = dict(os.environ, LD_LIBRARY_PATH=POSTFIX_LIB)

    def launch():
        port = free_port()
        argv = [SMTP_SINK] + (["-u", "nobody"] if owner else []) + ["-h", hostname, "-d", dump + "/msg."]
        argv += list(options) + ["%s:%d" % (HOST, port), "16"]
        proc = _spawn(argv, log, env=env, cwd=workdir)
        try:
            banner = wait_banner(proc, port, hostname, timeout)
        except PeerError:
            stop_process(proc)
            raise
        return SmtpSinkPeer("smtp-sink", proc, port, banner, workdir, log)

    try:
        return _start_with_retries("smtp-sink", launch)
    except PeerError as e:
        with open(log, "rb") as f:
            detail = f.read().decode("utf-8", "replace")[-2000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise PeerError("%s\n%s" % (e, detail))
