"""OCI runtime wrapper: drop process.rlimits from the spec, then exec runc.

Some hosts forbid setrlimit to the container runtime (root without
CAP_SYS_RESOURCE): runc then fails with "error setting rlimits for ready
process". Removing the rlimits from the OCI spec lets the container start with
the host's limits. Used only where a plain `podman run` fails that way (see
scripts/podman-env).
"""
import json
import os
import sys

RUNC = os.environ.get("SSHDOCTOR_RUNC", "/usr/sbin/runc")


def strip_rlimits(path):
    try:
        with open(path) as handle:
            spec = json.load(handle)
    except (OSError, ValueError):
        return
    process = spec.get("process", spec)  # exec --process files hold the process object itself
    if isinstance(process, dict) and "rlimits" in process:
        del process["rlimits"]
        with open(path, "w") as handle:
            json.dump(spec, handle)


def main(argv):
    args = argv[1:]
    for index, arg in enumerate(args):
        if arg == "--bundle" and index + 1 < len(args):
            strip_rlimits(os.path.join(args[index + 1], "config.json"))
        elif arg.startswith("--bundle="):
            strip_rlimits(os.path.join(arg.split("=", 1)[1], "config.json"))
        elif arg == "--process" and index + 1 < len(args):
            strip_rlimits(args[index + 1])
        elif arg.startswith("--process="):
            strip_rlimits(arg.split("=", 1)[1])
    if "create" in args or "run" in args:
        # runc create/run default the bundle to the working directory
        if not any(a == "--bundle" or a.startswith("--bundle=") or a == "-b" for a in args):
            strip_rlimits(os.path.join(os.getcwd(), "config.json"))
    for index, arg in enumerate(args):
        if arg == "-b" and index + 1 < len(args):
            strip_rlimits(os.path.join(args[index + 1], "config.json"))
    os.execv(RUNC, [RUNC] + args)


if __name__ == "__main__":
    main(sys.argv)
