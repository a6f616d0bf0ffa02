# Sourced by every example: where the gateway is, the key if there is one, and the sample files.
# BASE_URL (default http://localhost:8080, i.e. `npm start`), API_KEY (when keys are on),
# OUT_DIR (where videos and models go; default the current folder).
set -euo pipefail
BASE_URL=${BASE_URL:-http://localhost:8080}
OUT_DIR=${OUT_DIR:-.}
EXAMPLES=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PHOTO="$EXAMPLES/photos/astronaut.jpg"
CAPTURE_ZIP="$EXAMPLES/capture-set.zip"
# --fail-with-body: a non-2xx answer prints its problem+json and exits non-zero.
CURL=(curl --silent --show-error --fail-with-body)
if [ -n "${API_KEY:-}" ]; then CURL+=(-H "Authorization: Bearer $API_KEY"); fi
# Standard base64 on one line (GNU coreutils; on macOS use `base64 -i FILE`).
b64() { base64 -w0 "$1"; }
