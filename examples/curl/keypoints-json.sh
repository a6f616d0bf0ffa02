#!/usr/bin/env bash
# Faces and landmarks, the image as base64 in JSON.
. "$(dirname "$0")/common.sh"
printf '{"image":"%s","max_faces":3}' "$(b64 "$PHOTO")" |
  "${CURL[@]}" -X POST "$BASE_URL/v1/keypoints" -H 'Content-Type: application/json' --data-binary @-
echo
