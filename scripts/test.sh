#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs Watchkeeper with its test
# dependencies, installs and starts the real Kafka broker and ClickHouse server
# (scripts/services.sh), then runs pytest. Extra arguments go to pytest, e.g.
#   bash scripts/test.sh -m 'not torture'     # skip the slow fault-injection tests
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
bash scripts/services.sh up
python3 -m pytest "$@"
