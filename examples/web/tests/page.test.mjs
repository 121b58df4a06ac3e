// @ts-check
// End to end: build the page with Vite, serve it with `vite preview`, whose proxy (vite.config.ts)
// adds the key to the page's keyless calls and forwards them to the emulator; drive it in headless
// Chromium (playwright-core, Debian's chromium); saves a screenshot.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, createServer, preview } from "vite";
import { chromium } from "playwright-core";
import { startEmulator } from "../../../wasm/tests/emulator.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = fileURLToPath(new URL("./out/", import.meta.url));

/** @type {Awaited<ReturnType<typeof startEmulator>>} */
let emu;
/** @type {import("vite").PreviewServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** The account whose key the proxy adds. @type {{ api_key: string, email: string }} */
let proxied;

before(async () => {
  emu = await startEmulator(["--time-scale", "50"]);
  proxied = await emu.account(10_000);
  // What the proxy reads when the preview server starts (vite.config.ts).
  process.env.USVIDEO_BASE_URL = emu.api;
  process.env.USVIDEO_API_KEY = proxied.api_key;
  await build({ root, logLevel: "warn" });
  server = await preview({ root, logLevel: "warn", preview: { port: 0, host: "127.0.0.1" } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => server?.httpServer.close(r));
  emu?.stop();
});

/**
 * What a page does that a test checks: every API call it makes, with the `Authorization` it
 * carried (none, from a keyless client), and its errors (thrown, or logged to the console).
 * @param {import("playwright-core").Page} page
 */
function watch(page) {
  /** @type {{ url: string, authorization: string | undefined }[]} */
  const calls = [];
  /** @type {string[]} */
  const errors = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/v1/")) calls.push({ url: r.url(), authorization: r.headers()["authorization"] });
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { calls, errors };
}

test("the page estimates as you type, generates a video through the proxy and shows its progress", async () => {
  const before = (await emu.ledger(proxied.email)).jobs_created;
  const url = server.resolvedUrls?.local[0];
  assert.ok(url);
  const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
  const { calls, errors } = watch(page);
  await page.goto(`${url}?fast`);
  await page.waitForFunction(() => document.getElementById("estimate")?.textContent?.includes("$"));
  assert.equal(await page.textContent("#estimate"), "$1.20 (120 cents)");
  await page.selectOption("#resolution", "2k");
  await page.fill("#duration", "10");
  assert.equal(await page.textContent("#estimate"), "$3.60 (360 cents)");
  await page.fill("#duration", "11");
  assert.match((await page.textContent("#error")) ?? "", /duration/);
  assert.equal(await page.isDisabled("#generate"), true);
  await page.fill("#duration", "2");
  await page.selectOption("#resolution", "720p");
  assert.equal(await page.textContent("#estimate"), "$0.12 (12 cents)");

  await page.click("#generate");
  await page.waitForFunction(() => /submitted|pending|processing/.test(document.getElementById("status")?.textContent ?? ""), null, { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Completed"), null, { timeout: 60_000 });
  assert.equal(await page.getAttribute("#progress", "value"), "100");
  const src = await page.getAttribute("#video", "src");
  assert.match(src ?? "", /^http:\/\/127\.0\.0\.1:\d+\//);
  await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.getElementById("video")).readyState >= 1, null, { timeout: 10_000 });
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: `${out}page.png`, fullPage: true });
  // One job, made with the key the proxy added: the page held none and sent none.
  assert.equal((await emu.ledger(proxied.email)).jobs_created, before + 1);
  assert.deepEqual(errors, []);
  assert.ok(calls.length >= 2 && calls.every((c) => c.url.startsWith(url) && c.authorization === undefined), JSON.stringify(calls));
  assert.ok(!(await page.content()).includes(proxied.api_key.slice(3)));
});

test("without dangerouslyAllowBrowser an sd_ key is refused in the browser", async () => {
  const url = server.resolvedUrls?.local[0];
  const page = await browser.newPage();
  await page.goto(`${url}?strict&baseURL=${encodeURIComponent(emu.api)}&apiKey=sd_test_key_000000001`);
  await page.waitForFunction(() => document.getElementById("estimate")?.textContent?.includes("$"));
  const text = (await page.textContent("#error")) ?? "";
  assert.match(text, /^UsageError: refusing to use an API key in a browser/);
  assert.match(text, /proxy/);
  assert.ok(!text.includes("test_key_0000"));
  assert.equal(await page.isDisabled("#generate"), true);
});

test("the package runs in a module Web Worker, keyless through the proxy; there too an sd_ key needs dangerouslyAllowBrowser", async () => {
  const before = (await emu.ledger(proxied.email)).jobs_created;
  const acct = await emu.account(5_000);
  const url = server.resolvedUrls?.local[0];
  const query = `baseURL=${encodeURIComponent(emu.api)}&apiKey=${encodeURIComponent(acct.api_key)}`;
  const page = await browser.newPage();
  const { calls, errors } = watch(page);
  await page.goto(`${url}worker.html`);
  await page.waitForFunction(() => document.getElementById("result")?.textContent !== "Working…", null, { timeout: 60_000 });
  const log = (await page.textContent("#log")) ?? "";
  assert.match((await page.textContent("#result")) ?? "", /^Completed job_/, log);
  assert.match(log, /"type":"estimate","cents":12\b/);
  assert.match(log, /"type":"progress"/);
  assert.match(log, /"status":"completed","video_url":"http:\/\/127\.0\.0\.1:\d+\//);
  assert.equal((await emu.ledger(proxied.email)).jobs_created, before + 1);
  assert.deepEqual(errors, []);
  assert.ok(calls.length >= 2 && calls.every((c) => c.authorization === undefined), JSON.stringify(calls));

  const strict = await browser.newPage();
  await strict.goto(`${url}worker.html?strict&${query}`);
  await strict.waitForFunction(() => document.getElementById("result")?.textContent !== "Working…", null, { timeout: 10_000 });
  const text = (await strict.textContent("#result")) ?? "";
  assert.match(text, /^UsageError \(browser_api_key\): refusing to use an API key in a browser/);
  assert.ok(!text.includes(acct.api_key.slice(3)));
  assert.equal((await emu.ledger(acct.email)).jobs_created, 0, "the refused worker sent nothing");
});

test("the dev server (`npm run dev`) serves the linked package's module and proxies keyless calls too", async () => {
  const before = (await emu.ledger(proxied.email)).jobs_created;
  const dev = await createServer({ root, logLevel: "warn", server: { port: 0, host: "127.0.0.1" } });
  try {
    await dev.listen();
    const url = dev.resolvedUrls?.local[0];
    assert.ok(url);
    const page = await browser.newPage();
    const { calls, errors } = watch(page);
    await page.goto(`${url}?fast`);
    // The estimate needs the WebAssembly module: shown only if the dev server served it.
    await page.waitForFunction(() => document.getElementById("estimate")?.textContent?.includes("$"), null, { timeout: 30_000 });
    await page.fill("#duration", "1");
    await page.selectOption("#resolution", "720p");
    await page.click("#generate");
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Completed"), null, { timeout: 60_000 });
    assert.equal((await emu.ledger(proxied.email)).jobs_created, before + 1);
    assert.ok(calls.length >= 2 && calls.every((c) => c.authorization === undefined), JSON.stringify(calls));
    assert.deepEqual(errors, []);
  } finally {
    await dev.close();
  }
});

test("a .wasm the server does not serve fails the package's import with an error that names it", async () => {
  const url = server.resolvedUrls?.local[0];
  const page = await browser.newPage();
  const { errors } = watch(page);
  await page.route("**/*.wasm", (route) => route.fulfill({ status: 403, contentType: "text/plain", body: "Forbidden" }));
  await page.goto(`${url}?fast`);
  const named = (/** @type {string} */ e) => /usvideo: its WebAssembly module did not load from http:\/\/127\.0\.0\.1:\d+\/\S+\.wasm: .*Vite and other bundlers/.test(e);
  for (let i = 0; i < 200 && !errors.some(named); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(errors.some(named), errors.join("\n"));
});
