#!/bin/bash
# VNN-COMP tool interface: prepare_instance.sh v1 CATEGORY ONNX VNNLIB
# exactrelu needs no preparation; this checks that the instance reads (exit 0) and kills nothing.
set -u
if [ "$#" -ne 4 ] || [ "$1" != "v1" ]; then
    echo "usage: $0 v1 CATEGORY ONNX VNNLIB" >&2
    exit 1
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${EXACTRELU_PYTHON:-python3}"
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
# reading the property and the network is the only preparation; a bad instance fails here
"$PYTHON" -m exactrelu prove "$3" "$4" --max-nodes 0 >/dev/null 2>&1
status=$?
# 0 (decided at the root) and 3 (node limit) both mean the instance reads
if [ "$status" -eq 0 ] || [ "$status" -eq 3 ]; then
    exit 0
fi
echo "exactrelu cannot read the instance ($3, $4): status $status" >&2
exit 1
