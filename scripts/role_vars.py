"""Print a role's variables, their types and defaults, from its meta/argument_specs.yml.

    scripts/role_vars.py ROLE_DIR [ENTRY_POINT]

Used by `./dev diagnose --help` and `./dev harden --help`. The argument specs are the one
source of each variable's documentation; this only formats them (Ansible's markup such
as C(...) and O(...) becomes plain text). Needs PyYAML; exits 3 without it.
"""

import os
import re
import shutil
import sys
import textwrap

try:
    import yaml
except ImportError:  # the caller says where to read them instead
    sys.exit(3)

MARKUP = re.compile(r"\b(?:[A-Z]{1,2})\(([^()]*)\)")


def plain(text):
    """Ansible doc markup to plain text: C(x) -> x, L(text,url) -> text, P(name#type) -> name."""
    def one(match):
        inner = match.group(1)
        if match.group(0).startswith("L("):
            inner = inner.split(",", 1)[0]
        if match.group(0).startswith("P("):
            inner = inner.split("#", 1)[0]
        return inner
    return " ".join(MARKUP.sub(one, str(text)).split())


def shown_default(option):
    if "default" not in option:
        return "required" if option.get("required") else "no default"
    value = option["default"]
    if value is None:
        return "default null"
    if isinstance(value, bool):
        return "default %s" % str(value).lower()
    if isinstance(value, str):
        return "default %s" % (value if value else '""')
    return "default %s" % yaml.safe_dump(value, default_flow_style=True, width=1000).strip().replace("\n...", "")


def main(argv):
    role_dir = argv[1]
    entry = argv[2] if len(argv) > 2 else "main"
    path = os.path.join(role_dir, "meta", "argument_specs.yml")
    with open(path) as handle:
        specs = yaml.safe_load(handle)["argument_specs"][entry]
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    print("Variables of the %s role (set with -e NAME=VALUE; from %s):" % (
        os.path.basename(os.path.abspath(role_dir)), os.path.relpath(path)))
    for name, option in (specs.get("options") or {}).items():
        kind = option.get("type", "str")
        if option.get("elements"):
            kind = "%s of %s" % (kind, option["elements"])
        line = "  %s (%s, %s" % (name, kind, shown_default(option))
        if option.get("choices"):
            line += "; one of %s" % ", ".join(str(c) for c in option["choices"])
        print(line + ")")
        description = option.get("description") or []
        if isinstance(description, str):
            description = [description]
        for paragraph in description:
            print(textwrap.fill(plain(paragraph), width=width, initial_indent="      ", subsequent_indent="      "))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
