#!/usr/bin/env bash
# The async flow: submit a reconstruction as a job, follow it, fetch the model when it is done.
# Sending the same Idempotency-Key again (a retry after a dropped connection) gives the same job.
. "$(dirname "$0")/common.sh"
KEY="capture-$(date +%s)-$$"
# -w prints the Location header: where the job lives.
JOB_URL=$("${CURL[@]}" -X POST "$BASE_URL/v1/arscan/models?format=glb" -H 'Content-Type: application/zip' \
  -H 'Prefer: respond-async' -H "Idempotency-Key: $KEY" --data-binary "@$CAPTURE_ZIP" -o /dev/null -w '%header{location}')
echo "job: $JOB_URL"
# Poll until it is no longer queued or running (or follow "$BASE_URL$JOB_URL/events" with curl -N).
while true; do
  STATUS=$("${CURL[@]}" "$BASE_URL$JOB_URL" | sed -E 's/.*"status":"([a-z]+)".*/\1/')
  echo "status: $STATUS"
  case "$STATUS" in queued|running) sleep 1 ;; *) break ;; esac
done
# The result is what the synchronous route answers: here the model zip (a failed job's problem
# makes curl fail, printing it).
"${CURL[@]}" "$BASE_URL$JOB_URL/result" -o "$OUT_DIR/model-job.zip"
echo "model: $OUT_DIR/model-job.zip"
