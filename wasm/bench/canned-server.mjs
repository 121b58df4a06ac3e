// A stand-in server for the peers' overhead benchmark (run as a child process by size.mjs): it
// answers every request with the same small JSON body (a job), whatever the path, so that every
// SDK's "retrieve one object" call is timed against the same server and a raw fetch of its URL.
import { createServer } from "node:http";

const body = JSON.stringify({ id: "job_1", status: "processing", prompt: "a lake at dawn", mode: "text_to_video", resolution: "720p", duration: 5, estimated_cost_cents: 30, created_at: "2026-04-21T15:30:00Z", progress: 40 });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-request-id": "req_1" });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(/** @type {import("node:net").AddressInfo} */ (server.address()).port));
