#!/usr/bin/env bash
# A 3D camera-motion video from the raw photo; with Accept: application/json the answer is JSON
# (video and depth map in base64) instead of the file.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/image3d/videos?duration_ms=1000" -H 'Content-Type: image/jpeg' -H 'Accept: application/json' --data-binary "@$PHOTO" -o "$OUT_DIR/image3d.json"
head -c 300 "$OUT_DIR/image3d.json"
echo "... (all of it in $OUT_DIR/image3d.json)"
