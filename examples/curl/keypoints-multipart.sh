#!/usr/bin/env bash
# Faces and landmarks, the image as a multipart file.
. "$(dirname "$0")/common.sh"
"${CURL[@]}" -X POST "$BASE_URL/v1/keypoints" -F "image=@$PHOTO" -F max_faces=3
echo
