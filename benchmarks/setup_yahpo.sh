#!/usr/bin/env bash
# Create the separate virtual environment the YAHPO Gym benchmark problems run in.
#
# yahpo-gym 1.0.2 pins numpy<2 and ConfigSpace<=0.6.1 and needs onnxruntime, which
# the project's main environment cannot share, so benchmarks/samplers.py talks to it
# through benchmarks/yahpo_server.py in this venv (JSON lines over a pipe).
#
#   bash benchmarks/setup_yahpo.sh            # -> benchmarks/.venv-yahpo (git-ignored)
#   YAHPO_VENV=/elsewhere PYTHON=python3.11 bash benchmarks/setup_yahpo.sh
#
# The surrogate data is not downloaded: it is read from $YAHPO_DATA, by default
# ../shared/benchdata/yahpo next to the repository (see that folder's README).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${YAHPO_VENV:-$here/.venv-yahpo}"
python="${PYTHON:-python3}"
data="${YAHPO_DATA:-$here/../../shared/benchdata/yahpo}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "yahpo-gym==1.0.2" "numpy<2" "ConfigSpace<=0.6.1" "onnxruntime"

if [ -d "$data" ]; then
    YAHPO_LOCAL_CONFIG="$venv/yahpo_gym_config.yaml" "$venv/bin/python" "$here/yahpo_server.py" --data "$data" --self-test
else
    echo "setup_yahpo.sh: venv ready at $venv; no surrogate data at $data (set YAHPO_DATA) - self-test skipped" >&2
fi
echo "$venv"
