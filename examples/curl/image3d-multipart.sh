#!/usr/bin/env bash
# A 3D camera-motion GIF from one photo, sent as a multipart file.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/image3d/videos" -F "image=@$PHOTO" -F motion=circle -F format=gif -F duration_ms=1500 -o "$OUT_DIR/image3d.gif"
echo "saved $OUT_DIR/image3d.gif"
