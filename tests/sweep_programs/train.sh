#!/bin/sh
# A non-Python program: reads its parameters from the environment, reports on stdout.
x="$HYPERDIAL_PARAM_X"
echo "running with x=$x trial=$HYPERDIAL_TRIAL"
echo "hyperdial: {\"loss\": $(awk "BEGIN { print ($x - 2) * ($x - 2) }")}"
