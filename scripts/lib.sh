# Shared helpers for the project's shell scripts (sourced, not run).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$REPO_ROOT/.run"
export npm_config_loglevel="${npm_config_loglevel:-error}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
fail() { printf '\033[31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# Installs npm packages when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  cd "$REPO_ROOT"
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    step "Installing npm packages"
    # npm ci: exactly the committed lock (it lists every platform's optional binaries), and the tree stays clean.
    npm ci --no-audit --no-fund
  fi
}
