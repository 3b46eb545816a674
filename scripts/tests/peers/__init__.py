"""Shared code of the pytest folder scripts/tests.

Real SMTP servers and clients from Debian run on 127.0.0.1 (servers.py,
clients.py), the dialogue format in Python (dialogue.py) and a driver of
the `smtpkit record` proxy (record.py).
Standard library only; run with Debian's /usr/bin/python3.
"""
