# examples/conftest.py — makes the smtpkit pytest plugin available to the
# examples when pytest runs them straight from the source tree
# (`pytest examples`; the top-level pytest.ini puts scripts/python on the
# path); with `-p smtpkit.pytest_plugin` or the installed package it does
# nothing.
# Limits: assumes the source tree layout (examples/ beside scripts/).
import sys

if "smtpkit.pytest_plugin" not in sys.modules:
    pytest_plugins = ["smtpkit.pytest_plugin"]
