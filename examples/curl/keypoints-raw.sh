#!/usr/bin/env bash
# Faces and landmarks, the image as the raw body; options in the query.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/keypoints?max_faces=3" -H 'Content-Type: image/jpeg' --data-binary "@$PHOTO"
echo
