# examples/conftest.py — makes the smtpkit pytest plugin available to the
# examples when pytest runs them straight from the source tree
# (`pytest examples`), by adding scripts/python to sys.path; with
# `-p smtpkit.pytest_plugin` or the installed package it does nothing.
# Limits: assumes the source tree layout (examples/ beside scripts/).
import os
import sys

if "smtpkit.pytest_plugin" not in sys.modules:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "python"))
    pytest_plugins = ["smtpkit.pytest_plugin"]
