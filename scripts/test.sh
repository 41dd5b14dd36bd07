#!/usr/bin/env bash
# The project's one test command. On any machine, fresh or not, it installs and builds what the local
# control plane needs (scripts/test-env.sh up), runs every test (`mvn -B verify`), then stops the control
# plane again. Extra arguments go to Maven. KEEP_TEST_ENV=1 leaves the control plane running afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/test-env.sh up
if [ "${KEEP_TEST_ENV:-0}" != 1 ]; then
  trap 'scripts/test-env.sh down' EXIT
fi
mvn -B verify "$@"
