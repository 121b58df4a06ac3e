package com.usvideo.test;

import com.usvideo.BatchConfig;
import com.usvideo.BatchItem;
import com.usvideo.BatchReport;
import com.usvideo.CreateCancellationException;
import com.usvideo.CreateVideoRequestBuilder;
import com.usvideo.HttpUrlConnectionTransport;
import com.usvideo.JavaValues;
import com.usvideo.RateLimitError;
import com.usvideo.USVideo;
import com.usvideo.USVideoError;
import com.usvideo.USVideoFuture;
import com.usvideo.USVideoFutures;
import com.usvideo.ValidationError;
import com.usvideo.WaitConfig;
import com.usvideo.core.Account;
import com.usvideo.core.CreateVideoRequest;
import com.usvideo.core.JobProgress;
import com.usvideo.core.JobStatus;
import com.usvideo.core.Mode;
import com.usvideo.core.Resolution;
import com.usvideo.core.VideoJob;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import kotlin.Triple;

/**
 * The Kotlin package as a Java caller sees it (compiled by javac against the compiled package; run
 * by the harness, `java/…`, against its emulators): the request builder, the futures face,
 * cancellation through a future, validation errors, and keys kept out of what Java prints. Each
 * public static method without parameters is one test.
 */
public final class JavaCallerTest {
    private JavaCallerTest() {}

    /** Fast polls against an emulator running 50× real time (EmulatorTests' `fast`). */
    static final WaitConfig FAST = new WaitConfig()
        .withTimeoutMs(60_000)
        .withExpectedScale(1.0 / 50)
        .withFirstPollMs(100)
        .withMinPollIntervalMs(100);

    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    static void eq(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected <" + expected + ">, got <" + actual + ">");
        }
    }

    static int ledgerInt(Emulator e, String email, String field) {
        Map<String, Object> l = e.ledger(email);
        return ((BigDecimal) l.get(field)).intValue();
    }

    static CreateVideoRequest lake() {
        return CreateVideoRequestBuilder.of("a lake at dawn", Mode.TEXT_TO_VIDEO).build();
    }

    /** bindings/README.md, "From Java": the example as printed there (the key and base URL from the emulator). */
    public static void readmeExample() throws Exception {
        Triple<String, String, String> account = HarnessKt.getEmu().account(100_000);
        String key = account.getFirst();
        List<String> printed = new CopyOnWriteArrayList<>();
        // --- the README's example, `System.out::println` as `printed::add` ---
        try (USVideo client = USVideo.builder().apiKey(key).baseUrl(HarnessKt.getEmu().getBase()).build()) {
            CreateVideoRequest request = CreateVideoRequestBuilder.of("A drone shot over a misty lake", Mode.TEXT_TO_VIDEO)
                .resolution(Resolution.P1080)
                .duration(5)
                .build();
            USVideoFuture<VideoJob> call = client.futures().videos().createAndWait(request,
                new WaitConfig().withTimeoutMs(10 * 60_000),
                p -> printed.add(p.getStatus() + " " + JavaValues.percent(p) + "%"));
            VideoJob job = call.join();  // or call.thenAccept(…): nothing blocks until asked
            printed.add(job.getVideoUrl() + " (" + JavaValues.costCents(job) + " cents)");
        } catch (CompletionException e) {
            if (e.getCause() instanceof RateLimitError) {
                printed.add("retry after " + ((RateLimitError) e.getCause()).getRetryAfterMs() + " ms");
            } else if (e.getCause() instanceof USVideoError) {
                USVideoError error = (USVideoError) e.getCause();
                printed.add(error.getCode() + " " + error.getStatus() + " " + error.getRequestId());
            } else {
                throw e;
            }
        }
        // --- end of the example ---
        String last = printed.get(printed.size() - 1);
        check(last.endsWith("(120 cents)") && last.startsWith("http"), "printed " + printed);
        check(printed.size() >= 2, "progress printed: " + printed);
    }

    public static void builderAndCreateAndWaitWithProgress() throws Exception {
        Triple<String, String, String> account = HarnessKt.getEmu().account(100_000);
        CreateVideoRequest request = CreateVideoRequestBuilder.of("a drone shot over a misty lake", Mode.TEXT_TO_VIDEO)
            .resolution(Resolution.P720)
            .duration(5)
            .seed(42L)
            .build();
        eq("a drone shot over a misty lake", request.getPrompt(), "prompt");
        try (USVideo client = USVideo.builder().apiKey(account.getFirst()).baseUrl(HarnessKt.getEmu().getBase()).build()) {
            USVideoFutures futures = client.futures();
            List<JobProgress> progress = new CopyOnWriteArrayList<>();
            VideoJob job = futures.videos().createAndWait(request, FAST, progress::add).get(60, TimeUnit.SECONDS);
            check(job.getStatus() == JobStatus.Completed.INSTANCE, "completed: " + job.getStatus());
            eq("completed", job.getStatus().toString(), "status prints as its wire string");
            check(job.getVideoUrl() != null, "video_url");
            eq(30L, JavaValues.costCents(job), "cost");
            eq(5, JavaValues.duration(job), "duration");
            eq(42L, JavaValues.seed(job), "seed");
            check(!progress.isEmpty(), "progress heard");
            for (JobProgress p : progress) {
                eq(job.getId(), p.getJobId(), "progress of its job");
                check(JavaValues.percent(p) >= 0 && JavaValues.percent(p) <= 100, "percent " + JavaValues.percent(p));
            }
            // The other calls, as futures.
            eq(job.getId(), futures.videos().retrieve(job.getId()).join().getId(), "retrieve");
            List<VideoJob> all = futures.videos().listAll().join();
            eq(1, all.size(), "listAll");
            List<String> ids = new ArrayList<>();
            futures.videos().listAll(1, j -> ids.add(j.getId())).join();
            eq(Arrays.asList(job.getId()), ids, "listAll, one at a time");
            eq(job.getId(), futures.videos().list(10, 0L).join().getData().get(0).getId(), "list");
            Account a = futures.account().retrieve().join();
            eq(100_000L - 30L, JavaValues.balanceCents(a), "balance after one job");
            eq(3, futures.pricing().retrieve().join().getPrices().size(), "pricing");
            check(futures.videos().delete(job.getId()).join().getDeleted(), "deleted");
            // A service error is the future's cause, its class and fields as in Kotlin.
            try {
                futures.videos().retrieve(job.getId()).join();
                throw new AssertionError("retrieve of a deleted job succeeded");
            } catch (CompletionException e) {
                check(e.getCause() instanceof com.usvideo.NotFoundError, "not found: " + e.getCause());
                eq(404, ((USVideoError) e.getCause()).getStatus(), "status");
            }
        }
    }

    public static void cancellingTheFutureOfACreateAndWaitDeletesItsPendingJob() throws Exception {
        Emulator frozen = HarnessKt.getFrozen();
        Triple<String, String, String> account = frozen.account(10_000);
        String email = account.getThird();
        try (USVideo client = new USVideo(account.getFirst(), frozen.getBase())) {
            USVideoFutures.Videos videos = client.futures().videos();
            USVideoFuture<VideoJob> call = videos.createAndWait(lake(), FAST);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (videos.list().join().getData().isEmpty()) {
                check(System.nanoTime() < deadline, "the job was never created");
                Thread.sleep(50);
            }
            Thread.sleep(300); // the call has its job (the create's answer)
            check(call.cancel(true), "cancelled");
            check(call.isCancelled() && call.isDone(), "done at once, as CompletableFuture promises");
            try {
                call.join();
                throw new AssertionError("join of a cancelled future returned");
            } catch (CancellationException expected) {
                // as always for a cancelled CompletableFuture
            }
            // The clean-up ran: settled() ends once it has (a plain cancellation: the job was deleted).
            Throwable end = call.settled().handle((v, e) -> e).get(15, TimeUnit.SECONDS);
            check(end instanceof CancellationException && !(end instanceof CreateCancellationException), "settled with " + end);
            eq(0, videos.list().join().getData().size(), "the pending job was deleted");
            eq(1, ledgerInt(frozen, email, "jobs_created"), "jobs created");
            eq(30, ledgerInt(frozen, email, "refunded_cents"), "refunded");
            eq(0, ledgerInt(frozen, email, "held_cents"), "nothing held");
        }
    }

    public static void cancellingTheFutureOfACreateWhoseRequestWentOutGivesTheKey() throws Exception {
        Emulator frozen = HarnessKt.getFrozen();
        Triple<String, String, String> account = frozen.account(10_000);
        AnswerLost lost = new AnswerLost(false, new HttpUrlConnectionTransport());
        try (USVideo client = new USVideo(account.getFirst(), frozen.getBase(), lost)) {
            USVideoFutures.Videos videos = client.futures().videos();
            CreateVideoRequest request = CreateVideoRequestBuilder.of("cancelled in flight", Mode.TEXT_TO_VIDEO).build();
            USVideoFuture<VideoJob> call = videos.create(request);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!lost.getSent().isCompleted()) {
                check(System.nanoTime() < deadline, "the create was never sent");
                Thread.sleep(20);
            }
            call.cancel(true);
            CreateCancellationException cancelled;
            try {
                call.settled().get(15, TimeUnit.SECONDS);
                throw new AssertionError("a cancelled create returned");
            } catch (CreateCancellationException e) {
                cancelled = e; // get() throws a CancellationException as it is
            }
            VideoJob job = videos.list().join().getData().get(0);
            eq(job.getId(), cancelled.getJobId(), "the job it made");
            check(cancelled.getIdempotencyKey().startsWith("usv-"), "key " + cancelled.getIdempotencyKey());
            check(cancelled.getMessage().contains(cancelled.getIdempotencyKey()), cancelled.getMessage());
            eq(job.getId(), videos.create(request, cancelled.getIdempotencyKey()).join().getId(), "its job, under its key");
            eq(1, ledgerInt(frozen, account.getThird(), "jobs_created"), "one job");
        }
    }

    public static void validationErrorsNameTheirField() throws Exception {
        // Refused by the builder: a negative number would wrap to a huge unsigned one.
        try {
            CreateVideoRequestBuilder.of("x", Mode.TEXT_TO_VIDEO).duration(-1);
            throw new AssertionError("duration -1 accepted");
        } catch (ValidationError e) {
            eq("duration", e.getField(), "field");
            eq("duration", e.getIssues().get(0).getField(), "issue's field");
            check(e.getMessage().contains("-1"), e.getMessage());
        }
        try {
            CreateVideoRequestBuilder.of("x", Mode.TEXT_TO_VIDEO).seed(-5L);
            throw new AssertionError("seed -5 accepted");
        } catch (ValidationError e) {
            eq("seed", e.getField(), "field");
        }
        try {
            USVideo.builder().apiKey(null).baseUrl(HarnessKt.getEmu().getBase()).maxRetries(-1).build();
            throw new AssertionError("maxRetries -1 accepted");
        } catch (ValidationError e) {
            eq("maxRetries", e.getField(), "field");
        }
        Triple<String, String, String> account = HarnessKt.getFrozen().account(10_000);
        try (USVideo client = new USVideo(account.getFirst(), HarnessKt.getFrozen().getBase())) {
            // The core's rules, through a future: its cause.
            CreateVideoRequest tooLong = CreateVideoRequestBuilder.of("x", Mode.TEXT_TO_VIDEO).duration(11).build();
            try {
                client.futures().videos().create(tooLong).get(10, TimeUnit.SECONDS);
                throw new AssertionError("duration 11 accepted");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof ValidationError, "cause " + e.getCause());
                eq("duration", ((ValidationError) e.getCause()).getField(), "field");
            }
            // A WaitConfig's option, by its name.
            try {
                client.futures().videos().createAndWait(lake(), FAST.withTimeoutMs(-1)).join();
                throw new AssertionError("timeoutMs -1 accepted");
            } catch (CompletionException e) {
                eq("timeoutMs", ((USVideoError) e.getCause()).getField(), "field");
            }
            eq(0, ledgerInt(HarnessKt.getFrozen(), account.getThird(), "jobs_created"), "nothing sent");
        }
    }

    public static void callsAndCallbacksRunOnTheGivenExecutor() throws Exception {
        Triple<String, String, String> account = HarnessKt.getEmu().account(100_000);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "usvideo-java-test"));
        try (USVideo client = new USVideo(account.getFirst(), HarnessKt.getEmu().getBase())) {
            List<String> threads = new CopyOnWriteArrayList<>();
            VideoJob job = client.futures(executor).videos()
                .createAndWait(lake(), FAST, p -> threads.add(Thread.currentThread().getName()))
                .get(60, TimeUnit.SECONDS);
            check(job.getStatus() == JobStatus.Completed.INSTANCE, "completed");
            check(!threads.isEmpty(), "progress heard");
            for (String t : threads) eq("usvideo-java-test", t, "callback thread");
        } finally {
            executor.shutdown();
        }
    }

    public static void batchFromJava() throws Exception {
        Triple<String, String, String> account = HarnessKt.getEmu().account(100_000);
        try (USVideo client = new USVideo(account.getFirst(), HarnessKt.getEmu().getBase())) {
            USVideoFutures.Videos videos = client.futures().videos();
            BatchConfig config = new BatchConfig().withExpectedScale(1.0 / 50).withPollIntervalMs(300);
            com.usvideo.Batch batch = videos.batch(Arrays.asList(lake(), lake(), lake()), 1_000L, config);
            eq(90L, batch.getEstimatedCents(), "estimate, before anything is sent");
            List<BatchItem> items = new CopyOnWriteArrayList<>();
            BatchReport report = videos.collect(batch, items::add).get(60, TimeUnit.SECONDS);
            eq(3, items.size(), "items");
            eq(3, report.getItems().size(), "report");
            for (BatchItem i : report.getItems()) check(i.isCompleted(), "completed: " + i);
            eq(3, JavaValues.completed(report.getProgress()), "completed count");
            eq(90L, report.getSpentCents(), "spent");
        }
    }

    public static void keysNeverPrinted() throws Exception {
        Triple<String, String, String> account = HarnessKt.getEmu().account(1_000);
        String key = account.getFirst();
        String secret = key.substring(0, key.length() - 4); // all but the 4 characters the redacted form keeps
        USVideo.Builder builder = USVideo.builder().apiKey(key).baseUrl(HarnessKt.getEmu().getBase());
        try (USVideo client = builder.build()) {
            USVideoFuture<Account> call = client.futures().account().retrieve();
            call.join();
            List<String> shown = Arrays.asList(client.toString(), client.futures().toString(), builder.toString(),
                call.toString(), String.valueOf(client.futures().videos()), CreateVideoRequestBuilder.of("x", Mode.TEXT_TO_VIDEO).toString());
            for (String s : shown) check(!s.contains(secret), "the key shows in: " + s);
            check(client.toString().contains(key.substring(key.length() - 4)), "redacted, not absent: " + client);
            check(builder.toString().contains(key.substring(key.length() - 4)), "builder redacted: " + builder);
        }
        // A wrong key's 401, seen from Java: no key in its message either.
        try (USVideo client = new USVideo("sd_live_" + "0123456789abcdef0123456789abcdef", HarnessKt.getEmu().getBase())) {
            CompletableFuture<Account> call = client.futures().account().retrieve();
            try {
                call.join();
                throw new AssertionError("a wrong key was accepted");
            } catch (CompletionException e) {
                check(e.getCause() instanceof com.usvideo.AuthenticationError, "cause " + e.getCause());
                check(!String.valueOf(e.getCause()).contains("0123456789abcdef0123456789ab"), "key in " + e.getCause());
            }
        }
    }
}
