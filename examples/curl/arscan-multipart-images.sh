#!/usr/bin/env bash
# A textured 3D model from photos sent as several multipart "images" files.
. "$(dirname "$0")/common.sh"
args=()
for photo in "$EXAMPLES"/photos/*.jpg; do args+=(-F "images=@$photo"); done
"${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models" "${args[@]}" -o "$OUT_DIR/model-images.zip"
echo "saved $OUT_DIR/model-images.zip"
