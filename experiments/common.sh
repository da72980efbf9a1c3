# Sourced by the experiment scripts: strict mode, the project root as working directory, the
# project's venv first on PATH, and `log CMD ...`, which echoes each command before running it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.venv/bin:$PATH"
log() { echo "+ $*" >&2; "$@"; }
