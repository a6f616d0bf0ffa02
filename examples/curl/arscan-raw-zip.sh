#!/usr/bin/env bash
# A textured 3D model from a capture set sent as the raw zip body; the model zip is saved.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models?format=glb" -H 'Content-Type: application/zip' --data-binary "@$CAPTURE_ZIP" -o "$OUT_DIR/model-glb.zip"
echo "saved $OUT_DIR/model-glb.zip"
