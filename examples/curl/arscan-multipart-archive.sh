#!/usr/bin/env bash
# A textured 3D model (OBJ + MTL + texture) from a zip sent as a multipart "archive" file.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models" -F "archive=@$CAPTURE_ZIP" -F format=obj -F texture_size=512 -o "$OUT_DIR/model-obj.zip"
echo "saved $OUT_DIR/model-obj.zip"
