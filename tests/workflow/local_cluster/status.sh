#!/usr/bin/env bash
# Status of a job submitted by submit.sh: running, success or failed.
set -euo pipefail
exit_file="${LOCAL_CLUSTER_DIR:?LOCAL_CLUSTER_DIR is not set}/$1.exit"
if [[ ! -f "$exit_file" ]]; then
    echo running
elif [[ "$(cat "$exit_file")" == 0 ]]; then
    echo success
else
    echo failed
fi
