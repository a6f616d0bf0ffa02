#!/usr/bin/env bash
# Regenerates gen/thrift/ from idl/ with Debian's thrift-compiler 0.17 (js:node,es6,ts).
# Usage: scripts/gen-thrift.sh [OUT_DIR]   (default gen/thrift; the staleness test passes a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gen/thrift}"
command -v thrift >/dev/null || { echo "thrift compiler not found: apt-get install thrift-compiler" >&2; exit 1; }
mkdir -p "$out"
find "$out" -maxdepth 1 \( -name '*.js' -o -name '*.d.ts' \) -delete
for f in idl/*.thrift; do
  thrift -r --gen js:node,es6,ts -out "$out" "$f"
done
# The project is ESM; the generated code is CommonJS.
printf '{ "type": "commonjs" }\n' > "$out/package.json"
# Records which IDL the code came from, so a test can tell stale code without the compiler.
(cd idl && sha256sum *.thrift) > "$out/IDL.sha256"
