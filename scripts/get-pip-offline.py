"""Stand-in for ansible-test's get-pip-<version>.py, which it downloads from a
host this project's machines cannot reach.

ansible-test runs it as ``python get_pip.py [pip options] pip==X ... --no-setuptools
--no-wheel`` inside a new virtual environment. This bootstraps pip with the
standard library's ensurepip, then lets that pip install what was asked for,
from the package index configured on the machine.
"""
import os
import subprocess
import sys


def main(argv):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    # ensurepip points PIP_CONFIG_FILE at /dev/null for its own run; the machine's
    # /etc/pip.conf holds the settings that make the index work, so drop it.
    env = dict(os.environ)
    env.pop("PIP_CONFIG_FILE", None)
    args = [a for a in argv if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)


if __name__ == "__main__":
    main(sys.argv[1:])
