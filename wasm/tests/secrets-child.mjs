// @ts-check
// Run by client.test.mjs with NODE_DEBUG=* (every Node core debug log: http, net, fetch, undici…):
// uses the key and the JWT in every way a program might, prints every error and the client in
// every form to the console, and exits. The parent checks that neither secret appears in the output.
import { inspect } from "node:util";
import * as usv from "usvideo";

const key = process.env.USVIDEO_API_KEY ?? "";
const jwt = process.env.USVIDEO_TEST_JWT ?? "";
const base = process.env.USVIDEO_BASE_URL ?? "";
const ctl = (/** @type {unknown} */ f) => fetch(base.replace(/\/v1$/, "/_emulator/faults"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(f) });
/** @param {unknown} e */
const show = (e) => {
  console.log(e);
  console.error(inspect(e, { showHidden: true, depth: Infinity }));
  console.info(String(e), JSON.stringify(e));
  console.debug(e instanceof Error ? e.stack : "");
  console.dir(e, { depth: Infinity });
};
const client = new usv.USVideo({ apiKey: key, baseURL: base, maxRetries: 1 });
console.dir(client, { showHidden: true, depth: Infinity });
console.log(String(client), JSON.stringify(client));
console.log(await client.account.retrieve());
const made = await client.apiKeys.create({ jwt, name: "secrets" });
console.log(made.id);
await ctl([
  { method: "GET", path: "/v1/account", status: 401, times: 5, body: { error: { code: "unauthorized", message: `bad key Bearer ${key} jwt ${jwt}` } } },
  { method: "POST", path: "/v1/api-keys", status: 500, times: 5, content_type: "text/plain", body: `upstream saw Authorization: Bearer ${jwt} and ${key}` },
  { method: "GET", path: "/v1/videos/*", drop: "before", times: 5 },
]);
for (const call of [
  () => client.account.retrieve(),
  () => client.apiKeys.create({ jwt }),
  () => client.apiKeys.create({ jwt: `${jwt}\n` }),
  () => client.apiKeys.create({ jwt: key }),
  () => client.videos.retrieve("job_1"),
  () => new usv.USVideo({ apiKey: `${key}\r\nX: y`, baseURL: base }).account.retrieve(),
  () => new usv.USVideo({ apiKey: key, baseURL: "http://127.0.0.1:1/v1", maxRetries: 0 }).account.retrieve(),
  async () => (await client.videos.batch([{ prompt: "p", mode: "text_to_video" }], { checkBalance: true })).next(),
]) {
  try {
    await call();
  } catch (e) {
    show(e);
  }
}
const batch = await client.videos.batch([{ prompt: "p", mode: "text_to_video" }]);
console.log(batch, batch.snapshot());
