#!/usr/bin/env bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SSHDOCTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sshdoctor}
PY=${SSHDOCTOR_PYTHON:-python3}
APT_RUN=(python3 python3-venv python3-pip openssh-client git)
APT_TEST=(podman runc debootstrap iptables nftables iproute2 rsync chromium make)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "run this as root (it installs packages and runs containers)" >&2; exit 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  log "installing apt packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# venv NAME REQUIREMENTS: a virtual environment keyed by its requirements' hash,
# so a changed pin builds a new one and an unchanged one is reused.
venv() {
  local name=$1 req=$2 hash dir
  hash=$(cat "$ROOT/requirements.txt" "$req" | sha256sum | cut -c1-12)
  dir="$CACHE/venv-$name-$hash"
  if [ ! -x "$dir/bin/ansible-playbook" ] || [ ! -f "$dir/.complete" ]; then
    log "creating virtual environment $dir"
    rm -rf "$dir"
    mkdir -p "$CACHE"
    "$PY" -m venv "$dir"
    "$dir/bin/pip" install -q --upgrade pip >/dev/null
    "$dir/bin/pip" install -q -r "$req"
    touch "$dir/.complete"
  fi
  echo "$dir"
}

# The collection as Ansible finds it: <path>/ansible_collections/sshdoctor/connreset -> this tree.
collection_path() {
  local base="$CACHE/collections-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)"
  mkdir -p "$base/ansible_collections/sshdoctor"
  ln -sfn "$ROOT" "$base/ansible_collections/sshdoctor/connreset"
  # Tools built on ansible-compat (molecule, ansible-lint) put ~/.ansible/collections
  # first; an installed copy there would shadow this tree, so point it here too.
  local user_copy="$HOME/.ansible/collections/ansible_collections/sshdoctor/connreset"
  if [ -e "$user_copy" ] && [ "$(readlink -f "$user_copy")" != "$ROOT" ]; then
    log "replacing the installed copy $user_copy with a link to this tree"
    rm -rf "$user_copy"
  fi
  mkdir -p "$(dirname "$user_copy")"
  ln -sfn "$ROOT" "$user_copy"
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
  export PATH="$VENV/bin:$PATH"
  # containers.podman (for molecule's podman driver) comes bundled with the ansible package.
  export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS:$("$VENV/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')"
  # shellcheck source=/dev/null
  source "$ROOT/scripts/podman-env"
  podman_env_setup "$ROOT" "$CACHE"
}

# ansible-test needs the collection at .../ansible_collections/sshdoctor/connreset and, here,
# a local stand-in for the pip bootstrap script it would download.
ansible_test_tree() {
  local pip_version tree
  pip_version=$("$VENV/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
  mkdir -p "$HOME/.ansible/test/cache"
  cp "$ROOT/scripts/get-pip-offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  # One tree per clone, so that two clones on one machine do not share it.
  tree="$CACHE/ansible-test-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)/ansible_collections/sshdoctor/connreset"
  rm -rf "$tree" && mkdir -p "$tree"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' ) \
    | rsync -a --files-from=- "$ROOT/" "$tree/"
  echo "$tree"
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
  dev_env
  local tree; tree=$(ansible_test_tree)
  log "ansible-test sanity"
  (cd "$tree" && ansible-test sanity --venv --python 3.11 --color no "$@")
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
  log "changelog fragments"
  (cd "$ROOT" && antsibull-changelog lint)
}

task_molecule() {
  dev_env
  "$ROOT/scripts/build-images"
  podman_env_setup "$ROOT" "$CACHE"
  local scenarios=("$@")
  if [ ${#scenarios[@]} -eq 0 ]; then
    mapfile -t scenarios < <(cd "$ROOT/molecule" && ls -d */ | tr -d / )
  fi
  for s in "${scenarios[@]}"; do
    log "molecule scenario $s"
    (cd "$ROOT" && molecule test -s "$s")
  done
}

task_test() {
  local failed=()
  task_units || failed+=(units)
  task_integration || failed+=(integration)
  task_sanity || failed+=(sanity)
  task_lint || failed+=(lint)
  task_molecule || failed+=(molecule)
  if [ -x "$ROOT/tests/accuracy/run" ]; then "$ROOT/tests/accuracy/run" || failed+=(accuracy); fi
  if [ ${#failed[@]} -gt 0 ]; then
    log "FAILED: ${failed[*]}"
    return 1
  fi
  log "all tests passed"
}

# Both run from the caller's directory: -i paths and ./sshdoctor-report are relative to it.
task_diagnose() {
  run_env
  ansible-playbook sshdoctor.connreset.diagnose "$@"
}

task_harden() {
  run_env
  ansible-playbook sshdoctor.connreset.harden "$@"
}

task_images() { dev_env; "$ROOT/scripts/build-images" "$@"; podman_env_setup "$ROOT" "$CACHE"; }

cmd=${1:-help}; shift || true
case "$cmd" in
  diagnose) task_diagnose "$@" ;;
  harden) task_harden "$@" ;;
  test) task_test ;;
  units) task_units "$@" ;;
  integration) task_integration "$@" ;;
  fuzz) task_fuzz "$@" ;;
  ansible-test-units) task_units_ansible_test "$@" ;;
  sanity) task_sanity "$@" ;;
  lint) task_lint ;;
  molecule) task_molecule "$@" ;;
  images) task_images "$@" ;;
  lab) dev_env; exec "$ROOT/tests/lab/lab" "$@" ;;
  accuracy) dev_env; exec "$ROOT/tests/accuracy/run" "$@" ;;
  bench) dev_env; exec "$ROOT/tests/performance/run" "$@" ;;
  env) dev_env; echo "export PATH=\"$PATH\" ANSIBLE_COLLECTIONS_PATH=\"$ANSIBLE_COLLECTIONS_PATH\" CONTAINERS_CONF=\"${CONTAINERS_CONF:-}\"" ;;
  *) sed -n '2,14p' "$ROOT/dev"; exit 2 ;;
esac
