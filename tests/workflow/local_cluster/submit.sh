#!/usr/bin/env bash
# A "cluster" on this machine, for snakemake-executor-plugin-cluster-generic in the tests:
# submit a jobscript by running it in the background, print its job id and return at once.
# The exit status lands in $LOCAL_CLUSTER_DIR/<id>.exit, which status.sh reads.
set -euo pipefail
jobscript="$1"
dir="${LOCAL_CLUSTER_DIR:?LOCAL_CLUSTER_DIR is not set}"
id="job$(date +%s%N)$$"
# The job writes its own output and closes snakemake's pipe at once (nothing may hold it).
nohup bash -c 'bash "$1" > "$2.out" 2>&1; echo $? > "$2.exit.tmp"; mv "$2.exit.tmp" "$2.exit"' \
    _ "$jobscript" "$dir/$id" < /dev/null > /dev/null 2>&1 &
echo "$id"
