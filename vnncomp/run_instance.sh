#!/bin/bash
# VNN-COMP tool interface: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS_FILE TIMEOUT
# Writes RESULTS_FILE: "unsat" (holds, proved exactly), "sat" and the exact witness
# (violated), "timeout" when the time limit is reached, "error" on bad input.
set -u
if [ "$#" -ne 6 ] || [ "$1" != "v1" ]; then
    echo "usage: $0 v1 CATEGORY ONNX VNNLIB RESULTS_FILE TIMEOUT" >&2
    exit 1
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${EXACTRELU_PYTHON:-python3}"
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
ONNX="$3"; VNNLIB="$4"; RESULT="$5"; TIMEOUT="$6"
rm -f "$RESULT"
# leave a second for start-up and writing
LIMIT=$(awk -v t="$TIMEOUT" 'BEGIN { l = t - 1; if (l < 1) l = 1; print l }')
"$PYTHON" -m exactrelu prove "$ONNX" "$VNNLIB" --time-limit "$LIMIT" --result "$RESULT" >/dev/null
status=$?
case "$status" in
    0) ;;                                  # holds or violated: the result file is written
    3) echo "timeout" > "$RESULT" ;;       # a limit: undecided
    2) echo "error" > "$RESULT" ;;         # bad input
    *) echo "error" > "$RESULT" ;;
esac
exit 0
