# test_serve_relay.py — `smtpkit serve --route`: a chain of mock servers
# that route by recipient domain (client -> A -> B -> C -> D), store and
# forward, each hop adding its Received line on top (RFC 5321 §4.4); a 5xx
# at the last hop comes back to the sender as a delivery status notification
# (RFC 3464) that travels the chain back; a 4xx is retried with backoff;
# preferences order the next hops (a hop that cannot be reached gives way);
# the envelope's parameters go on only to hops that offer them; a loop stops
# at --max-hops; bad route flags say what was expected.
#
# Limits: the relaying hops' ports are reserved before they start (each
# routes notifications back to the one before it), ports that were free a
# moment ago (free_port).
import email
import email.policy
import smtplib
import subprocess

import pytest

import smtpkit
from peers.servers import free_port

REJECT_D = """\
@rule RCPT TO:<reject{who}>{*}
S: 550 5.1.1 <reject{who}> no such user here
@end
"""
DEFER_ONCE = """\
@rule times=1 RCPT TO:{*}
S: 451 4.3.0 try again later
@end
"""
MESSAGE = (b"From: s@a.test\r\nTo: x@c.test\r\nSubject: three hops\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
           b"Message-ID: <chain@a.test>\r\n\r\nfirst line\r\n.a line with a dot\r\n")


def send(srv, sender, rcpts, message=MESSAGE, **kw):
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
        c.ehlo("client.a.test")
        return c.sendmail(sender, rcpts, message, **kw)


def relay_events(srv, status=None):
    return [e for e in srv.events if e.get("event") == "relay" and (status is None or e.get("status") == status)]


def wait_relay(srv, status, n=1, timeout=15):
    """The server's first n relay events of that status (they may come a
    moment after the next hop stored the message)."""
    return srv.wait_for(lambda s: relay_events(s, status)[:n] if len(relay_events(s, status)) >= n else None,
                        timeout=timeout)


def addresses(srv):
    """Every HOST:PORT the server listens on."""
    return {"127.0.0.1:%d" % e["port"] for e in srv.endpoints}


def received_lines(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    return msg.get_all("Received") or []


@pytest.fixture
def chain():
    """Three relaying hops and a final server: A (a.test local; c.test -> B),
    B (c.test -> C; a.test -> A), C (c.test -> D; a.test -> B), D (stores
    c.test; refuses reject*@)."""
    a_port, b_port, c_port = free_port(), free_port(), free_port()
    with smtpkit.MockServer(script_text=REJECT_D, hostname="d.mx.test") as d, \
            smtpkit.MockServer(hostname="c.mx.test", listen="127.0.0.1:%d" % c_port,
                               route=["c.test=127.0.0.1:%d" % d.port, "a.test=127.0.0.1:%d" % b_port]) as c, \
            smtpkit.MockServer(hostname="b.mx.test", listen="127.0.0.1:%d" % b_port,
                               route=["c.test=127.0.0.1:%d" % c_port, "a.test=127.0.0.1:%d" % a_port]) as b, \
            smtpkit.MockServer(hostname="a.mx.test", listen="127.0.0.1:%d" % a_port,
                               route=["c.test=127.0.0.1:%d" % b_port], local_domain=["a.test"]) as a:
        yield a, b, c, d


def test_three_hops_three_received_lines(chain):
    a, b, c, d = chain
    send(a, "s@a.test", ["x@c.test"])
    [m] = d.wait_for_messages(1, timeout=20)
    raw = m.raw
    # A, B and C each put theirs on top; D's stored copy is as received.
    lines = received_lines(raw)
    assert len(lines) == 3, lines
    assert "by c.mx.test" in lines[0] and "by b.mx.test" in lines[1] and "by a.mx.test" in lines[2]
    assert lines[2].startswith("from client.a.test ([127.0.0.1])")
    assert lines[1].startswith("from a.mx.test ([127.0.0.1])")
    assert "for <x@c.test>" in lines[0]
    # Nothing else changed: the message A received follows the three lines.
    assert raw.endswith(MESSAGE)
    assert m.mail_from == "s@a.test" and m.rcpt_to == ["x@c.test"]
    # The hop-by-hop dialogues: each relay's events name its next hop.
    for hop, nxt in ((a, b), (b, c), (c, d)):
        [e] = wait_relay(hop, "delivered")
        assert e["hop"] in addresses(nxt)
    # Each hop judged its client: smtpkit's relay client broke no rule.
    for srv in (b, c, d):
        srv.settle()
        assert [f for f in srv.findings if f.side == "client"] == [], srv.findings


def test_a_5xx_at_the_last_hop_comes_back_as_a_dsn(chain):
    a, b, c, d = chain
    send(a, "s@a.test", ["reject-me@c.test"], rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;reject-me@c.test"],
         mail_options=["RET=HDRS", "ENVID=chain-1"])
    # C got the 550 from D and returned the mail to s@a.test: back through B to A.
    dsn = a.wait_for(lambda s: [m for m in s.messages if m.mail_from == ""] or None, timeout=20)[0]
    assert dsn.rcpt_to == ["s@a.test"]
    msg = dsn.email
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    status = parts[1].as_string()
    assert "Reporting-MTA: dns; c.mx.test" in status
    assert "Original-Envelope-Id: chain-1" in status
    assert "Final-Recipient: rfc822; reject-me@c.test" in status
    assert "Original-Recipient: rfc822;reject-me@c.test" in status
    assert "Action: failed" in status and "Status: 5.1.1" in status
    assert "Diagnostic-Code: smtp; 550 5.1.1" in status
    assert "Subject: three hops" in parts[2].as_string()
    # The notification travelled C -> B -> A, each adding its Received line.
    trace = received_lines(dsn.raw)
    assert len(trace) == 2 and "by b.mx.test" in trace[0] and "by c.mx.test" in trace[1], trace
    assert [e["status"] for e in relay_events(c) if e["rcpt"] == "reject-me@c.test"] == ["failed"]
    assert d.messages == []


def test_notify_never_gets_no_dsn(chain):
    a, b, c, d = chain
    send(a, "s@a.test", ["reject-quiet@c.test", "ok@c.test"], rcpt_options=["NOTIFY=NEVER"])
    d.wait_for_messages(1, timeout=20)
    c.wait_for(lambda s: relay_events(s, "failed") or None, timeout=10)
    c.settle(1.0)
    a.settle(1.0)
    assert [m for m in a.messages if m.mail_from == ""] == []
    assert not [e for e in c.events if e.get("event") == "dsn"]


def test_4xx_is_retried_with_backoff():
    with smtpkit.MockServer(script_text=DEFER_ONCE) as nxt, \
            smtpkit.MockServer(route=["d.test=127.0.0.1:%d" % nxt.port], relay_retry=0.3) as hop:
        send(hop, "s@a.test", ["y@d.test"])
        nxt.wait_for_messages(1, timeout=15)
        wait_relay(hop, "delivered")
        assert [e["status"] for e in relay_events(hop)] == ["deferred", "delivered"]
        assert [e["attempt"] for e in relay_events(hop)] == [1, 2]


def test_gives_up_after_the_attempts_and_returns_the_mail():
    always = "@rule RCPT TO:{*}\nS: 452 4.2.2 mailbox full\n@end\n"
    with smtpkit.MockServer(script_text=always) as nxt, \
            smtpkit.MockServer(route=["d.test=127.0.0.1:%d" % nxt.port], relay_retry=0.1,
                               relay_attempts=3) as hop:
        send(hop, "s@local.test", ["y@d.test"])
        dsn = hop.wait_for(lambda s: [m for m in s.messages if m.mail_from == ""] or None, timeout=15)[0]
        assert [e["status"] for e in relay_events(hop)] == ["deferred", "deferred", "deferred", "failed"]
        assert "Status: 4.2.2" in dsn.raw.decode()
        assert dsn.rcpt_to == ["s@local.test"]


def test_next_hops_by_preference_and_an_unreachable_one_gives_way(tmp_path):
    dead = free_port()  # nothing listens there
    with smtpkit.MockServer() as second:
        routes = tmp_path / "routes"
        routes.write_text("# domain pref hop\nd.test 20 127.0.0.1:%d\nd.test 10 127.0.0.1:%d\n" % (second.port, dead))
        with smtpkit.MockServer(routes=str(routes)) as hop:
            send(hop, "s@a.test", ["y@d.test"])
            second.wait_for_messages(1, timeout=15)
            assert [e["hop"] for e in wait_relay(hop, "delivered")] == ["127.0.0.1:%d" % second.port]


def test_parameters_go_only_to_hops_that_offer_them():
    with smtpkit.MockServer() as full, smtpkit.MockServer(no=["dsn", "size"]) as plain:
        with smtpkit.MockServer(route=["full.test=127.0.0.1:%d" % full.port,
                                       "plain.test=127.0.0.1:%d" % plain.port]) as hop:
            body = MESSAGE + "caf\u00e9\r\n".encode()
            for rcpt in ("y@full.test", "y@plain.test"):
                send(hop, "s@a.test", [rcpt], message=body, mail_options=["BODY=8BITMIME", "ENVID=e1"],
                     rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
            [f] = full.wait_for_messages(1, timeout=15)
            [p] = plain.wait_for_messages(1, timeout=15)
            assert {k.upper(): v for k, v in f.mail_params.items()}["BODY"] == "8BITMIME"
            assert {k.upper(): v for k, v in f.mail_params.items()}["ENVID"] == "e1"
            assert int({k.upper(): v for k, v in f.mail_params.items()}["SIZE"]) == len(f.raw)
            assert {k.upper(): v for k, v in f.rcpt_params["y@full.test"].items()}["NOTIFY"] == "SUCCESS,FAILURE"
            assert {k.upper() for k in p.mail_params} == {"BODY"}
            assert p.rcpt_params["y@plain.test"] == {}
            # RFC 3461 §6.2.3.3: to a hop without DSN, NOTIFY=SUCCESS earns a "relayed" notice.
            relayed = hop.wait_for(lambda s: [m for m in s.messages if m.mail_from == ""] or None, timeout=10)
            assert "Action: relayed" in relayed[0].raw.decode()


def test_8bit_mail_for_a_7bit_hop_is_returned_not_sent_undeclared():
    with smtpkit.MockServer(no=["8bitmime", "smtputf8", "binarymime"]) as seven:
        with smtpkit.MockServer(route=["seven.test=127.0.0.1:%d" % seven.port]) as hop:
            send(hop, "s@a.test", ["y@seven.test"], message=MESSAGE + "caf\u00e9\r\n".encode(),
                 mail_options=["BODY=8BITMIME"])
            dsn = hop.wait_for(lambda s: [m for m in s.messages if m.mail_from == ""] or None, timeout=10)[0]
            assert "Status: 5.6.3" in dsn.raw.decode()
            seven.settle(0.5)
            assert seven.messages == []


def test_a_loop_stops_at_max_hops():
    # Two servers that route x.test to each other: the mail goes round until
    # its Received lines pass --max-hops, then comes back to the sender.
    p1 = free_port()
    with smtpkit.MockServer(route=["x.test=127.0.0.1:%d" % p1], max_hops=5, local_domain=["a.test"]) as s2:
        with smtpkit.MockServer(listen="127.0.0.1:%d" % p1, route=["x.test=127.0.0.1:%d" % s2.port],
                                max_hops=5) as s1:
            send(s1, "s@a.test", ["round@x.test"])
            # s1 routes a.test nowhere: the DSN stays at whichever hop saw the loop.
            def dsn(_):
                found = [m for srv in (s1, s2) for m in srv.messages if m.mail_from == ""]
                return found or None
            [d] = s1.wait_for(dsn, timeout=30)
            assert "Status: 5.4.6" in d.raw.decode()
            assert len(s1.messages) + len(s2.messages) <= 2 * 6 + 1


@pytest.mark.parametrize("flags, message", [
    (["--route", "c.test"], "expected DOMAIN=HOST:PORT"),
    (["--route", "c.test=127.0.0.1:70000"], "70000"),
    (["--route", "c.test=127.0.0.1:2600", "--discard"], "cannot relay with --discard"),
    (["--routes", "/nonexistent/routes"], "cannot read the routes file"),
])
def test_bad_route_flags_exit_2_and_say_why(flags, message):
    r = subprocess.run([smtpkit.find_binary(), "serve", "--listen", "127.0.0.1:0"] + flags,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert message in r.stderr


def test_a_silent_next_hop_does_not_hold_up_the_stop():
    # The next hop accepts and never says a word: the relay waits for its
    # greeting, and SIGTERM still ends the server at once (within its
    # grace), the message staying in the Maildir.
    import socket
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        srv = smtpkit.MockServer(route=["d.test=127.0.0.1:%d" % silent.getsockname()[1]])
        with srv:
            send(srv, "s@a.test", ["y@d.test"])
            conn, _ = silent.accept()  # the relay connected
            started = time.monotonic()
            code = srv.stop()
            took = time.monotonic() - started
            conn.close()
        assert code == 0
        assert took < 4, took
        assert [e["rcpt"] for e in srv.events if e.get("event") == "relay-pending"] == ["y@d.test"]
        assert len(srv.messages) == 1
    finally:
        silent.close()
