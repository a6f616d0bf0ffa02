#!/usr/bin/env bash
# A 3D camera-motion video from one photo, sent as base64 JSON; the video is saved.
. "$(dirname "$0")/common.sh"
printf '{"image":"%s","motion":"zoom","duration_ms":2000,"format":"mp4"}' "$(b64 "$PHOTO")" |
  "${CURL[@]}" -X POST "$BASE_URL/v1/image3d/videos" -H 'Content-Type: application/json' --data-binary @- -o "$OUT_DIR/image3d.mp4"
echo "saved $OUT_DIR/image3d.mp4"
