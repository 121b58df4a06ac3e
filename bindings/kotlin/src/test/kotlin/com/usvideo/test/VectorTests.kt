package com.usvideo.test

import com.usvideo.USVideoError
import com.usvideo.core.*
import com.usvideo.ffi.*
import java.io.File
import java.math.BigDecimal
import java.util.Base64

// The shared conformance vectors (tests/vectors/README.md), run through the Kotlin binding: inputs
// are parsed here (a small JSON reader, test code only), turned into Kotlin records, passed over
// the FFI, and the outputs compared here. Wire forms of outputs come from the `*_to_json`
// exports, i.e. after a second trip across the FFI (Kotlin record → Rust → JSON).

private fun wireEnum(s: String) = s.uppercase()
fun mode(s: Any?) = Mode.valueOf(wireEnum(s as String))
fun resolution(s: Any?): Resolution = when (s) { "720p" -> Resolution.P720; "1080p" -> Resolution.P1080; "2k" -> Resolution.K2; else -> error("resolution $s") }

fun typedRequest(m: Map<String, Any?>) = CreateVideoRequest(
    prompt = m["prompt"] as String,
    mode = mode(m["mode"]),
    resolution = m["resolution"]?.let { resolution(it) },
    duration = m["duration"]?.long()?.toUInt(),
    imageUrl = m["image_url"] as String?,
    referenceUrl = m["reference_url"] as String?,
    seed = m["seed"]?.let { (it as BigDecimal).toBigInteger().toLong().toULong() },
)

fun httpResponse(m: Map<String, Any?>): HttpResponse {
    val headers = (m["headers"] as List<*>?)?.map { val p = it.arr(); Header(p[0] as String, p[1] as String) } ?: emptyList()
    val body = when {
        m.containsKey("body") -> (m["body"] as String).toByteArray()
        m.containsKey("body_json") -> Json.write(m["body_json"]).toByteArray()
        m.containsKey("body_base64") -> Base64.getDecoder().decode(m["body_base64"] as String)
        else -> ByteArray(0)
    }
    return HttpResponse(m["status"].long().toUShort(), headers, body)
}

fun retryPolicy(over: Any?): RetryPolicy {
    var p = defaultRetryPolicy()
    over?.obj()?.forEach { (k, v) ->
        p = when (k) {
            "max_retries" -> p.copy(maxRetries = v.long().toUInt())
            "base_delay_ms" -> p.copy(baseDelayMs = v.long().toULong())
            "max_delay_ms" -> p.copy(maxDelayMs = v.long().toULong())
            "max_retry_after_ms" -> p.copy(maxRetryAfterMs = v.long().toULong())
            else -> error("policy field $k")
        }
    }
    return p
}

fun waitOptions(over: Any?): WaitOptions {
    var o = defaultWaitOptions()
    over?.obj()?.forEach { (k, v) ->
        o = when (k) {
            "timeout_ms" -> o.copy(timeoutMs = v?.long()?.toULong())
            "cancel_on_timeout" -> o.copy(cancelOnTimeout = v as Boolean)
            "retry" -> o.copy(retry = retryPolicy(v))
            "poll" -> {
                var p = o.poll
                v.obj().forEach { (pk, pv) ->
                    p = when (pk) {
                        "first_poll_ms" -> p.copy(firstPollMs = pv.long().toULong())
                        "min_interval_ms" -> p.copy(minIntervalMs = pv.long().toULong())
                        "max_interval_ms" -> p.copy(maxIntervalMs = pv.long().toULong())
                        "expected_scale" -> p.copy(expectedScale = (pv as BigDecimal).toDouble())
                        else -> error("poll field $pk")
                    }
                }
                o.copy(poll = p)
            }
            else -> error("options field $k")
        }
    }
    return o
}

/** The error a call threw, as its core record (and its Kotlin class checked against the core's name). */
fun caught(block: () -> Unit): ErrorInfo? = try {
    com.usvideo.ffi(block); null
} catch (e: USVideoError) {
    val info = e.info ?: throw e
    eq(errorClassName(info.kind), e::class.simpleName, "class for ${info.kind}")
    info
}

fun checkError(expected: Map<String, Any?>, info: ErrorInfo?) {
    check(info != null) { "expected an error $expected, got success" }
    val actual = Json.parse(errorToJson(info!!)).obj()
    for ((k, v) in expected) when (k) {
        "message_contains" -> check(info.message.contains(v as String)) { "message '${info.message}' lacks '$v'" }
        "message_not_contains" -> check(!info.message.contains(v as String)) { "message '${info.message}' holds '$v'" }
        else -> check(if (v == null) actual[k] == null else jsonEquals(v, actual[k])) { "error.$k: expected $v, got ${actual[k]} in $actual" }
    }
    // The class every binding raises for this kind.
    eq(errorClassName(info.kind), USVideoError.from(info)::class.simpleName, "class")
}

fun checkRequest(e: Map<String, Any?>, r: HttpRequest) {
    e["method"]?.let { eq(it, r.method.name, "method") }
    e["url"]?.let { eq(it, r.url, "url") }
    val afterHost = r.url.substringAfter("://").let { h -> h.indexOf('/').let { if (it < 0) "" else h.substring(it) } }
    e["path"]?.let { eq(it, afterHost.substringBefore('?'), "path") }
    if (e.containsKey("query")) eq(e["query"], if (afterHost.contains('?')) afterHost.substringAfter('?') else null, "query")
    fun header(n: String) = r.headers.firstOrNull { it.name.equals(n, ignoreCase = true) }?.value
    e["headers"]?.obj()?.forEach { (n, v) -> eq(v, header(n), "header $n") }
    e["headers_present"]?.arr()?.forEach { n -> check(!header(n as String).isNullOrEmpty()) { "header $n missing" } }
    e["headers_absent"]?.arr()?.forEach { n -> check(header(n as String) == null) { "header $n present" } }
    if (e.containsKey("body_json")) {
        val expected = e["body_json"]
        if (expected == null) check(r.body == null) { "unexpected body" }
        else check(r.body != null && jsonEquals(expected, Json.parse(r.body!!.decodeToString()))) { "body ${r.body?.decodeToString()} != ${Json.write(expected)}" }
    }
}

private fun vectorFile(dir: String, file: String, run: (Map<String, Any?>) -> Unit) {
    val f = File(dir, file)
    if (!f.exists()) { test("vectors/$file") { throw Skip("$f not found") }; return }
    for (v in Json.parse(f.readText()).obj()["vectors"].arr()) {
        val vec = v.obj()
        test("vectors/${file.removeSuffix(".json")}/${vec["name"]}") {
            vec["skip"]?.let { throw Skip("known core bug: $it") }
            run(vec)
        }
    }
}

fun registerVectorTests(dir: String) {
    // bad_input.json has validation.json's format and schema (the reliability issue's bad inputs).
    for (file in listOf("validation.json", "bad_input.json")) vectorFile(dir, file) { v ->
        val input = v["input"]
        val exp = v["expected"].obj()
        var ok: Any? = null
        val err = caught {
            ok = when (v["target"]) {
                "create_request" -> Json.parse(createRequestToJson(createRequestFromJson(Json.write(input))))
                "list_params" -> listParamsFromJson(Json.write(input)).let { p -> linkedMapOf<String, Any?>().apply { p.limit?.let { put("limit", BigDecimal(it.toLong())) }; p.offset?.let { put("offset", BigDecimal(it.toString())) } } }
                "job_id" -> { validateJobId(input as String); true }
                "api_key" -> { validateApiKey(input as String); true }
                "jwt" -> { validateJwt(input as String); true }
                else -> error("target ${v["target"]}")
            }
        }
        if (exp.containsKey("ok")) {
            check(err == null) { "unexpected error ${err?.let { errorToJson(it) }}" }
            check(jsonEquals(exp["ok"], ok)) { "expected ${Json.write(exp["ok"])}, got ${Json.write(ok)}" }
        } else {
            check(err != null) { "expected issues, got ${Json.write(ok)}" }
            val want = exp["issues"].arr().map { it.obj() }
            eq(want.map { it["field"] to it["code"] }.toSet(), err!!.issues.map { it.field to it.code.name.lowercase() }.toSet(), "issues")
            for (w in want) w["message_contains"]?.let { mc -> check(err.issues.any { it.field == w["field"] && it.message.contains(mc as String) }) { "no message with '$mc'" } }
            v["message_not_contains"]?.let { mnc -> check(err.issues.none { it.message.contains(mnc as String) }) { "a message holds '$mnc'" } }
            eq("validation", errorKindName(err.kind))
        }
    }
    vectorFile(dir, "pricing.json") { v ->
        val input = v["input"].obj()
        val exp = v["expected"].obj()
        when (v["target"]) {
            "estimate" -> {
                var cents: Long? = null
                val err = caught { cents = com.usvideo.estimateCost(resolution(input["resolution"]), input["duration"].long().toInt()) }
                if (exp.containsKey("cents")) eq(exp["cents"].long(), cents, "cents")
                else { val i = exp["issue"].obj(); eq(i["field"], err?.field); eq(i["code"], err?.code) }
            }
            "from_json" -> {
                var table: PricingTable? = null
                val err = caught { table = pricingFromJson(Json.write(input["table"])) }
                if (exp["error"] == true) check(err != null) { "table accepted" }
                else {
                    check(err == null) { "table refused: ${err?.message}" }
                    val got = input["estimates"].arr().map { e -> val m = e.obj(); estimateCostWith(table!!, resolution(m["resolution"]), m["duration"].long().toUInt()).toLong() }
                    eq(exp["cents"].arr().map { it.long() }, got, "cents")
                }
            }
            "estimate_all" -> {
                var cents: Long? = null
                val err = caught { cents = estimateTotal(builtinPricing(), input["requests"].arr().map { typedRequest(it.obj()) }).toLong() }
                if (exp.containsKey("cents")) eq(exp["cents"].long(), cents, "cents")
                else { val i = exp["issue"].obj(); eq(i["field"], err?.field); eq(i["code"], err?.code) }
            }
            else -> error("target ${v["target"]}")
        }
    }
    vectorFile(dir, "requests.json") { v ->
        val input = v["input"].obj()
        val exp = v["expected"].obj()
        var req: HttpRequest? = null
        val err = caught {
            // `api_key` absent: any valid key (as every harness reads it); `null`: a keyless client.
            val key = if (input.containsKey("api_key")) input["api_key"] as String? else "sd_vector_default"
            val c = CoreClient(v["base_url"] as String, key, input["user_agent"] as String?, null)
            req = when (v["target"]) {
                "client_config" -> null
                "create_video" -> c.buildCreateVideo(typedRequest(input["request"].obj()), input["idempotency_key"] as String?, ByteArray(16))
                "retrieve_video" -> c.buildRetrieveVideo(input["id"] as String)
                "delete_video" -> c.buildDeleteVideo(input["id"] as String)
                "list_videos" -> c.buildListVideos(input["params"]?.obj().let { p -> ListParams(p?.get("limit")?.long()?.toUInt(), p?.get("offset")?.long()?.toULong()) })
                "retrieve_account" -> c.buildRetrieveAccount()
                "retrieve_pricing" -> c.buildRetrievePricing()
                "create_api_key" -> c.buildCreateApiKey(input["jwt"] as String, input["name"] as String?)
                else -> error("target ${v["target"]}")
            }
        }
        if (exp.containsKey("error")) checkError(exp["error"].obj(), err)
        else {
            check(err == null) { "refused: ${err?.let { errorToJson(it) }}" }
            if (v["target"] != "client_config") checkRequest(exp, req!!)
        }
    }
    vectorFile(dir, "responses.json") { v ->
        val resp = httpResponse(v["response"].obj())
        val exp = v["expected"].obj()
        var ok: Any? = null
        var status: JobStatus? = null
        val err = caught {
            ok = when (v["target"]) {
                "parse_job" -> parseJob(resp).also { status = it.status }.let { Json.parse(jobToJson(it)) }
                "parse_job_page" -> Json.parse(jobPageToJson(parseJobPage(resp, listParamsFromJson(Json.write(v["list_params"] ?: emptyMap<String, Any?>())))))
                "parse_delete" -> Json.parse(deleteResultToJson(parseDelete(resp, v["delete_id"] as String)))
                "parse_account" -> Json.parse(accountToJson(parseAccount(resp)))
                "parse_pricing" -> Json.parse(pricingToJson(parsePricing(resp)))
                "parse_created_api_key" -> Json.parse(createdApiKeyToJson(parseCreatedApiKey(resp)))
                "error_from_response" -> throw USVideoError.from(errorFromResponse(resp))
                else -> error("target ${v["target"]}")
            }
        }
        if (exp.containsKey("error")) {
            checkError(exp["error"].obj(), err)
            eq(resp.status.toInt(), err!!.status?.toInt(), "the error keeps the status")
        } else {
            check(err == null) { "unexpected error ${err?.let { errorToJson(it) }}" }
            check(jsonSubset(exp["ok"], ok)) { "expected ⊆ ${Json.write(exp["ok"])}, got ${Json.write(ok)}" }
            exp["absent"]?.arr()?.forEach { k -> check(!ok.obj().containsKey(k as String)) { "$k present" } }
            exp["terminal"]?.let { eq(it, jobStatusIsTerminal(status!!), "terminal") }
        }
    }
    vectorFile(dir, "retry.json") { v ->
        val input = v["input"].obj()
        val exp = v["expected"].obj()
        val policy = retryPolicy(input["policy"])
        val seed = (input["seed"] as BigDecimal?)?.toBigInteger()?.toLong()?.toULong() ?: 0uL
        when (v["target"]) {
            "decide" -> {
                val o = input["outcome"].obj()
                val error = if (o.containsKey("transport")) transportError(TransportKind.valueOf(wireEnum(o["transport"] as String)), "")
                else httpResponse(o).let { r -> if (r.status.toInt() in 200..299) caught { parseJob(r) }!! else errorFromResponse(r) }
                val d = retryDecide(Endpoint.valueOf(wireEnum(input["endpoint"] as String)), error, input["attempt"].long().toUInt(), policy, input["remaining_ms"]?.long()?.toULong(), seed)
                val name = when (d) { is Decision.Retry -> "retry"; Decision.Reconcile -> "reconcile"; Decision.Fail -> "fail" }
                eq(exp["decision"], name, "decision")
                if (d is Decision.Retry) {
                    val after = d.afterMs.toLong()
                    exp["after_ms"]?.let { eq(it.long(), after, "after_ms") }
                    exp["after_ms_min"]?.let { check(after >= it.long()) { "after_ms $after < $it" } }
                    exp["after_ms_max"]?.let { check(after <= it.long()) { "after_ms $after > $it" } }
                }
            }
            "backoff" -> {
                val attempts = input["attempts"].arr().map { it.long().toUInt() }
                val got = backoffDelays(policy, seed, attempts)
                val ranges = exp["ranges"].arr()
                eq(ranges.size, got.size)
                got.forEachIndexed { i, d -> val r = ranges[i].arr(); check(d.toLong() in r[0].long()..r[1].long()) { "attempt ${attempts[i]}: $d not in $r" } }
            }
            "backoff_deterministic" -> {
                val attempts = input["attempts"].arr().map { it.long().toUInt() }
                eq(backoffDelays(policy, seed, attempts), backoffDelays(policy, seed, attempts))
            }
            else -> error("target ${v["target"]}")
        }
    }
    vectorFile(dir, "ratelimit.json") { v ->
        RateLimiter(v["requests_per_minute"].long().toUInt()).use { l ->
            for ((i, s) in v["steps"].arr().withIndex()) {
                val step = s.obj()
                when {
                    step.containsKey("acquire") -> {
                        val got = l.tryAcquire(step["acquire"].long().toULong())
                        val e = step["expect"]
                        if (e == "granted") check(got == null) { "step $i: refused until $got" }
                        else eq(e.obj()["wait_until"].long(), got?.toLong(), "step $i wait_until")
                    }
                    step.containsKey("retry_after") -> step["retry_after"].obj().let { l.onRetryAfter(it["at"].long().toULong(), it["ms"].long().toULong()) }
                    step.containsKey("next_free") -> eq(step["expect"].long(), l.nextFree(step["next_free"].long().toULong()).toLong(), "step $i next_free")
                    else -> error("step $step")
                }
            }
        }
    }
    val tdir = File(dir, "transcripts")
    (tdir.listFiles { f -> f.name.endsWith(".json") } ?: emptyArray()).sortedBy { it.name }.forEach { f ->
        val t = Json.parse(f.readText()).obj()
        test("vectors/transcripts/${f.name.removeSuffix(".json")}") {
            t["skip"]?.let { throw Skip("known core bug: $it") }
            runTranscript(t)
        }
    }
}

fun runTranscript(t: Map<String, Any?>) {
    val cfg = t["config"].obj()
    val seed = (cfg["seed"] as BigDecimal?)?.toBigInteger()?.toLong()?.toULong() ?: 0uL
    var now = cfg["start"]?.long() ?: 0L
    val client = CoreClient(cfg["base_url"] as String, cfg["api_key"] as String?, null, null)
    val idem = cfg["idempotency_key"] as String?
    val m: Machine = when (t["machine"]) {
        "job_run_wait" -> client.wait(cfg["job_id"] as String, waitOptions(cfg["options"]), seed, now.toULong())
        "job_run_create_and_wait" -> client.createAndWait(typedRequest(cfg["request"].obj()), waitOptions(cfg["options"]), ByteArray(16), seed, now.toULong(), idem)
        "create" -> client.create(typedRequest(cfg["request"].obj()), ByteArray(16), seed, idem, retryPolicy(cfg["retry"]), cfg["deadline"]?.long()?.toULong())
        "call" -> {
            val call = cfg["call"].obj()
            val (endpoint, req) = when (call["target"]) {
                "retrieve_video" -> Endpoint.RETRIEVE_VIDEO to client.buildRetrieveVideo(call["id"] as String)
                "delete_video" -> Endpoint.DELETE_VIDEO to client.buildDeleteVideo(call["id"] as String)
                "list_videos" -> Endpoint.LIST_VIDEOS to client.buildListVideos(call["params"]?.obj().let { p -> ListParams(p?.get("limit")?.long()?.toUInt(), p?.get("offset")?.long()?.toULong()) })
                "retrieve_account" -> Endpoint.ACCOUNT to client.buildRetrieveAccount()
                "retrieve_pricing" -> Endpoint.PRICING to client.buildRetrievePricing()
                "create_api_key" -> Endpoint.CREATE_API_KEY to client.buildCreateApiKey(call["jwt"] as String, call["name"] as String?)
                else -> error("call target ${call["target"]}")
            }
            client.call(endpoint, req, seed, retryPolicy(cfg["retry"]), cfg["deadline"]?.long()?.toULong())
        }
        else -> error("machine ${t["machine"]}")
    }
    val sends = mutableListOf<ULong>()
    val inFlight = mutableSetOf<ULong>()
    val totals = mutableMapOf<String, Int>()
    var lastWait: Long? = null
    for ((i, s) in t["steps"].arr().withIndex()) {
        val step = s.obj()
        when (val at = step["at"]) {
            "wait_until" -> now = lastWait ?: error("step $i: no WaitUntil yet")
            null -> {}
            else -> { val nt = at.long(); check(nt >= now) { "step $i: time goes back" }; now = nt }
        }
        step["after"]?.let { now += it.long() }
        val n = now.toULong()
        fun reqId(o: Map<String, Any?>): ULong = o["raw_id"]?.long()?.toULong() ?: sends[o["id"].long().toInt()]
        step["response"]?.obj()?.let { r -> val id = reqId(r); inFlight.remove(id); m.handleResponse(id, httpResponse(r), n) }
        step["transport_error"]?.obj()?.let { r -> val id = reqId(r); inFlight.remove(id); m.handleTransportError(id, TransportKind.valueOf(wireEnum(r["kind"] as String)), (r["message"] as String?) ?: "", n) }
        if (step["timeout"] == true) m.handleTimeout(n)
        if (step["cancel"] == true) m.cancel(n)
        step["expect"]?.arr()?.let { expect ->
            val outs = mutableListOf<Output>()
            while (true) {
                val o = m.poll(n)
                outs.add(o)
                check(outs.size <= 200) { "step $i: drain did not end" }
                when (o) {
                    is Output.WaitUntil -> { check(o.v1.toLong() > now) { "step $i: WaitUntil ${o.v1} not after now $now" }; lastWait = o.v1.toLong() }
                    is Output.Send -> {
                        check(o.id !in inFlight) { "step $i: request id ${o.id} reused while in flight" }
                        inFlight.add(o.id); sends.add(o.id)
                        val path = o.request.url.substringAfter("://").let { h -> h.substring(h.indexOf('/').coerceAtLeast(0)) }.substringBefore('?')
                        val k = "${o.request.method.name} $path"; totals[k] = (totals[k] ?: 0) + 1
                    }
                    else -> {}
                }
                if (o is Output.WaitUntil || o == Output.Pending || o == Output.Done) break
            }
            eq(expect.size, outs.size, "step $i: outputs ${outs.map { outputToJson(it) }}")
            for ((j, e) in expect.withIndex()) checkOutput(e, outs[j], now, "step $i output $j")
        }
        step["result"]?.obj()?.let { r ->
            if (t["machine"] == "call") {
                var resp: HttpResponse? = null
                val err = caught { resp = m.takeResponse() }
                if (r.containsKey("error")) checkError(r["error"].obj(), err)
                else {
                    check(err == null) { "result error ${err?.let { errorToJson(it) }}" }
                    val ok = r["ok"].obj()
                    ok["status"]?.let { eq(it.long(), resp!!.status.toLong(), "status") }
                    if (ok.containsKey("body_json")) check(jsonSubset(ok["body_json"], Json.parse(resp!!.body.decodeToString()))) { "body" }
                }
            } else {
                var job: VideoJob? = null
                val err = caught { job = m.takeJob() }
                if (r.containsKey("error")) checkError(r["error"].obj(), err)
                else {
                    check(err == null) { "result error ${err?.let { errorToJson(it) }}" }
                    check(jsonSubset(r["ok"], Json.parse(jobToJson(job!!)))) { "job ${jobToJson(job!!)}" }
                }
            }
        }
    }
    t["totals"]?.obj()?.forEach { (k, v) -> eq(v.long().toInt(), totals[k] ?: 0, "total $k") }
    m.close(); client.close()
}

fun checkOutput(e: Any?, o: Output, now: Long, where: String) {
    when (e) {
        "pending" -> check(o == Output.Pending) { "$where: expected pending, got ${outputToJson(o)}" }
        "done" -> check(o == Output.Done) { "$where: expected done, got ${outputToJson(o)}" }
        is Map<*, *> -> {
            val (kind, spec) = e.entries.single()
            when (kind) {
                "wait_until" -> {
                    check(o is Output.WaitUntil) { "$where: expected wait_until, got ${outputToJson(o)}" }
                    val t = (o as Output.WaitUntil).v1.toLong()
                    when (spec) {
                        is BigDecimal -> eq(spec.toLong(), t, "$where wait_until")
                        else -> {
                            val s = spec.obj()
                            s["min"]?.let { check(t >= it.long()) { "$where: $t < min $it" } }
                            s["max"]?.let { check(t <= it.long()) { "$where: $t > max $it" } }
                            s["in"]?.arr()?.let { r -> check(t in now + r[0].long()..now + r[1].long()) { "$where: $t not in now+$r" } }
                        }
                    }
                }
                "send" -> {
                    check(o is Output.Send) { "$where: expected send, got ${outputToJson(o)}" }
                    val send = o as Output.Send
                    val s = spec.obj()
                    checkRequest(s, send.request)
                    s["endpoint"]?.let { eq(it, send.endpoint.name.lowercase(), "$where endpoint") }
                    if (s.containsKey("timeout_ms")) eq(s["timeout_ms"]?.long(), send.timeoutMs?.toLong(), "$where timeout_ms")
                }
                "event" -> {
                    check(o is Output.Event) { "$where: expected event, got ${outputToJson(o)}" }
                    val actual = Json.parse(eventToJson((o as Output.Event).v1)).obj()
                    if (spec is String) eq(spec, actual["type"], "$where event type")
                    else check(jsonSubset(spec, actual)) { "$where: event ${Json.write(actual)} does not hold ${Json.write(spec)}" }
                }
                else -> error("$where: expectation $kind")
            }
        }
        else -> error("$where: expectation $e")
    }
}
