#!/usr/bin/env bash
# Copy the metric definitions and the report's fields from the project's specification into
# docs/, which ships in the package (the README and `cntscope --help` point there).
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-../shared/spec}
for f in metrics report; do
  { echo "<!-- Shipped with the package: a copy of the project's specification, made by scripts/sync-docs.sh. -->"; cat "$spec/$f.md"; } > "docs/$f.md"
done
echo "sync-docs: docs/metrics.md and docs/report.md copied from $spec"
