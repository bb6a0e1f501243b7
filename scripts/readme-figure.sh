#!/usr/bin/env bash
# The README's picture: the summary figure of the bundled model, made by cntscope report itself.
# Run after a change to the plots (npm run build first); test/api/readme-figure.test.ts fails
# while the committed figure differs from what the command makes.
set -euo pipefail
cd "$(dirname "$0")/.."
node dist/bin/cntscope.js report models/digits-mlp.safetensors -o docs/digits-mlp-summary.svg --quiet
