// Quickstart: the US Video API from Kotlin (JVM or Android).
//
// Run against the service:   USVIDEO_API_KEY=sd_… java … QuickstartKt
// Run against the emulator:  USVIDEO_BASE_URL=http://127.0.0.1:PORT/v1 (the tests do this)
import com.usvideo.USVideo
import com.usvideo.USVideoError
import com.usvideo.WaitConfig
import com.usvideo.estimateCost
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.Mode
import com.usvideo.core.Resolution
import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

fun main() = runBlocking {
    // Offline: what will it cost? (1080p × 5 s = 120 cents)
    println("estimate: ${estimateCost(Resolution.P1080, 5)} cents")

    // Every failure is a USVideoError saying what went wrong (no key: which variable to set).
    try {
        USVideo().use { client ->                  // USVIDEO_API_KEY, USVIDEO_BASE_URL
            println("client: $client")              // the key is redacted
            val account = client.account.retrieve()
            println("balance: ${account.balanceCents} cents")

            // Against an emulator running N× faster, poll N× sooner (the tests set this).
            val speed = System.getenv("USVIDEO_QUICKSTART_FAST")?.toDouble() ?: 1.0
            val wait = WaitConfig(timeoutMs = 10 * 60_000, expectedScale = 1 / speed,
                firstPollMs = (3_000 / speed).toLong(), minPollIntervalMs = maxOf(1L, (2_000 / speed).toLong()))
            val job = client.videos.createAndWait(
                CreateVideoRequest(
                    prompt = "A drone shot over a misty mountain lake at sunrise",
                    mode = Mode.TEXT_TO_VIDEO,
                    resolution = Resolution.P1080,
                    duration = 5u,
                ),
                wait,
                onProgress = { p -> println("  ${p.status} ${p.percent}%") },
            )
            println("video: ${job.videoUrl} (${job.costCents} cents)")
        }
    } catch (e: USVideoError) {
        println("failed: $e")                       // code, status, requestId, retryAfter
        exitProcess(1)
    }
}
