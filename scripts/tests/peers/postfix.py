"""Postfix's real smtpd, run by its own master(8).

From the package unpacked into .deps/postfix (scripts/setup.sh; Postfix
conflicts with exim4, so it is not installed), with a private
configuration directory and queue on 127.0.0.1:<free port>. Never port
25.

How, since nothing of Postfix is installed:
  * main.cf points command_directory, daemon_directory, meta_directory
    and shlib_directory into .deps/postfix, and hands master's children
    LD_LIBRARY_PATH through import_environment (the libpostfix-*.so live
    in .deps/postfix/usr/lib/postfix);
  * there is no "postfix" user: mail_owner is nobody, setgid_group is mail
    (it must differ from nobody's group), default_privs is daemon (it
    must differ from mail_owner); as root only — master needs root;
  * `postfix check` makes the queue directories, `postfix start-fg` runs
    master in the foreground as our child (master puts itself in its own
    process group, so stop() asks `postfix stop` first, then ends master's
    group by the pid in its pid file);
  * master.cf lists one smtpd on 127.0.0.1:PORT and the daemons the queue
    needs; every address goes to the discard(8) transport: nothing is
    stored, nothing leaves the machine;
  * TLS (smtpd_tls_security_level = may) with a fresh self-signed
    certificate when tls=True. No SASL: Debian's Postfix uses Cyrus SASL
    or Dovecot for AUTH, neither of which is here, so AUTH is not offered.
Limits: root only; postfix-script warns that .deps files are not owned by
the setgid group (harmless: postdrop/postqueue are not used).
"""
import os
import pwd
import shutil
import signal
import subprocess
import time

from . import servers

POSTFIX_ROOT = servers.POSTFIX
POSTFIX_CMD = os.path.join(POSTFIX_ROOT, "usr", "sbin", "postfix")
POSTFIX_LIB = servers.POSTFIX_LIB
MASTER = os.path.join(POSTFIX_LIB, "sbin", "master")

MASTER_CF = """\
# master.cf — private test instance from scripts/tests/peers/postfix.py.
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
tlsmgr    unix  - - n 1000 1 tlsmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -    - proxymap
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def available():
    return os.getuid() == 0 and os.access(POSTFIX_CMD, os.X_OK) and os.access(MASTER, os.X_OK)


def version():
    env = dict(os.environ, LD_LIBRARY_PATH=POSTFIX_LIB)
    p = subprocess.run([os.path.join(POSTFIX_ROOT, "usr", "sbin", "postconf"), "-d", "-h", "mail_version"],
                       capture_output=True, env=env, timeout=10)
    return p.stdout.decode().strip()


def main_cf(workdir, tls_files):
    r = POSTFIX_ROOT
    lines = [
        "# main.cf — private test instance from scripts/tests/peers/postfix.py.",
        "compatibility_level = 3.6",
        "mail_owner = nobody",
        "setgid_group = mail",
        "default_privs = daemon",
        "queue_directory = %s/queue" % workdir,
        "data_directory = %s/data" % workdir,
        "command_directory = %s/usr/sbin" % r,
        "daemon_directory = %s/usr/lib/postfix/sbin" % r,
        "meta_directory = %s/etc/postfix" % r,
        "shlib_directory = %s/usr/lib/postfix" % r,
        "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=%s" % POSTFIX_LIB,
        "maillog_file = %s/maillog" % workdir,
        "maillog_file_prefixes = %s" % os.path.dirname(workdir),
        "myhostname = postfix.smtpkit.test",
        "mydomain = smtpkit.test",
        "myorigin = smtpkit.test",
        "mydestination = smtpkit.test, example.test, localhost",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        "mynetworks = 127.0.0.0/8",
        "smtpd_banner = $myhostname ESMTP Postfix",
        "biff = no",
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
        # No DNS at all: nothing is routed, every address is discarded.
        "disable_dns_lookups = yes",
        "smtp_host_lookup = native",
        "default_transport = discard",
        "local_transport = discard",
        "relay_transport = discard",
        "virtual_transport = discard",
    ]
    if tls_files:
        lines += ["smtpd_tls_cert_file = %s" % tls_files[0], "smtpd_tls_key_file = %s" % tls_files[1],
                  "smtpd_tls_security_level = may"]
    return "\n".join(lines) + "\n"


class PostfixPeer(servers.Peer):
    config_dir = None

    def master_pid(self):
        try:
            with open(os.path.join(self.workdir, "queue", "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, remove=True):
        pid = self.master_pid()
        env = dict(os.environ, LD_LIBRARY_PATH=POSTFIX_LIB)
        if self.proc is not None and self.config_dir:
            try:
                subprocess.run([POSTFIX_CMD, "-c", self.config_dir, "stop"], capture_output=True, env=env, timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if pid:
            # master's own process group: its daemons go with it.
            if not servers.wait_for(lambda: not servers.group_alive(pid), 5.0, 0.05):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                servers.wait_for(lambda: not servers.group_alive(pid), 5.0, 0.05)
        super().stop(remove)


def start_postfix(tls=False, timeout=20.0):
    """Postfix smtpd under its own master on 127.0.0.1:<free port>."""
    if not available():
        raise servers.PeerError("Postfix needs root and %s (run scripts/setup.sh)" % POSTFIX_CMD)
    workdir = servers.make_workdir("postfix")
    etc, queue, data = (os.path.join(workdir, d) for d in ("etc", "queue", "data"))
    for d in (etc, queue, data):
        os.mkdir(d)
    nobody = pwd.getpwnam("nobody")
    os.chown(data, nobody.pw_uid, nobody.pw_gid)
    tls_files = servers.make_cert(workdir, "postfix.smtpkit.test") if tls else None
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write(main_cf(workdir, tls_files))
    env = dict(os.environ, LD_LIBRARY_PATH=POSTFIX_LIB)
    log = os.path.join(workdir, "postfix.out")

    def launch():
        port = servers.free_port()
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=port))
        # Makes the queue directories (owned by mail_owner) before master starts.
        subprocess.run([POSTFIX_CMD, "-c", etc, "check"], capture_output=True, env=env, timeout=30)
        proc = servers._spawn([POSTFIX_CMD, "-c", etc, "start-fg"], log, env=env, cwd=workdir)
        peer = PostfixPeer("postfix", proc, port, b"", workdir, os.path.join(workdir, "maillog"))
        peer.config_dir = etc
        try:
            peer.banner = servers.wait_banner(proc, port, "postfix.smtpkit.test", timeout)
        except servers.PeerError:
            peer.stop(remove=False)
            raise
        return peer

    try:
        return servers._start_with_retries("postfix", launch)
    except servers.PeerError as e:
        detail = ""
        for path in (log, os.path.join(workdir, "maillog")):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    detail += f.read().decode("utf-8", "replace")[-2000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise servers.PeerError("%s\n%s" % (e, detail))
