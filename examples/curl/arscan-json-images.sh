#!/usr/bin/env bash
# A textured 3D model from photos sent as a JSON list of {name, data}; the answer as JSON
# (Accept: application/json), the model zip in base64 beside its vertex count.
. "$(dirname "$0")/common.sh"
items=()
for photo in "$EXAMPLES"/photos/*.jpg; do items+=("{\"name\":\"$(basename "$photo")\",\"data\":\"$(b64 "$photo")\"}"); done
printf '{"images":[%s],"format":"glb"}' "$(IFS=,; echo "${items[*]}")" |
  "${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary @- -o "$OUT_DIR/model.json"
head -c 300 "$OUT_DIR/model.json"
echo "... (all of it in $OUT_DIR/model.json)"
