#!/usr/bin/env bash
# The README quickstart as a script, so it cannot rot: start the service on a fresh data dir,
# take the API key it prints, subscribe a local receiver, publish a call.ended event, and
# check the delivery succeeded. Run from anywhere after `npm run build`: bash examples/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
free_port () { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PORT=$(free_port)
RECEIVER_PORT=$(free_port)
PIDS=()
cleanup () {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Start the service. The receiver below is on 127.0.0.1, so private networks are allowed
#    (never do this in production).
KEJUE_DATA_DIR="$WORK/data" KEJUE_PORT="$PORT" KEJUE_ALLOW_PRIVATE_NETWORKS=true \
  node dist/cli/main.js serve > "$WORK/serve.out" 2> "$WORK/serve.log" &
PIDS+=($!)

# 2. A receiver that prints what it gets (any HTTP server answering 2xx will do).
node -e "require('http').createServer((req, res) => { let b = ''; req.on('data', c => b += c);
  req.on('end', () => { console.log(req.headers['x-kejue-event'], req.headers['x-kejue-signature'], b); res.end('ok') }) })
  .listen($RECEIVER_PORT, '127.0.0.1')" > "$WORK/receiver.out" &
PIDS+=($!)

for _ in $(seq 1 100); do grep -q 'Workspace API key' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
cat "$WORK/serve.out"
API_KEY=$(sed -n 's/.*Workspace API key: *\(kw_[^ ]*\).*/\1/p' "$WORK/serve.out")
BASE="http://127.0.0.1:$PORT/api/v1"
[ -n "$API_KEY" ] || { echo "no API key printed" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# 3. Subscribe the receiver to call.ended. The response shows the signing secret, once.
curl -fsS -X POST "$BASE/webhooks" \
  -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' \
  -d "{\"url\": \"http://127.0.0.1:$RECEIVER_PORT/webhooks/kejue\", \"events\": [\"call.ended\"]}"
echo

# 4. Publish a call.ended event: 202 {event_id, deliveries: 1}.
curl -fsS -X POST "$BASE/events" \
  -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' \
  -d '{"event": "call.ended", "data": {"job_id": "job_123", "contact_id": "ct_789", "status": "completed",
       "ended_reason": "agent_hangup", "duration_seconds": 295, "transcript": "Agent: Hello, this is Sara from...",
       "recording_url": "https://recordings.kejue.co/rec_1",
       "retry": {"will_retry": false, "next_retry_at": null, "attempt_number": 1, "max_attempts": 3}}}'
echo

# 5. Read the delivery log until the delivery succeeded.
for _ in $(seq 1 100); do
  DELIVERIES=$(curl -fsS "$BASE/deliveries" -H "X-API-Key: $API_KEY")
  case "$DELIVERIES" in *'"status":"succeeded"'*) break ;; esac
  sleep 0.1
done
echo "$DELIVERIES"
case "$DELIVERIES" in *'"status":"succeeded"'*) ;; *) echo "the delivery did not succeed" >&2; exit 1 ;; esac
echo "receiver got: $(cat "$WORK/receiver.out")"
