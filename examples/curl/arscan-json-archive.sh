#!/usr/bin/env bash
# A textured 3D model from a zip sent as base64 JSON; the model zip is saved.
. "$(dirname "$0")/common.sh"
printf '{"archive":"%s","format":"glb"}' "$(b64 "$CAPTURE_ZIP")" |
  "${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models" -H 'Content-Type: application/json' --data-binary @- -o "$OUT_DIR/model-archive.zip"
echo "saved $OUT_DIR/model-archive.zip"
