// @ts-check
// The shared conformance vectors (tests/vectors/) against the built package: validation, pricing,
// requests, responses, the rate limiter and whole transcripts of the state machines. What is tested
// here is the marshalling: number vs bigint, null vs absent, JSON across the boundary, error classes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as usv from "usvideo";
// The package's internal module (same instance as the package's: same resolved URL).
import * as w from "../pkg/gen/usvideo_wasm.js";
import { errorFromRecord } from "../pkg/errors.js"; // internal: not exported by the package

const dir = new URL("../../tests/vectors/", import.meta.url);
/** @param {string} name */
const load = (name) => JSON.parse(readFileSync(new URL(name, dir), "utf8"));
const J = JSON.stringify;

/** Runs `f`; a thrown core record (JSON text) is returned as `{error}`. @param {() => any} f */
function attempt(f) {
  try {
    return { ok: f() };
  } catch (e) {
    if (typeof e === "string") return { error: JSON.parse(e) };
    if (e instanceof usv.USVideoError) return { error: { ...e, kind: e.kind, message: e.message, request_id: e.requestId, retry_after_ms: e.retryAfterMs, job_id: e.jobId, job_status: e.jobStatus, idempotency_key: e.idempotencyKey } };
    throw e;
  }
}

/** Subset match: every key of `exp` in `act`; arrays element-wise, same length; null = absent or null. */
/** @param {any} act @param {any} exp @returns {string | null} */
function subset(act, exp, path = "$") {
  if (exp === null) return act === null || act === undefined ? null : `${path}: expected absent, got ${J(act)}`;
  if (Array.isArray(exp)) {
    if (!Array.isArray(act) || act.length !== exp.length) return `${path}: expected ${J(exp)}, got ${J(act)}`;
    for (let i = 0; i < exp.length; i++) {
      const m = subset(act[i], exp[i], `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (typeof exp === "object") {
    if (typeof act !== "object" || act === null) return `${path}: expected an object, got ${J(act)}`;
    for (const [k, v] of Object.entries(exp)) {
      const m = subset(act[k], v, `${path}.${k}`);
      if (m) return m;
    }
    return null;
  }
  return act === exp ? null : `${path}: expected ${J(exp)}, got ${J(act)}`;
}

/** Semantic JSON equality. */
/** @param {any} a @param {any} b @returns {boolean} */
function equal(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => equal(a[k], b[k]));
  }
  return a === b;
}

/** Checks an error record against a vector's error expectation. */
/** @param {any} err @param {any} exp */
function checkError(err, exp, ctx = "") {
  assert.ok(err, `${ctx}expected an error ${J(exp)}`);
  for (const [k, v] of Object.entries(exp)) {
    if (k === "message_contains") assert.ok(err.message.includes(v), `${ctx}message ${J(err.message)} lacks ${J(v)}`);
    else if (k === "message_not_contains") assert.ok(!err.message.includes(v), `${ctx}message ${J(err.message)} has ${J(v)}`);
    else if (v === null) assert.ok(err[k] === undefined || err[k] === null, `${ctx}${k} should be absent, got ${J(err[k])}`);
    else assert.deepEqual(err[k], v, `${ctx}${k}`);
  }
}

/** The JS error class for a kind, through the package. */
/** @param {any} record */
function checkClass(record) {
  const e = errorFromRecord(record);
  assert.ok(e instanceof usv.USVideoError);
  assert.equal(e.name, record.class === "CancelledError" ? "AbortError" : record.class);
}

/** Response inputs: headers as `name\0value\0…`, body as bytes. */
/** @param {any} r */
function response(r) {
  const headers = (r.headers ?? []).map((/** @type {[string, string]} */ [n, v]) => `${n}\0${v}\0`).join("");
  let body = new Uint8Array();
  if (r.body !== undefined) body = new TextEncoder().encode(r.body);
  else if (r.body_json !== undefined) body = new TextEncoder().encode(J(r.body_json));
  else if (r.body_base64 !== undefined) body = new Uint8Array(Buffer.from(r.body_base64, "base64"));
  return { status: r.status, headers, body };
}

/** Whether `x` holds an integer JSON.parse could not keep exactly (beyond 2^53). @param {any} x @returns {boolean} */
const unsafe = (x) => (typeof x === "number" ? Number.isInteger(x) && !Number.isSafeInteger(x) : x !== null && typeof x === "object" && Object.values(x).some(unsafe));
/** Tags a JS harness must skip: JSON.parse loses `5.0` and integers beyond 2^53 (tagged, or an
 * expected result holding one, which JS numbers cannot compare exactly). */
const jsSkip = (/** @type {any} */ v) =>
  v.skip ?? (v.tags?.includes("float_integral") ? "JSON.parse drops the fraction of 5.0" : v.tags?.includes("big_integer") || unsafe(v.expected?.ok) ? "beyond 2^53 in JS numbers" : undefined);

// ---- validation -----------------------------------------------------------------------------------

/**
 * A validation vector run the way the package meets the input: the machine its call starts (the
 * module exports no separate validator, which would be code no app uses). Returns the first
 * output (`send`) or throws the validation error record.
 * @param {string} target @param {any} input
 */
function validateThrough(target, input) {
  // The service's own URL: there an empty key (no key) is refused, as `api_key_empty` expects;
  // to a proxy a keyless client's call would go out without one.
  const client = new w.Client("https://usvideoapi.com/v1", target === "api_key" ? input : "sd_vectors_0123456789", undefined);
  try {
    /** @type {Record<string, any>} */
    const specs = {
      create_request: { machine: "create", request: input, idempotency_key: "vectors-key-0001" },
      job_id: { machine: "call", call: { target: "retrieve_video", id: input } },
      api_key: { machine: "call", call: { target: "retrieve_account" } },
      jwt: { machine: "call", call: { target: "create_api_key", jwt: input } },
      list_params: { machine: "call", call: { target: "list_videos", params: input } },
    };
    const m = client.start(J(specs[target]), new Uint8Array(24), 0);
    try {
      return JSON.parse(m.poll(0));
    } finally {
      m.free();
    }
  } finally {
    client.free();
  }
}

// bad_input.json has validation.json's format and schema (49 invalid inputs every language refuses).
for (const [file, v] of ["validation", "bad_input"].flatMap((f) => load(`${f}.json`).vectors.map((/** @type {any} */ v) => [f, v]))) {
  test(`${file}/${v.name}`, { skip: jsSkip(v) }, () => {
    /** @type {any} */
    const r = attempt(() => validateThrough(v.target, v.input));
    if ("ok" in v.expected) {
      assert.ok("ok" in r, `refused: ${J(r.error)}`);
      assert.equal(r.ok.t, "send");
      // What was accepted is what is sent: the create body, the list query.
      if (v.target === "create_request") assert.ok(equal(JSON.parse(r.ok.body), v.expected.ok), `${r.ok.body} != ${J(v.expected.ok)}`);
      if (v.target === "list_params") {
        const query = Object.fromEntries(new URL(r.ok.url).searchParams);
        const want = Object.fromEntries(Object.entries(v.expected.ok).map(([k, x]) => [k, String(x)]));
        assert.deepEqual(query, want);
      }
    } else {
      assert.ok(r.error, `accepted: ${J(r.ok)}`);
      assert.equal(r.error.kind, "validation");
      checkClass(r.error);
      const got = new Set(r.error.issues.map((/** @type {any} */ i) => `${i.field}/${i.code}`));
      const want = new Set(v.expected.issues.map((/** @type {any} */ i) => `${i.field}/${i.code}`));
      assert.deepEqual([...got].sort(), [...want].sort());
      for (const i of v.expected.issues) {
        if (i.message_contains) assert.ok(r.error.issues.some((/** @type {any} */ x) => x.field === i.field && x.message.includes(i.message_contains)), `${i.field}: ${J(r.error.issues)}`);
      }
      if (v.message_not_contains) assert.ok(r.error.issues.every((/** @type {any} */ x) => !x.message.includes(v.message_not_contains)) && !r.error.message.includes(v.message_not_contains));
    }
  });
}

// ---- pricing --------------------------------------------------------------------------------------

for (const v of load("pricing.json").vectors) {
  test(`pricing/${v.name}`, { skip: jsSkip(v) }, () => {
    if (v.target === "from_json") {
      const r = attempt(() => (v.input.estimates ?? [{}]).map((/** @type {any} */ e) => usv.estimateCost(e, v.input.table)));
      if (v.expected.error) assert.ok(r.error, `accepted: ${J(r.ok)}`);
      else assert.deepEqual(r.ok, v.expected.cents, J(r.error));
      return;
    }
    const input = v.target === "estimate_all" ? v.input.requests : v.input;
    const r = attempt(() => usv.estimateCost(input));
    if ("cents" in v.expected) {
      assert.equal(r.ok, v.expected.cents, J(r.error));
      assert.equal(typeof r.ok, "number");
    } else {
      assert.ok(r.error, `accepted: ${r.ok}`);
      assert.equal(r.error.field, v.expected.issue.field);
      assert.equal(r.error.code, v.expected.issue.code);
    }
  });
}

// ---- requests -------------------------------------------------------------------------------------

/** Checks a `send` output against a request expectation. */
/** @param {any} s @param {any} exp */
function checkSend(s, exp, ctx = "") {
  const url = new URL(s.url);
  const headers = new Map(s.headers.map((/** @type {[string, string]} */ [n, v]) => [n.toLowerCase(), v]));
  for (const [k, v] of Object.entries(exp)) {
    if (k === "method") assert.equal(s.method, v, `${ctx}method`);
    else if (k === "url") assert.equal(s.url, v, `${ctx}url`);
    else if (k === "path") assert.equal(url.pathname, v, `${ctx}path`);
    else if (k === "query") assert.equal(s.url.includes("?") ? s.url.slice(s.url.indexOf("?") + 1) : null, v, `${ctx}query`);
    else if (k === "headers") for (const [n, hv] of Object.entries(v)) assert.equal(headers.get(n.toLowerCase()), hv, `${ctx}header ${n}`);
    else if (k === "headers_present") for (const n of v) assert.ok(headers.get(n.toLowerCase()), `${ctx}header ${n} missing`);
    else if (k === "headers_absent") for (const n of v) assert.ok(!headers.has(n.toLowerCase()), `${ctx}header ${n} present`);
    else if (k === "body_json") assert.ok(v === null ? s.body === null : equal(JSON.parse(s.body), v), `${ctx}body ${s.body} != ${J(v)}`);
    else if (k === "endpoint") assert.equal(s.endpoint, v, `${ctx}endpoint`);
    else if (k === "timeout_ms") assert.equal(s.timeout_ms, v, `${ctx}timeout_ms`);
  }
}

/** A machine spec for a request-builder target. */
/** @param {string} target @param {any} input */
function requestSpec(target, input) {
  if (target === "create_video") return { machine: "create", request: input.request, idempotency_key: input.idempotency_key };
  return { machine: "call", call: { target, id: input.id, params: input.params ?? null, jwt: input.jwt, name: input.name } };
}

for (const v of load("requests.json").vectors) {
  test(`requests/${v.name}`, { skip: jsSkip(v) }, () => {
    const r = attempt(() => {
      // `api_key` absent: any valid key (as every harness reads it); `null`: a keyless client.
      const client = new w.Client(v.base_url, "api_key" in v.input ? v.input.api_key : "sd_vector_default", v.input.user_agent);
      if (v.target === "client_config") return client.free(), null;
      const m = client.start(J(requestSpec(v.target, v.input)), new Uint8Array(24), 0);
      // Freed at once: a create left in flight would hold back the transcripts' reconciliation
      // (the clients of a key share its claims, rule 2).
      try {
        return JSON.parse(m.poll(0));
      } finally {
        m.free();
        client.free();
      }
    });
    if (v.expected.error) {
      checkError(r.error, v.expected.error);
      checkClass(r.error);
    } else {
      assert.ok(!r.error, J(r.error));
      if (v.target !== "client_config") {
        assert.equal(r.ok.t, "send");
        checkSend(r.ok, v.expected);
      }
    }
  });
}

// ---- responses ------------------------------------------------------------------------------------

/** The call whose answer each response target reads. @type {Record<string, any>} */
const RESPONSE_CALLS = {
  parse_job: { target: "retrieve_video", id: "job_1" },
  error_from_response: { target: "retrieve_video", id: "job_1" },
  parse_job_page: { target: "list_videos" },
  parse_account: { target: "retrieve_account" },
  parse_pricing: { target: "retrieve_pricing" },
  parse_created_api_key: { target: "create_api_key", jwt: "eyJh.eyJp.sig" },
};

/**
 * A response vector run the way the package meets the answer: the call's machine gets it through
 * `respond` (with no retries, so that an error is the outcome at once). Returns what the call
 * resolves to; a 2xx that cannot be read is thrown as its error record, and for
 * `error_from_response` the error is returned.
 * @param {string} target @param {number} status @param {string} headers @param {Uint8Array} body @param {string | undefined} deleteId
 * @param {object | undefined} listParams the page a `parse_job_page` vector's request asked for
 */
function respondThrough(target, status, headers, body, deleteId, listParams) {
  const client = new w.Client("https://api.example.test/v1", "sd_vectors_0123456789", undefined);
  const limiter = new w.Limiter(0);
  const call = target === "parse_delete" ? { target: "delete_video", id: deleteId ?? "job_1" }
    : target === "parse_job_page" ? { ...RESPONSE_CALLS[target], params: listParams ?? {} }
    : RESPONSE_CALLS[target];
  const m = client.start(J({ machine: "call", call, retry: { max_retries: 0 } }), new Uint8Array(24), 0);
  try {
    const send = JSON.parse(m.poll(0));
    assert.equal(send.t, "send");
    const out = JSON.parse(m.respond(send.id, status, headers, body, 0, limiter, !send.free));
    assert.equal(out.t, "done", J(out));
    if (target === "error_from_response") return out.error;
    if (out.error) throw J(out.error);
    return out.ok;
  } finally {
    m.free();
    limiter.free();
    client.free();
  }
}

for (const v of load("responses.json").vectors) {
  test(`responses/${v.name}`, { skip: jsSkip(v) }, () => {
    const { status, headers, body } = response(v.response);
    const r = attempt(() => respondThrough(v.target, status, headers, body, v.delete_id, v.list_params));
    if (v.target === "error_from_response") {
      checkError(r.ok, v.expected.error);
      assert.equal(r.ok.status, v.response.status);
      checkClass(r.ok);
      return;
    }
    if (v.expected.error) {
      checkError(r.error, v.expected.error);
      assert.equal(r.error.status, v.response.status);
      checkClass(r.error);
      return;
    }
    assert.ok(!r.error, J(r.error));
    const m = subset(r.ok, v.expected.ok);
    assert.equal(m, null, m ?? "");
    for (const k of v.expected.absent ?? []) assert.ok(!(k in r.ok), `${k} should be absent`);
    if (v.expected.terminal !== undefined) assert.equal(["completed", "failed"].includes(r.ok.status), v.expected.terminal);
  });
}

// ---- the rate limiter -----------------------------------------------------------------------------

for (const v of load("ratelimit.json").vectors) {
  test(`ratelimit/${v.name}`, { skip: jsSkip(v) }, () => {
    /** @param {any[]} steps the steps that change a limiter, applied to a new one */
    const replay = (steps) => {
      const l = new w.Limiter(v.requests_per_minute);
      for (const s of steps) {
        if ("acquire" in s) l.acquire(s.acquire);
        else l.retryAfter(s.retry_after.at, s.retry_after.ms);
      }
      return l;
    };
    const l = replay([]);
    /** @type {any[]} */
    const changes = [];
    for (const s of v.steps) {
      if ("acquire" in s) {
        const t = l.acquire(s.acquire);
        assert.deepEqual(t < 0 ? "granted" : { wait_until: t }, s.expect, `acquire ${s.acquire}`);
        changes.push(s);
      } else if ("retry_after" in s) {
        l.retryAfter(s.retry_after.at, s.retry_after.ms);
        changes.push(s);
      } else if ("next_free" in s) {
        // The package's limiter has no `next_free` (its driver only acquires): the step is checked
        // through what it has. A refused acquire returns the instant the next slot frees, and a
        // granted one means a slot is free now; asked of a copy, so that no slot is taken here.
        const copy = replay(changes);
        const t = copy.acquire(s.next_free);
        copy.free();
        assert.equal(t < 0 ? s.next_free : t, s.expect, `next_free ${s.next_free}`);
      }
    }
    l.free();
  });
}

// ---- transcripts ----------------------------------------------------------------------------------

/** @param {any} t */
function transcriptSpec(t) {
  const c = t.config;
  const base = { seed: c.seed ?? 0 };
  switch (t.machine) {
    case "job_run_wait":
      return { ...base, machine: "job_run_wait", job_id: c.job_id, options: c.options ?? {} };
    case "job_run_create_and_wait":
      return { ...base, machine: "job_run_create_and_wait", request: c.request, idempotency_key: c.idempotency_key, options: c.options ?? {} };
    case "create":
      return { ...base, machine: "create", request: c.request, idempotency_key: c.idempotency_key, retry: c.retry ?? {}, deadline: c.deadline ?? null };
    case "call":
      return { ...base, machine: "call", call: { ...c.call, raw: true }, retry: c.retry ?? {}, deadline: c.deadline ?? null };
    default:
      throw new Error(`unknown machine ${t.machine}`);
  }
}

const tdir = new URL("transcripts/", dir);
for (const file of readdirSync(tdir).filter((f) => f.endsWith(".json")).sort()) {
  const t = JSON.parse(readFileSync(new URL(file, tdir), "utf8"));
  test(`transcripts/${t.name}`, { skip: jsSkip(t) }, () => {
    const c = t.config;
    const client = new w.Client(c.base_url, c.api_key, undefined);
    let now = c.start ?? 0;
    const m = client.start(J(transcriptSpec(t)), new Uint8Array(24), now);
    // Answers go in through `respond`, the package's one path for them: it also returns the first
    // output of the drain that follows and, when that is `done`, the outcome. The limiter it
    // teaches is the client's in the package; here an unlimited one of the transcript's own.
    const limiter = new w.Limiter(0);
    // Freed however the transcript ends: a create left in flight would hold back the next
    // transcript's reconciliation (the clients of a key share its claims, rule 2).
    try {
    /** @type {any} the output `respond` returned, the first of the next drain */
    let first;
    /** @type {any} the `done` output `respond` returned, with the outcome (`ok` or `error`) */
    let outcome;
    /** @type {number[]} */
    const sent = [];
    const inFlight = new Set();
    /** @type {Record<string, number>} */
    const totals = {};
    let lastWait = now;
    for (const [i, step] of t.steps.entries()) {
      const ctx = `step ${i}: `;
      if (step.at === "wait_until") now = lastWait;
      else if (typeof step.at === "number") now = step.at;
      if (typeof step.after === "number") now += step.after;
      const id = (/** @type {any} */ x) => (x.raw_id !== undefined ? x.raw_id : sent[x.id]);
      if (step.response) {
        const rid = id(step.response);
        inFlight.delete(rid);
        const { status, headers, body } = response(step.response);
        first = JSON.parse(m.respond(rid, status, headers, body, now, limiter, true));
        if (first.t === "done") outcome = first;
      } else if (step.transport_error) {
        const rid = id(step.transport_error);
        inFlight.delete(rid);
        m.handleTransportError(rid, step.transport_error.kind, step.transport_error.message ?? "", now);
      } else if (step.timeout) {
        m.handleTimeout(now);
      } else if (step.cancel) {
        m.cancel(now);
      }
      if (step.expect) {
        /** @type {any[]} */
        const outs = [];
        for (let n = 0; ; n++) {
          assert.ok(n < 200, `${ctx}drain did not end within 200 outputs`);
          const o = first ?? JSON.parse(m.poll(now));
          first = undefined;
          outs.push(o);
          if (o.t === "send") {
            assert.ok(!inFlight.has(o.id), `${ctx}request id ${o.id} reused while in flight`);
            inFlight.add(o.id);
            sent.push(o.id);
            const key = `${o.method} ${new URL(o.url).pathname}`;
            totals[key] = (totals[key] ?? 0) + 1;
          }
          if (o.t === "wait") {
            assert.ok(o.until > now, `${ctx}wait_until ${o.until} is not after now ${now}`);
            lastWait = o.until;
          }
          if (o.t === "wait" || o.t === "pending" || o.t === "done") break;
        }
        assert.equal(outs.length, step.expect.length, `${ctx}outputs ${J(outs.map((o) => (o.t === "event" ? o.event.type : o.t)))} vs ${J(step.expect)}`);
        step.expect.forEach((/** @type {any} */ e, /** @type {number} */ k) => {
          const o = outs[k];
          const c2 = `${ctx}output ${k}: `;
          if (e === "pending" || e === "done") assert.equal(o.t, e, c2);
          else if ("wait_until" in e) {
            assert.equal(o.t, "wait", `${c2}${J(o)}`);
            const wu = e.wait_until;
            if (typeof wu === "number") assert.equal(o.until, wu, c2);
            else if ("in" in wu) assert.ok(o.until >= now + wu.in[0] && o.until <= now + wu.in[1], `${c2}${o.until} not in now+${J(wu.in)}`);
            else assert.ok(o.until >= wu.min && o.until <= wu.max, `${c2}${o.until} not in ${J(wu)}`);
          } else if ("send" in e) {
            assert.equal(o.t, "send", `${c2}${J(o)}`);
            checkSend(o, e.send, c2);
          } else if ("event" in e) {
            assert.equal(o.t, "event", `${c2}${J(o)}`);
            if (typeof e.event === "string") assert.equal(o.event.type, e.event, c2);
            else {
              const mm = subset(o.event, e.event);
              assert.equal(mm, null, `${c2}${mm}`);
            }
          }
        });
      }
      if (step.result) {
        const r = outcome ? (outcome.error ? { error: outcome.error } : { ok: outcome.ok }) : attempt(() => JSON.parse(m.takeResult()));
        if (step.result.error) {
          checkError(r.error, step.result.error, ctx);
          checkClass(r.error);
        } else {
          assert.ok(!r.error, `${ctx}${J(r.error)}`);
          let ok = r.ok;
          if (t.machine === "call") ok = { status: ok.status, body_json: ok.body.trim() ? JSON.parse(ok.body) : null };
          const mm = subset(ok, step.result.ok);
          assert.equal(mm, null, `${ctx}${mm}`);
        }
      }
    }
    if (t.totals) for (const [k, n] of Object.entries(t.totals)) assert.equal(totals[k] ?? 0, n, `total ${k}`);
    } finally {
      m.free();
      limiter.free();
      client.free();
    }
  });
}
