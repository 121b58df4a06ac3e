package com.usvideo.test

import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File
import java.net.HttpURLConnection
import java.net.URL
import kotlin.system.exitProcess

class Skip(message: String) : Exception(message)

class TestCase(val name: String, val timeoutMs: Long, val body: suspend () -> Unit)

val tests = mutableListOf<TestCase>()
fun test(name: String, timeoutMs: Long = 60_000, body: suspend () -> Unit) { tests.add(TestCase(name, timeoutMs, body)) }

fun check(cond: Boolean, msg: () -> String = { "check failed" }) { if (!cond) throw AssertionError(msg()) }
fun <T> eq(expected: T, actual: T, what: String = "") { if (expected != actual) throw AssertionError("$what: expected <$expected>, got <$actual>") }

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try { block() } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

suspend inline fun <reified E : Throwable> assertThrowsS(crossinline block: suspend () -> Unit): E {
    try { block() } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

/**
 * One emulator child process (stops when our stdin pipe closes): `--port 0` unless [port] is
 * given, with [extra] arguments (`--state-file …`).
 */
class Emulator(timeScale: String, port: Int = 0, extra: List<String> = emptyList()) : AutoCloseable {
    private val process: Process
    val root: String
    val base: String get() = "$root/v1"
    val port: Int get() = java.net.URI(root).port

    init {
        val bin = System.getProperty("usvideo.emulator") ?: "target/debug/usvideo-emulator"
        val log = File.createTempFile("usvideo-emulator", ".log")
        log.deleteOnExit()
        process = ProcessBuilder(listOf(bin, "--port", "$port", "--time-scale", timeScale, "--exit-on-stdin-close") + extra)
            .redirectError(log).start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("the emulator printed nothing (log: $log)")
        val prefix = "usvideo-emulator listening on "
        check(line.startsWith(prefix)) { "unexpected first line: $line" }
        root = line.removePrefix(prefix).trim()
    }

    fun control(method: String, path: String, body: Any? = null): Any? {
        val c = URL(root + path).openConnection() as HttpURLConnection
        c.requestMethod = method
        if (body != null) {
            c.doOutput = true
            c.setRequestProperty("content-type", "application/json")
            c.outputStream.use { it.write(Json.write(body).toByteArray()) }
        }
        val code = c.responseCode
        val text = (if (code >= 400) c.errorStream else c.inputStream)?.use { it.readBytes().decodeToString() } ?: ""
        if (code >= 300) error("control $method $path: $code $text")
        return if (text.isBlank()) null else Json.parse(text)
    }

    private var n = 0
    /** A fresh account: (api_key, jwt, email). */
    fun account(balanceCents: Long = 100_000): Triple<String, String, String> {
        val email = "user${++n}-${System.nanoTime()}@example.com"
        val a = control("POST", "/_emulator/accounts", mapOf("email" to email, "balance_cents" to balanceCents)).obj()
        return Triple(a["api_key"] as String, a["jwt"] as String, email)
    }

    fun fault(vararg f: Pair<String, Any?>) { control("POST", "/_emulator/faults", mapOf(*f)) }
    fun clearFaults() { control("DELETE", "/_emulator/faults") }
    /** The ledger of the last account with [email]. */
    fun ledger(email: String): Map<String, Any?> =
        control("GET", "/_emulator/ledger").obj()["accounts"].arr().map { it.obj() }.last { it["email"] == email }

    /** SIGKILL: no clean shutdown, whatever is not in the state file is lost. */
    fun kill() {
        process.destroyForcibly()
        process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)
    }

    override fun close() {
        runCatching { process.outputStream.close() }
        if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) process.destroy()
    }
}

lateinit var emu: Emulator       // time scale 50: jobs finish in about a second
lateinit var frozen: Emulator    // time scale 0: jobs stay pending until the clock is advanced

fun main(args: Array<String>) {
    registerUnitTests()
    registerVectorTests(System.getProperty("usvideo.vectors") ?: "tests/vectors")
    registerEmulatorTests()
    registerBatchTests()
    registerSecretTests()
    registerReliabilityTests()
    registerJavaTests()
    val filter = args.firstOrNull()
    emu = Emulator("50")
    frozen = Emulator("0")
    var passed = 0; var failed = 0; var skipped = 0
    runBlocking {
        for (t in tests) {
            if (filter != null && !t.name.contains(filter)) continue
            val start = System.nanoTime()
            try {
                withTimeout(t.timeoutMs) { t.body() }
                passed++
                println("ok   ${t.name} (${(System.nanoTime() - start) / 1_000_000} ms)")
            } catch (s: Skip) {
                skipped++
                println("skip ${t.name}: ${s.message}")
            } catch (e: Throwable) {
                failed++
                println("FAIL ${t.name}: $e")
                e.cause?.let { println("     caused by: $it") }
                e.stackTrace.take(6).forEach { println("     at $it") }
            }
        }
    }
    emu.close(); frozen.close()
    println("$passed passed, $failed failed, $skipped skipped")
    exitProcess(if (failed == 0) 0 else 1)
}
