package com.usvideo.test

import com.usvideo.*
import com.usvideo.core.CreateVideoRequest
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import java.io.File
import java.math.BigDecimal
import java.nio.file.Files

// The fault matrix (tests/reliability/README.md) through the Kotlin client (USVideo over
// HttpURLConnection, the native core through JNA) against the emulator binary: every scenario of
// tests/reliability/scenarios.json, results written to target/reliability/kotlin.json (joined into
// RELIABILITY.md by scripts/reliability). One test; it records every scenario, writes the file,
// then fails if any scenario did not pass.

/** Every wait in the matrix (the emulator runs 100× faster than the service). */
private val POLL = WaitConfig(timeoutMs = 60_000, firstPollMs = 100, minPollIntervalMs = 100, maxPollIntervalMs = 300, expectedScale = 0.01)

private class Run(val outcome: String, val error: Throwable?, val elapsedMs: Long, val jobsCreated: Long, val chargedCents: Long)

private fun Map<String, Any?>.num(k: String): Long = (this[k] as BigDecimal?)?.toLong() ?: -1

/** Jobs created and cents charged (held + spent: deposits − balance) of the last account with [email]. */
private fun ledgerOf(e: Emulator, email: String): Pair<Long, Long> {
    val a = e.ledger(email)
    return a.num("jobs_created") to (a.num("deposits_cents") - a.num("balance_cents"))
}

private fun clientFor(e: Emulator, key: String, options: Map<String, Any?>?) = USVideo(
    apiKey = key,
    baseUrl = e.base,
    maxRetries = options?.get("max_retries")?.long()?.toInt(),
    requestTimeoutMs = options?.get("timeout_ms")?.long() ?: 60_000,
)

private suspend fun timed(block: suspend () -> Unit): Triple<String, Throwable?, Long> {
    val t0 = System.nanoTime()
    val error = try { block(); null } catch (e: kotlinx.coroutines.CancellationException) { throw e } catch (e: Throwable) { e }
    return Triple(if (error == null) "ok" else "error", error, (System.nanoTime() - t0) / 1_000_000)
}

private suspend fun runShared(shared: Emulator, s: Map<String, Any?>, request: CreateVideoRequest, email: String): Run {
    shared.clearFaults()
    val key = shared.control("POST", "/_emulator/accounts", mapOf("email" to email, "balance_cents" to 10_000)).obj()["api_key"] as String
    clientFor(shared, key, s["client"]?.obj()).use { c ->
        val faults = s["faults"].arr()
        if (faults.isNotEmpty()) shared.control("POST", "/_emulator/faults", faults)
        val (outcome, error, elapsed) = timed {
            when (val call = s["call"]) {
                "account.retrieve" -> c.account.retrieve()
                "videos.create" -> c.videos.create(request)
                "videos.create_and_wait" -> c.videos.createAndWait(request, POLL)
                else -> error("unknown call $call")
            }
        }
        shared.clearFaults()
        val (jobs, charged) = ledgerOf(shared, email)
        return Run(outcome, error, elapsed, jobs, charged)
    }
}

/** The emulator killed (SIGKILL) and restarted mid-wait, its state kept in `--state-file`. */
private suspend fun runAcrossRestart(s: Map<String, Any?>, request: CreateVideoRequest, email: String): Run {
    val dir = Files.createTempDirectory("usvideo-reliability-").toFile()
    val state = File(dir, "state.json").path
    val first = Emulator("20", extra = listOf("--state-file", state))
    var emulator: Emulator? = first
    val port = first.port
    try {
        val key = first.control("POST", "/_emulator/accounts", mapOf("email" to email, "balance_cents" to 10_000)).obj()["api_key"] as String
        val base = first.base
        val (outcome, error, elapsed) = USVideo(apiKey = key, baseUrl = base, maxRetries = s["client"]?.obj()?.get("max_retries")?.long()?.toInt()).use { c ->
            timed {
                val job = c.videos.create(request)
                coroutineScope {
                    val restart = async {
                        delay(300)
                        emulator?.kill()
                        emulator = null
                        delay(500)
                        emulator = Emulator("20", port = port, extra = listOf("--state-file", state))
                    }
                    try {
                        c.videos.wait(job.id, POLL)
                    } finally {
                        restart.await()
                    }
                }
            }
        }
        val e = emulator ?: error("the emulator was not restarted")
        val (jobs, charged) = ledgerOf(e, email)
        return Run(outcome, error, elapsed, jobs, charged)
    } finally {
        emulator?.close()
        dir.deleteRecursively()
    }
}

fun registerReliabilityTests() {
    test("reliability/fault_matrix", timeoutMs = 600_000) {
        val root = File(System.getProperty("usvideo.root") ?: ".")
        val matrix = Json.parse(File(root, "tests/reliability/scenarios.json").readText()).obj()
        val request = typedRequest(matrix["request"].obj())
        val scenarios = matrix["scenarios"].arr().map { it.obj() }
        val results = mutableListOf<Map<String, Any?>>()
        Emulator("100").use { shared ->
            for (s in scenarios) {
                val id = s["id"] as String
                val email = "$id@reliability.test"
                val result = try {
                    val r = if (s["call"] == "videos.create_and_wait_across_restart") runAcrossRestart(s, request, email) else runShared(shared, s, request, email)
                    judge(s, r)
                } catch (e: Exception) {
                    linkedMapOf("id" to id, "passed" to false, "outcome" to "harness_error", "kind" to null, "status" to null,
                        "jobs_created" to -1, "charged_cents" to -1, "elapsed_ms" to 0, "note" to "${e::class.simpleName}: ${e.message}")
                }
                results.add(result)
                println("     ${if (result["passed"] == true) "pass" else "MISS"} $id (${result["elapsed_ms"]} ms) ${result["note"]}")
            }
        }
        val out = File(root, "target/reliability/kotlin.json")
        out.parentFile.mkdirs()
        out.writeText(Json.write(linkedMapOf("language" to "Kotlin (JVM)", "client" to "com.usvideo.USVideo (HttpURLConnection; the native core through uniffi and JNA)", "results" to results)) + "\n")
        eq(scenarios.size, results.size, "scenarios run")
        val missed = results.filter { it["passed"] != true }
        check(missed.isEmpty()) { "scenarios missed: " + missed.joinToString("; ") { "${it["id"]}: ${it["note"]}" } }
    }
}

/** The scenario's verdict as the result file's record. */
private fun judge(s: Map<String, Any?>, r: Run): Map<String, Any?> {
    val e = r.error
    val kind: String? = when (e) {
        null -> null
        is USVideoError -> e.kind?.let { com.usvideo.ffi.errorKindName(it) } ?: "internal"
        else -> "exception"
    }
    val status: Int? = (e as? USVideoError)?.status
    val x = s["expect"].obj()
    val misses = mutableListOf<String>()
    if (r.outcome != x["outcome"]) misses.add("outcome ${r.outcome}, expected ${x["outcome"]}")
    if (x.containsKey("kind") && kind != x["kind"]) misses.add("kind $kind, expected ${x["kind"]}")
    if (x.containsKey("status") && status?.toLong() != x["status"]?.long()) misses.add("status $status, expected ${x["status"]}")
    if (r.jobsCreated != x["jobs_created"].long()) misses.add("jobs_created ${r.jobsCreated}, expected ${x["jobs_created"]}")
    if (r.chargedCents != x["charged_cents"].long()) misses.add("charged_cents ${r.chargedCents}, expected ${x["charged_cents"]}")
    x["min_elapsed_ms"]?.let { if (r.elapsedMs < it.long()) misses.add("elapsed ${r.elapsedMs} ms < $it") }
    x["max_elapsed_ms"]?.let { if (r.elapsedMs > it.long()) misses.add("elapsed ${r.elapsedMs} ms > $it") }
    if (r.elapsedMs >= 30_000) misses.add("elapsed ${r.elapsedMs} ms ≥ 30000")
    // The core's messages are redacted: `note` never holds a key or a JWT.
    val message = e?.let { "${it::class.simpleName}: ${it.message}" } ?: ""
    return linkedMapOf(
        "id" to s["id"], "passed" to misses.isEmpty(), "outcome" to r.outcome, "kind" to kind, "status" to status,
        "jobs_created" to r.jobsCreated, "charged_cents" to r.chargedCents, "elapsed_ms" to r.elapsedMs,
        "note" to (misses + listOf(message)).filter { it.isNotEmpty() }.joinToString("; "),
    )
}
