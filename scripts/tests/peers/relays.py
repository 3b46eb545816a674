"""Debian's Exim and Postfix as relays under test, on 127.0.0.1.

Each relay listens on 127.0.0.1:<free port>, takes mail from 127.0.0.1
without AUTH for recipients in one test domain (default sink.test), and
relays every message for that domain, bounces included, over plain SMTP to
a next hop 127.0.0.1:SINK_PORT that the caller runs. Nothing else is
accepted or routed anywhere; no DNS lookups.

    with relays.start_exim_relay(sink.port) as relay:    # or start_postfix_relay
        smtplib.SMTP(relay.host, relay.port).sendmail("a@sink.test", ["b@sink.test"], msg)

What differs from each program's compiled-in defaults is routing, retry
timing, logging and the 127.0.0.1-only restrictions; everything else
(Received: lines, 8BITMIME, DSN, PIPELINING, CHUNKING, hop limits, bounce
format) is theirs.

  * Exim (exim4 -bdf -q5s -oX PORT, private configuration with -C, run as
    the exim user like servers.start_exim): RCPT is accepted only from
    127.0.0.1 and only for the domain; senders are not verified. A
    manualroute router sends the domain to 127.0.0.1 (self = send), an smtp
    transport with port = SINK_PORT, allow_localhost and
    hosts_avoid_tls = *. Retry rule `* * F,10m,5s` and a queue runner
    every 5 s: a 4xx is retried after 5-10 s, and bounced after 10 min of
    4xx (retry timeout exceeded). A 5xx makes exim's usual
    bounce (errors go to the sender), which takes the same route when the
    sender is in the domain. Any other address is unrouteable (a bounce to
    a sender outside the domain is frozen on the spool). No inbound TLS
    (tls_advertise_hosts empty). Logs: WORKDIR/log/mainlog (+ paniclog,
    rejectlog).
  * Postfix (.deps/postfix under its own master, as postfix.start_postfix;
    root only): relay_domains = domain, transport_maps sends it to
    smtp:[127.0.0.1]:SINK_PORT; mydestination is empty, and the default,
    relay, local and virtual transports are error(8), so nothing else is
    delivered anywhere. smtpd accepts clients in mynetworks (127.0.0.0/8)
    only, and RCPT only for the domain (reject_unauth_destination). No DNS
    (smtp_dns_support_level = disabled, smtp_host_lookup = native), no TLS
    (smtp_tls_security_level = none, no smtpd certificate). Retries:
    queue_run_delay = 2s, minimal_backoff_time = 5s, maximal_backoff_time
    = 10s, so a 4xx is retried after 5-7 s (the next ones 10 s apart).
    A 5xx makes a bounce from the bounce(8) service (multipart/report) to
    the sender; a bounce to a sender outside the domain fails in error(8)
    and is dropped (notify_classes has no 2bounce by default).
    Log: WORKDIR/maillog (maillog_file through postlogd).

stop() ends every process of the relay (bounded) and removes its work
directory; log_text() returns the logs (also useful before stop()).
"""
import grp
import os
import pwd
import shutil
import subprocess

from . import postfix, servers

HOST = servers.HOST
DEFAULT_DOMAIN = "sink.test"

# A 4xx is retried this often (seconds), by both relays.
EXIM_QUEUE_INTERVAL = "5s"
EXIM_RETRY_RULE = "*  *  F,10m,5s"


def _check_args(sink_port, domain, hostname):
    if not isinstance(sink_port, int) or not 0 < sink_port < 65536:
        raise ValueError("sink_port must be a port number: %r" % (sink_port,))
    for name in (domain, hostname):
        if not name or not all(c.isalnum() or c in ".-" for c in name) or name.startswith((".", "-")):
            raise ValueError("not a plain domain name: %r" % (name,))
    if domain.lower() == hostname.lower():
        raise ValueError("the relay's hostname must not be the relayed domain")


def _tail(paths, limit=3000):
    out = ""
    for path in paths:
        if path and os.path.isfile(path):
            with open(path, "rb") as f:
                out += "== %s\n%s\n" % (path, f.read().decode("utf-8", "replace")[-limit:])
    return out


# --- Exim ------------------------------------------------------------------

def exim_available():
    """exim4 is installed and there is a user to run it as."""
    if not os.access(servers.EXIM, os.X_OK):
        return False
    try:
        servers.exim_run_user()
    except servers.PeerError:
        return False
    return True


def exim_relay_config(workdir, user, sink_port, domain, hostname):
    """The private configuration of the Exim relay (see the module docstring)."""
    group = grp.getgrgid(user.pw_gid).gr_name
    w = workdir
    return "\n".join([
        "# exim.conf — Exim as a relay under test, from scripts/tests/peers/relays.py.",
        "# Accepts %s from 127.0.0.1 and relays it to 127.0.0.1:%d; nothing else." % (domain, sink_port),
        "keep_environment =",
        "primary_hostname = " + hostname,
        "exim_user = " + user.pw_name,
        "exim_group = " + group,
        "spool_directory = %s/spool" % w,
        "log_file_path = %s/log/%%slog" % w,
        "pid_file_path = %s/exim.pid" % w,
        "log_selector = +smtp_confirmation +received_recipients",
        "local_interfaces = <; 127.0.0.1",
        "disable_ipv6 = true",
        "domainlist relay_to_domains = " + domain,
        "hostlist relay_from_hosts = <; 127.0.0.1",
        # No reverse lookups of clients, no ident queries.
        "host_lookup =",
        "rfc1413_hosts =",
        # Plain SMTP in: no (self-signed) STARTTLS.
        "tls_advertise_hosts =",
        "acl_smtp_rcpt = acl_check_rcpt",
        "",
        "begin acl",
        "",
        "acl_check_rcpt:",
        "  accept hosts = +relay_from_hosts",
        "         domains = +relay_to_domains",
        "  deny   message = relay not permitted",
        "",
        "begin routers",
        "",
        "# The relayed domain goes to the sink; any other address is unrouteable.",
        "to_sink:",
        "  driver = manualroute",
        "  domains = +relay_to_domains",
        "  route_list = * 127.0.0.1",
        "  self = send",
        "  transport = sink_smtp",
        "  no_more",
        "",
        "begin transports",
        "",
        "sink_smtp:",
        "  driver = smtp",
        "  port = %d" % sink_port,
        "  allow_localhost",
        "  hosts_avoid_tls = *",
        "",
        "begin retry",
        "",
        EXIM_RETRY_RULE,
        "",
    ])


class EximRelay(servers.Peer):
    config = None
    user = None
    sink_port = None
    domain = None

    def mainlog(self):
        path = os.path.join(self.workdir, "log", "mainlog")
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def start_exim_relay(sink_port, domain=DEFAULT_DOMAIN, hostname="relay-exim.test", timeout=20.0):
    """exim4 -bdf -q5s as a relay on 127.0.0.1:<free port> for `domain`,
    next hop 127.0.0.1:sink_port. Returns an EximRelay (a servers.Peer)."""
    _check_args(sink_port, domain, hostname)
    if not os.access(servers.EXIM, os.X_OK):
        raise servers.PeerError("%s is not installed" % servers.EXIM)
    user = servers.exim_run_user()
    workdir = servers.make_workdir("exim-relay", owner=user)
    for sub in ("spool", "log"):
        os.mkdir(os.path.join(workdir, sub))
        os.chown(os.path.join(workdir, sub), user.pw_uid, user.pw_gid)
    config = os.path.join(workdir, "exim.conf")
    with open(config, "w", encoding="utf-8") as f:
        f.write(exim_relay_config(workdir, user, sink_port, domain, hostname))
    log = os.path.join(workdir, "exim.out")
    as_user = servers._as_user(user)

    def launch():
        port = servers.free_port()
        argv = [servers.EXIM, "-C", config, "-bdf", "-q" + EXIM_QUEUE_INTERVAL, "-oX", str(port)]
        proc = servers._spawn(argv, log, cwd=workdir, **as_user)
        try:
            banner = servers.wait_banner(proc, port, hostname, timeout,
                                         failed=lambda: servers.exim_bind_failed(workdir, port))
        except servers.PeerError:
            servers.stop_process(proc)
            raise
        peer = EximRelay("exim-relay", proc, port, banner, workdir, log)
        peer.config, peer.user, peer.sink_port, peer.domain = config, user, sink_port, domain
        return peer

    try:
        return servers._start_with_retries("exim relay", launch)
    except servers.PeerError as e:
        logdir = os.path.join(workdir, "log")
        detail = _tail([log] + [os.path.join(logdir, n) for n in ("mainlog", "paniclog")])
        shutil.rmtree(workdir, ignore_errors=True)
        raise servers.PeerError("%s\n%s" % (e, detail))


# --- Postfix ---------------------------------------------------------------

def postfix_available():
    """Root, and Postfix unpacked in .deps/postfix (scripts/setup.sh)."""
    return postfix.available()


# Settings of postfix.main_cf() that the relay replaces (identity and routing).
_REPLACED = {"myhostname", "mydomain", "myorigin", "mydestination", "default_transport", "local_transport",
             "relay_transport", "virtual_transport"}

# The master.cf of postfix.py plus the smtp(8) client.
RELAY_MASTER_CF = postfix.MASTER_CF + "smtp      unix  - - n -    - smtp\n"


def postfix_relay_main_cf(workdir, sink_port, domain, hostname):
    """main.cf: the directories, users and logging of postfix.main_cf(), with
    the routing replaced by a relay of `domain` to 127.0.0.1:sink_port."""
    base = [line for line in postfix.main_cf(workdir, None).splitlines()
            if line.startswith("#") or line.split("=", 1)[0].strip() not in _REPLACED]
    base[0] = "# main.cf — Postfix as a relay under test, from scripts/tests/peers/relays.py."
    nowhere = "error:5.1.2 only %s is relayed here" % domain
    return "\n".join(base + [
        "myhostname = " + hostname,
        "mydomain = " + hostname,
        "myorigin = $myhostname",
        # No local delivery at all: the only destination is the relayed domain.
        "mydestination =",
        "relay_domains = " + domain,
        "transport_maps = inline:{ %s=smtp:[%s]:%d }" % (domain, HOST, sink_port),
        "default_transport = " + nowhere,
        "relay_transport = " + nowhere,
        "local_transport = " + nowhere,
        "virtual_transport = " + nowhere,
        # Clients from 127.0.0.0/8 only; RCPT only for relay_domains.
        "smtpd_client_restrictions = permit_mynetworks, reject",
        "smtpd_relay_restrictions = reject_unauth_destination",
        # No DNS, no TLS on the way out.
        "smtp_dns_support_level = disabled",
        "smtp_tls_security_level = none",
        # A deferred message is tried again within seconds.
        "queue_run_delay = 2s",
        "minimal_backoff_time = 5s",
        "maximal_backoff_time = 10s",
    ]) + "\n"


class PostfixRelay(postfix.PostfixPeer):
    sink_port = None
    domain = None

    def maillog(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def start_postfix_relay(sink_port, domain=DEFAULT_DOMAIN, hostname="relay-postfix.test", timeout=30.0):
    """Postfix (master, smtpd, qmgr, smtp, bounce, ...) as a relay on
    127.0.0.1:<free port> for `domain`, next hop 127.0.0.1:sink_port.
    Root only. Returns a PostfixRelay (a postfix.PostfixPeer)."""
    _check_args(sink_port, domain, hostname)
    if not postfix_available():
        raise servers.PeerError("Postfix needs root and %s (run scripts/setup.sh)" % postfix.POSTFIX_CMD)
    workdir = servers.make_workdir("postfix-relay")
    etc, queue, data = (os.path.join(workdir, d) for d in ("etc", "queue", "data"))
    for d in (etc, queue, data):
        os.mkdir(d)
    nobody = pwd.getpwnam("nobody")
    os.chown(data, nobody.pw_uid, nobody.pw_gid)
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write(postfix_relay_main_cf(workdir, sink_port, domain, hostname))
    env = dict(os.environ, LD_LIBRARY_PATH=postfix.POSTFIX_LIB)
    log = os.path.join(workdir, "postfix.out")
    maillog = os.path.join(workdir, "maillog")

    def launch():
        port = servers.free_port()
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(RELAY_MASTER_CF.format(port=port))
        # Makes the queue directories (owned by mail_owner) before master starts.
        subprocess.run([postfix.POSTFIX_CMD, "-c", etc, "check"], capture_output=True, env=env, timeout=30)
        proc = servers._spawn([postfix.POSTFIX_CMD, "-c", etc, "start-fg"], log, env=env, cwd=workdir)
        peer = PostfixRelay("postfix-relay", proc, port, b"", workdir, maillog)
        peer.config_dir, peer.sink_port, peer.domain = etc, sink_port, domain
        try:
            peer.banner = servers.wait_banner(proc, port, hostname, timeout)
        except servers.PeerError:
            peer.stop(remove=False)
            raise
        return peer

    try:
        return servers._start_with_retries("postfix relay", launch)
    except servers.PeerError as e:
        detail = _tail([log, maillog])
        shutil.rmtree(workdir, ignore_errors=True)
        raise servers.PeerError("%s\n%s" % (e, detail))
