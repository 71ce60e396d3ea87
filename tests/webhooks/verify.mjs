// Verifies webhook deliveries with the Standard Webhooks reference library (`standardwebhooks`,
// pinned in package-lock.json): an implementation independent of the gateway's signing code.
// Reads a JSON array of {secret, id, timestamp, signature, body} on stdin and writes a JSON
// array of results, one per delivery in the same order: {"ok": true, "type": ...} or
// {"ok": false, "error": ...}.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((d) => {
  try {
    const payload = new Webhook(d.secret).verify(d.body, {
      "webhook-id": d.id,
      "webhook-timestamp": d.timestamp,
      "webhook-signature": d.signature,
    });
    return { ok: true, type: payload.type };
  } catch (error) {
    return { ok: false, error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify(results));
