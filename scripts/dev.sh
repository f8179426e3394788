#!/usr/bin/env bash
# The tasks behind ./dev. `./dev` alone lists them; `./dev TASK --help` explains one.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SSHDOCTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sshdoctor}
PY=${SSHDOCTOR_PYTHON:-python3}
APT_RUN=(python3 python3-venv python3-pip openssh-client git)
APT_TEST=(podman runc debootstrap iptables nftables iproute2 rsync chromium make shellcheck)
# The oldest and the newest ansible-core the collection supports (meta/runtime.yml), each tested
# by `./dev test` on the first interpreter found of those listed (2.20 and later need Python 3.12+).
CORE_LEGS=(2.16 2.21)
# shellcheck disable=SC2034  # CORE_PYTHONS_* are read through a nameref in core_env
CORE_PYTHONS_2_16=(3.12 3.11 3.10)
# shellcheck disable=SC2034
CORE_PYTHONS_2_21=(3.13 3.12)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- the task list: "name :: arguments (- for none) :: what it does"; the usage list and TASK --help
# come from it.
TASKS=(
  "diagnose :: [ansible-playbook args] :: diagnose this machine (localhost), or a fleet with -i INVENTORY; report in ./sshdoctor-report"
  "harden :: [ansible-playbook args] :: apply the keepalive and MaxStartups fixes (try --check --diff first)"
  "ansible-doc :: [ansible-doc args] NAME :: documentation of a module or role, e.g. sshdoctor.connreset.sshd_info"
  "env :: [--dev] :: shell exports that put ansible-playbook and ansible-doc on PATH: eval \"\$(./dev env)\""
  "test :: [STAGE ...] :: every test: units, integration, sanity, lint, molecule, accuracy, ansible-core legs; a table at the end"
  "units :: [pytest args] :: unit tests: pytest over tests/unit (-k NAME for some)"
  "integration :: [pytest args] :: the HTML report in headless Chromium, the playbook through ansible-runner"
  "sanity :: [--core 2.16|2.19|2.21] [ansible-test args] :: ansible-test sanity (2.19 unless --core)"
  "ansible-test-units :: [ansible-test args] :: the unit tests through ansible-test units"
  "fuzz :: [pytest args] :: the fuzzing suite's deep profile: 10,000 examples per parser, diagnose and report (tests/unit/fuzz)"
  "lint :: - :: yamllint, ansible-lint (production profile), antsibull-docs, changelog fragments, antsibull-nox checks"
  "molecule :: [scenario ...] :: molecule test on podman: every scenario under molecule/, or the ones named, two at a time (SSHDOCTOR_MOLECULE_JOBS)"
  "core :: [2.16|2.21 ...] :: unit tests and a localhost diagnose on the oldest and newest ansible-core"
  "accuracy :: - :: the fault lab end to end: plant the faults, diagnose over SSH, compare"
  "lab :: up|down|status|diagnose :: the fault lab: a broken fleet of Debian containers"
  "bench :: [options] :: the performance benchmark (reports only, never part of ./dev test)"
  "images :: [debian11|debian12|debian13 ...] :: build (or reuse) the Debian test images"
  "help :: [TASK] :: this list, or one task's usage"
)

task_field() {  # task_field NAME 1|2|3: the task's name, arguments or description ("" if unknown)
  local entry
  for entry in "${TASKS[@]}"; do
    if [ "${entry%% :: *}" = "$1" ]; then
      awk -v n="$2" 'BEGIN { FS = " :: " } { print ($n == "-" ? "" : $n) }' <<<"$entry"
      return 0
    fi
  done
  return 1
}

usage() {
  local entry name args
  echo "usage: ./dev TASK [ARGS]    (./dev TASK --help for one task)"
  echo
  for entry in "${TASKS[@]}"; do
    name=${entry%% :: *}
    args=$(task_field "$name" 2)
    printf '  %-45s %s\n' "$name${args:+ $args}" "$(task_field "$name" 3)"
  done
  echo
  echo "Run as root on Debian or Ubuntu: each task installs what it needs (apt packages, a virtual"
  echo "environment under $CACHE) and is safe to run again."
}

# role_vars ROLE: the role's variables and defaults, read from its meta/argument_specs.yml now.
role_vars() {
  local py
  for py in "$(venv_dir run "$ROOT/requirements.txt")/bin/python" "$(venv_dir dev "$ROOT/requirements-dev.txt")/bin/python" python3; do
    if [ -x "$py" ] || command -v "$py" >/dev/null 2>&1; then
      if "$py" "$ROOT/scripts/role_vars.py" "$ROOT/roles/$1" 2>/dev/null; then return 0; fi
    fi
  done
  echo "The role's variables and their defaults: roles/$1/meta/argument_specs.yml,"
  echo "or ./dev ansible-doc -t role sshdoctor.connreset.$1 (PyYAML is not installed yet, so they are not listed here)."
}

task_help() {
  local name=$1 args
  if ! args=$(task_field "$name" 2); then
    echo "./dev: unknown task '$name'" >&2
    echo "Run ./dev help for the list of tasks." >&2
    return 2
  fi
  echo "usage: ./dev $name${args:+ $args}"
  echo
  echo "$(task_field "$name" 3 | sed 's/^./\u&/')."
  case "$name" in
    diagnose)
      cat <<'EOF'

Runs ansible-playbook sshdoctor.connreset.diagnose from this clone, in the directory you run
./dev from (-i paths and the report directory are relative to it). Any ansible-playbook
argument can follow: -i INVENTORY, -e NAME=VALUE, -f FORKS, -K, --limit ...

  ./dev diagnose                                  this machine, over a local connection
  ./dev diagnose -i inventory.ini -e diagnose_become=true
  ./dev diagnose -i inventory.ini -e diagnose_fail_on=critical    exit non-zero on a critical finding (CI)

Variables of the playbook itself:
  sshdoctor_hosts (str, default all; localhost when there is no inventory)
      The host pattern the play runs on.

EOF
      role_vars diagnose
      echo
      echo "ansible-playbook's own options: ansible-playbook --help, after eval \"\$(./dev env)\"." ;;
    harden)
      cat <<'EOF'

Runs ansible-playbook sshdoctor.connreset.harden from this clone: one canary host, then a quarter
of the hosts at a time; stops at the first failed batch.

  ./dev harden -i inventory.ini --check --diff    what would change
  ./dev harden -i inventory.ini                   change it
  ./dev harden -i inventory.ini -e sshdoctor_harden_client=true

Variables of the playbook itself: sshdoctor_hosts (default all), sshdoctor_harden_serial
(default [1, "25%"]), sshdoctor_harden_client (default false).

EOF
      role_vars sshd_hardening
      echo
      role_vars ssh_client_keepalive ;;
    ansible-doc)
      cat <<'EOF'

  ./dev ansible-doc sshdoctor.connreset.sshd_info
  ./dev ansible-doc -t role sshdoctor.connreset.diagnose
  ./dev ansible-doc -l sshdoctor.connreset          every module of the collection
EOF
      ;;
    env)
      cat <<'EOF'

Prints export lines; evaluate them in your shell to use the project's Ansible directly:

  eval "$(./dev env)"          ansible-playbook, ansible-doc, ansible-galaxy, with this clone as the collection
  eval "$(./dev env --dev)"    also the test tools (molecule, ansible-lint, pytest) and the podman setup
EOF
      ;;
    test)
      cat <<'EOF'

Stages: units, integration, sanity, lint, molecule (every scenario under molecule/), accuracy
(the fault lab), core-2.16 and core-2.21 (skipped, and said so, when their Python is missing).
Each stage runs on even when an earlier one failed; the exit status is non-zero when any failed.
Naming stages runs only those (./dev test lint core-2.16).
EOF
      ;;
    sanity)
      cat <<'EOF'

--core 2.16 or --core 2.21 runs the sanity tests with that ansible-core (in its own virtual
environment) instead of the pinned one; tests/sanity/ignore-2.NN.txt is read for each.
EOF
      ;;
    fuzz)
      cat <<'EOF'

./dev units runs the same suite with a few examples per target; this runs the deep profile:
SSHDOCTOR_FUZZ_EXAMPLES (default 10000) inputs per target, SSHDOCTOR_FUZZ_TIME_EXAMPLES (default
200) shapes per time bound, and the expected failures of targets other helpers still fix. The
figures (calls, slowest call, exceptions, 64 KB time against its bound) are printed at the end
and written to SSHDOCTOR_FUZZ_REPORT (default the cache's fuzz-report.json).

  ./dev fuzz                                   every target (takes a while: see tests/performance/RESULTS.md)
  SSHDOCTOR_FUZZ_EXAMPLES=500 ./dev fuzz -k _sshd    some targets, fewer examples
EOF
      ;;
    molecule)
      echo
      echo "Scenarios: $(scenarios | tr '\n' ' ')"
      ;;
    core)
      cat <<'EOF'

For each version: a virtual environment with that ansible-core on the first Python found
(2.16: 3.12, 3.11, 3.10; 2.21: 3.13, 3.12; on PATH or under pyenv), the unit tests, and
ansible-playbook sshdoctor.connreset.diagnose on localhost (which must print no warning).
A version whose Python is missing is skipped with a message naming what was looked for.
EOF
      ;;
    lab)
      echo
      sed -n 's|^#   tests/lab/lab |  ./dev lab |p' "$ROOT/tests/lab/lab" ;;
    bench)
      echo
      python3 "$ROOT/tests/performance/bench.py" --help 2>/dev/null | sed -n '/^\(options\|optional arguments\):/,$p' ||
        echo "Its options: python3 tests/performance/bench.py --help" ;;
  esac
}

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "run this as root (it installs packages and runs containers)" >&2; exit 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  log "installing apt packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# venv_dir NAME REQUIREMENTS [PYTHON]: where that environment lives. Keyed by the requirements'
# hash (a changed pin builds a new one) and, for another interpreter, by its version.
venv_dir() {
  local name=$1 req=$2 python=${3:-} hash
  hash=$(cat "$ROOT/requirements.txt" "$req" | sha256sum | cut -c1-12)
  if [ -n "$python" ]; then name="$name-py$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; fi
  echo "$CACHE/venv-$name-$hash"
}

# venv NAME REQUIREMENTS [PYTHON]: that environment, created when missing or incomplete.
venv() {
  local python=${3:-$PY} dir
  dir=$(venv_dir "$@")
  if [ ! -x "$dir/bin/ansible-playbook" ] || [ ! -f "$dir/.complete" ]; then
    log "creating virtual environment $dir"
    rm -rf "$dir"
    mkdir -p "$CACHE"
    # Checked one by one: a caller in an `if` or `||` turns `set -e` off in here.
    "$python" -m venv "$dir" || return 1
    "$dir/bin/pip" install -q --upgrade pip >/dev/null || return 1
    "$dir/bin/pip" install -q -r "$2" || return 1
    touch "$dir/.complete"
  fi
  echo "$dir"
}

# The collection as Ansible finds it: <path>/ansible_collections/sshdoctor/connreset -> this tree.
# The path is private to this clone and is the `collections` directory of a private ANSIBLE_HOME
# (see dev_env). Nothing under ~/.ansible is read or changed: an installed copy of the collection
# there stays as it is, and does not shadow this tree.
private_home() { echo "$CACHE/ansible-home-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)"; }

collection_path() {
  local base
  base="$(private_home)/collections"
  mkdir -p "$base/ansible_collections/sshdoctor"
  ln -sfn "$ROOT" "$base/ansible_collections/sshdoctor/connreset"
  echo "$base"
}

run_env() {
  apt_install "${APT_RUN[@]}"
  VENV=$(venv run "$ROOT/requirements.txt")
  COLLECTIONS=$(collection_path)
  export PATH="$VENV/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
}

dev_env() {
  apt_install "${APT_RUN[@]}" "${APT_TEST[@]}"
  VENV=$(venv dev "$ROOT/requirements-dev.txt")
  COLLECTIONS=$(collection_path)
  # The shim runs podman from a scratch directory (conmon leaves an `oom` file where podman runs).
  export PATH="$ROOT/scripts/shims:$VENV/bin:$PATH"
  # molecule and ansible-lint (through ansible-compat) put $ANSIBLE_HOME/collections first on the
  # collections path, and molecule's prerun would install a copy of this tree there: with a
  # private ANSIBLE_HOME whose collections directory is the one linking to this tree, neither
  # reaches ~/.ansible.
  export ANSIBLE_HOME
  ANSIBLE_HOME=$(private_home)
  # containers.podman (for molecule's podman driver) comes bundled with the ansible package.
  local bundled
  bundled=$("$VENV/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')
  export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS:$bundled"
  # shellcheck source=scripts/podman-env
  source "$ROOT/scripts/podman-env"
  podman_env_setup "$ROOT" "$CACHE"
}

# quiet_localhost ARGS...: with no inventory at all (no -i, no ANSIBLE_INVENTORY, none in an
# ansible.cfg, no /etc/ansible/hosts), the playbook runs on the implicit localhost by design, so
# Ansible's two warnings about that say nothing; turn those two off, unless the user set them.
quiet_localhost() {
  local arg cfg
  for arg in "$@"; do
    case "$arg" in -i | --inventory | --inventory-file | -i* | --inventory=* | --inventory-file=*) return 0 ;; esac
  done
  [ -z "${ANSIBLE_INVENTORY:-}" ] || return 0
  [ ! -e /etc/ansible/hosts ] || return 0
  for cfg in "${ANSIBLE_CONFIG:-}" ./ansible.cfg "$HOME/.ansible.cfg" /etc/ansible/ansible.cfg; do
    if [ -n "$cfg" ] && [ -f "$cfg" ] && grep -Eq '^[[:space:]]*(inventory|hostfile)[[:space:]]*[=:]' "$cfg"; then return 0; fi
  done
  export ANSIBLE_LOCALHOST_WARNING=${ANSIBLE_LOCALHOST_WARNING:-false}
  export ANSIBLE_INVENTORY_UNPARSED_WARNING=${ANSIBLE_INVENTORY_UNPARSED_WARNING:-false}
}

# ansible-test needs the collection at .../ansible_collections/sshdoctor/connreset and, here,
# a local stand-in for the pip bootstrap script it would download (into its own cache, which is
# ~/.ansible/test/cache; a script already there, ours or a real one, is left alone).
ansible_test_tree() {
  local pip_version tree cached
  pip_version=$(python - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
  cached="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if [ ! -s "$cached" ]; then
    mkdir -p "$(dirname "$cached")"
    cp "$ROOT/scripts/get-pip-offline.py" "$cached"
  fi
  # One tree per clone and ansible-core version, so that two clones on one machine, or the
  # sanity tests of two versions at once, do not share it.
  tree="$CACHE/ansible-test-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)-$(ansible --version | sed -n '1s/.*core \([0-9]*\.[0-9]*\).*/\1/p')/ansible_collections/sshdoctor/connreset"
  rm -rf "$tree" && mkdir -p "$tree"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' ) \
    | rsync -a --files-from=- "$ROOT/" "$tree/"
  echo "$tree"
}

# skipped WHY: say so, and tell ./dev test's table (SSHDOCTOR_STAGE_NOTE names a file) why.
skipped() {
  echo "SKIPPED: $*"
  if [ -n "${SSHDOCTOR_STAGE_NOTE:-}" ]; then echo "$*" >>"$SSHDOCTOR_STAGE_NOTE"; fi
}

pyenv_root() { echo "${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"; }

# find_python VERSION...: the first interpreter of those versions, on PATH or under pyenv.
find_python() {
  local version candidate
  for version in "$@"; do
    for candidate in "$(command -v "python$version" 2>/dev/null || true)" \
        "$(pyenv_root)"/versions/"$version".*/bin/python"$version"; do
      # pyenv's shims are on PATH for versions that are installed but not selected: run it to know.
      if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then
        echo "$candidate"; return 0
      fi
    done
  done
  return 1
}

# core_env VERSION: a virtual environment with that ansible-core (tests/core/requirements-VERSION.txt).
core_env() {
  local version=$1 wanted python
  local -n pythons="CORE_PYTHONS_${version//./_}"
  wanted=$(printf 'python%s ' "${pythons[@]}")
  if ! python=$(find_python "${pythons[@]}"); then
    CORE_SKIPPED="no interpreter for ansible-core $version: looked for ${wanted% } on PATH and under $(pyenv_root)/versions"
    return 1
  fi
  apt_install "${APT_RUN[@]}"
  CORE_VENV=$(venv "core-$version" "$ROOT/tests/core/requirements-$version.txt" "$python") || {
    echo "./dev: could not create the virtual environment for ansible-core $version" >&2; exit 1; }
  COLLECTIONS=$(collection_path)
}

task_units() {
  dev_env
  log "unit tests"
  (cd "$COLLECTIONS/ansible_collections/sshdoctor/connreset" && \
    PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider tests/unit "$@")
}

# Tests that need real tools on the controller (headless Chromium, ansible-runner) but no containers.
task_integration() {
  dev_env
  log "integration tests"
  if ! ls "$ROOT"/tests/integration/test_*.py >/dev/null 2>&1; then echo "no integration tests yet"; return 0; fi
  (cd "$COLLECTIONS/ansible_collections/sshdoctor/connreset" && \
    PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider tests/integration "$@")
}

# The fuzzing suite's deep profile (tests/unit/fuzz; ./dev units runs its quick one): 10,000 examples
# per target, figures printed and written to $SSHDOCTOR_FUZZ_REPORT (default $CACHE/fuzz-report.json).
task_fuzz() {
  dev_env
  log "fuzzing suite, deep profile"
  (cd "$COLLECTIONS/ansible_collections/sshdoctor/connreset" && \
    SSHDOCTOR_FUZZ=deep SSHDOCTOR_FUZZ_REPORT="${SSHDOCTOR_FUZZ_REPORT:-$CACHE/fuzz-report.json}" \
    PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider tests/unit/fuzz "$@")
}

task_sanity() {
  local core="" python_version=3.11
  if [ "${1:-}" = --core ]; then core=${2:?--core needs a version: 2.16, 2.19 or 2.21}; shift 2; fi
  dev_env
  if [ -n "$core" ] && [ "$core" != 2.19 ]; then
    core_env "$core" || { skipped "$CORE_SKIPPED"; return 77; }
    export PATH="$CORE_VENV/bin:$PATH"
    python_version=$("$CORE_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  fi
  local tree; tree=$(ansible_test_tree)
  log "ansible-test sanity ($(ansible --version | sed -n 1p), Python $python_version)"
  (cd "$tree" && ansible-test sanity --venv --python "$python_version" --color no "$@")
}

task_units_ansible_test() {
  dev_env
  local tree; tree=$(ansible_test_tree)
  log "ansible-test units"
  (cd "$tree" && ansible-test units --venv --python 3.11 --color no "$@")
}

task_lint() {
  dev_env
  log "yamllint"
  (cd "$ROOT" && yamllint --strict .)
  log "ansible-lint (production profile)"
  (cd "$ROOT" && ansible-lint --offline)
  log "antsibull-docs: the collection's documentation"
  (cd "$ROOT" && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .)
  log "changelog fragments"
  (cd "$ROOT" && antsibull-changelog lint)
  # Their virtual environments are kept in the cache (-R: reused; --no-install: installed once).
  log "antsibull-nox: extra checks, collection build and Galaxy import check"
  (cd "$ROOT" && nox --envdir "$CACHE/nox-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)" -R --no-install \
    --sessions extra-checks build-import-check)
}

# scenarios: every directory under molecule/, one name a line, the longest ones first (measured
# 2026-12-02 on 2 cores: default 10 min, hardening and diagnose about 6, the others 2 to 4), so
# that the two lanes of run_scenarios end at about the same time; the rest in name order.
LONGEST_SCENARIOS=(default hardening diagnose image_build)
scenarios() {
  local dir name
  for name in "${LONGEST_SCENARIOS[@]}"; do
    if [ -f "$ROOT/molecule/$name/molecule.yml" ]; then echo "$name"; fi
  done
  for dir in "$ROOT"/molecule/*/; do
    name=$(basename "$dir")
    if [ -f "$dir/molecule.yml" ] && ! printf '%s\n' "${LONGEST_SCENARIOS[@]}" | grep -xF -- "$name" >/dev/null; then
      echo "$name"
    fi
  done
}

task_molecule() {
  dev_env
  "$ROOT/scripts/build-images"
  podman_env_setup "$ROOT" "$CACHE"
  local scenarios=("$@")
  if [ ${#scenarios[@]} -eq 0 ]; then
    mapfile -t scenarios < <(scenarios)
  fi
  run_scenarios "${SSHDOCTOR_MOLECULE_JOBS:-2}" "${scenarios[@]}"
}

# run_scenarios JOBS SCENARIO...: `molecule test` for each, JOBS at a time (their containers,
# networks and molecule state are named per scenario, so they do not meet). Each one's output
# goes to a log printed whole when it ends, then a table of results and durations; the exit
# status is 1 when any failed. Two at a time on two cores: most of a scenario is waiting for
# systemd, sshd and the faults' timers, not computing.
run_scenarios() {
  local jobs=$1 logs s pid rc failed=0
  shift
  logs=$(mktemp -d)
  declare -A running=() began=()
  local -a order=("$@") table=()
  finish() {  # finish PID: print the log of the scenario it ran and record its result
    local pid=$1 rc=$2 name=${running[$1]} took
    took=$(( $(date +%s) - ${began[$1]} ))
    log "molecule scenario $name: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $((took / 60))m$(printf '%02d' $((took % 60)))s"
    cat "$logs/$name.log" >&2
    table+=("$(printf '%-14s %-8s %2dm%02ds' "$name" "$([ "$rc" -eq 0 ] && echo passed || echo FAILED)" $((took / 60)) $((took % 60)))")
    [ "$rc" -eq 0 ] || failed=1
    unset "running[$pid]"
  }
  for s in "${order[@]}"; do
    while [ ${#running[@]} -ge "$jobs" ]; do
      rc=0; wait -n -p pid "${!running[@]}" || rc=$?
      finish "$pid" "$rc"
    done
    log "molecule scenario $s: started"
    (cd "$ROOT" && exec molecule test -s "$s") >"$logs/$s.log" 2>&1 &
    running[$!]=$s; began[$!]=$(date +%s)
  done
  while [ ${#running[@]} -gt 0 ]; do
    rc=0; wait -n -p pid "${!running[@]}" || rc=$?
    finish "$pid" "$rc"
  done
  rm -rf "$logs"
  log "molecule scenarios ($jobs at a time)"
  printf '%s\n' "${table[@]}" >&2
  return "$failed"
}

# core VERSION...: unit tests and a localhost diagnose on other ansible-core versions. Exit 77
# (and a SKIPPED line) when no version could run because its interpreter is missing.
task_core() {
  local versions=("$@") version ran=0 out rc=0
  [ ${#versions[@]} -gt 0 ] || versions=("${CORE_LEGS[@]}")
  for version in "${versions[@]}"; do
    if [ ! -f "$ROOT/tests/core/requirements-$version.txt" ]; then
      echo "./dev core: no tests/core/requirements-$version.txt (versions: ${CORE_LEGS[*]})" >&2; return 2
    fi
    if ! core_env "$version"; then skipped "$CORE_SKIPPED"; continue; fi
    ran=$((ran + 1))
    log "ansible-core $version: $("$CORE_VENV/bin/ansible" --version | sed -n 1p) on $("$CORE_VENV/bin/python" -V)"
    (cd "$COLLECTIONS/ansible_collections/sshdoctor/connreset" && \
      PYTHONPATH="$COLLECTIONS" "$CORE_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/unit) || rc=1
    out=$(mktemp -d)
    log "ansible-core $version: diagnose localhost"
    if (cd "$out" && quiet_localhost && PATH="$CORE_VENV/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" ANSIBLE_NOCOLOR=1 \
        ansible-playbook sshdoctor.connreset.diagnose -e sshdoctor_report_dir="$out/report" >"$out/output.txt" 2>&1); then
      if ! "$CORE_VENV/bin/python" "$ROOT/tests/core/check_smoke.py" "$out"; then rc=1; fi
    else
      tail -n 40 "$out/output.txt"; echo "ansible-core $version: the diagnose playbook failed"; rc=1
    fi
    rm -rf "$out"
  done
  if [ "$ran" -eq 0 ]; then return 77; fi
  return "$rc"
}

# test: every stage as its own ./dev process (so that `set -e` holds inside each), then the table.
task_test() {
  local stages=(units integration sanity lint molecule accuracy) stage version start rc results=() failed=0 note notes logs
  local failed_stages=()
  for version in "${CORE_LEGS[@]}"; do stages+=("core-$version"); done
  if [ $# -gt 0 ]; then  # some stages only, in the order given
    for stage in "$@"; do
      if ! printf '%s\n' "${stages[@]}" | grep -xF -- "$stage" >/dev/null; then
        echo "./dev test: unknown stage '$stage' (stages: ${stages[*]})" >&2; return 2
      fi
    done
    stages=("$@")
  fi
  notes=$(mktemp)
  logs=$(mktemp -d)
  for stage in "${stages[@]}"; do
    start=$(date +%s)
    : >"$notes"
    # each stage's output is kept too, so that a failure's own lines can be printed again at the end,
    # where a CI log that shows only its tail still shows them
    set +e  # the stage's own exit code, not the pipeline's, is what counts
    case "$stage" in
      accuracy) if [ -x "$ROOT/tests/accuracy/run" ]; then "$ROOT/dev" accuracy 2>&1 | tee "$logs/$stage"; rc=${PIPESTATUS[0]}
                else rc=77; echo "no tests/accuracy/run" >"$notes"; fi ;;
      core-*) SSHDOCTOR_STAGE_NOTE=$notes "$ROOT/dev" core "${stage#core-}" 2>&1 | tee "$logs/$stage"; rc=${PIPESTATUS[0]} ;;
      *) SSHDOCTOR_STAGE_NOTE=$notes "$ROOT/dev" "$stage" 2>&1 | tee "$logs/$stage"; rc=${PIPESTATUS[0]} ;;
    esac
    set -e
    note=$(head -n1 "$notes")
    case "$rc" in
      0) results+=("$stage|passed|$(( $(date +%s) - start ))|$note") ;;
      77) results+=("$stage|skipped|$(( $(date +%s) - start ))|$note") ;;
      *) results+=("$stage|FAILED|$(( $(date +%s) - start ))|exit $rc"); failed=1; failed_stages+=("$stage") ;;
    esac
  done
  for stage in "${failed_stages[@]}"; do
    log "$stage failed: its failures, then the last lines it printed"
    # pytest's summary lines and the error lines above them
    grep -E '^(FAILED|ERROR) |^E  |^fatal: |^failed: |^[A-Za-z_./-]+\.py:[0-9]+: ' "$logs/$stage" | tail -n 60 || true
    echo "--- last 20 lines of $stage ---"
    tail -n 20 "$logs/$stage"
  done
  rm -rf "$logs"
  log "stages"
  printf '%-14s %-8s %9s  %s\n' STAGE RESULT DURATION NOTE
  local entry name result seconds total=0
  for entry in "${results[@]}"; do
    IFS='|' read -r name result seconds note <<<"$entry"
    total=$((total + seconds))
    printf '%-14s %-8s %9s  %s\n' "$name" "$result" "$(printf '%dm%02ds' $((seconds / 60)) $((seconds % 60)))" "$note"
  done
  printf '%-14s %-8s %9s\n' total "$([ "$failed" = 0 ] && echo passed || echo FAILED)" "$(printf '%dm%02ds' $((total / 60)) $((total % 60)))"
  rm -f "$notes"
  return "$failed"
}

# diagnose and harden run from the caller's directory: -i paths and ./sshdoctor-report are relative to it.
task_diagnose() {
  run_env
  quiet_localhost "$@"
  ansible-playbook sshdoctor.connreset.diagnose "$@"
}

task_harden() {
  run_env
  quiet_localhost "$@"
  ansible-playbook sshdoctor.connreset.harden "$@"
}

task_ansible_doc() {
  run_env
  ansible-doc "$@"
}

task_env() {
  local var
  if [ "${1:-}" = --dev ]; then dev_env; else run_env; fi
  for var in PATH ANSIBLE_COLLECTIONS_PATH ANSIBLE_HOME CONTAINERS_CONF; do
    if [ -n "${!var:-}" ]; then printf 'export %s=%q\n' "$var" "${!var}"; fi
  done
}

task_images() { dev_env; "$ROOT/scripts/build-images" "$@"; podman_env_setup "$ROOT" "$CACHE"; }

cmd=${1:-}
shift || true
case "$cmd" in
  help | -h | --help)
    if [ -n "${1:-}" ]; then task_help "$1"; exit $?; fi
    usage; exit 0 ;;
  "") usage; exit 2 ;;
esac
if ! task_field "$cmd" 1 >/dev/null; then
  echo "./dev: unknown task '$cmd'" >&2
  echo >&2
  usage >&2
  exit 2
fi
for arg in "$@"; do
  case "$arg" in --help) task_help "$cmd"; exit 0 ;; esac
done
if [ "${1:-}" = -h ]; then task_help "$cmd"; exit 0; fi

case "$cmd" in
  diagnose) task_diagnose "$@" ;;
  harden) task_harden "$@" ;;
  ansible-doc) task_ansible_doc "$@" ;;
  env) task_env "$@" ;;
  test) task_test "$@" ;;
  units) task_units "$@" ;;
  integration) task_integration "$@" ;;
  fuzz) task_fuzz "$@" ;;
  ansible-test-units) task_units_ansible_test "$@" ;;
  sanity) task_sanity "$@" ;;
  lint) task_lint ;;
  molecule) task_molecule "$@" ;;
  core) task_core "$@" ;;
  images) task_images "$@" ;;
  lab) dev_env; exec "$ROOT/tests/lab/lab" "$@" ;;
  accuracy) dev_env; exec "$ROOT/tests/accuracy/run" "$@" ;;
  bench) dev_env; exec "$ROOT/tests/performance/run" "$@" ;;
esac
