package com.usvideo

import com.usvideo.core.BatchProgress
import com.usvideo.core.Event
import com.usvideo.core.ItemResult
import com.usvideo.core.JobProgress

// Names for the one value of the core's single-value events: uniffi calls it `v1` (the Rust
// variants are tuples, `Event::Progress(Progress)`, which keeps their JSON flat in the other
// bindings). `e.v1` still works; these say what it is.

/** The job's progress (`onProgress` receives the same). */
val Event.Progress.progress: JobProgress get() = v1

/** The finished batch item. */
val Event.ItemDone.item: ItemResult get() = v1

/** The batch's counts after the change. */
val Event.BatchProgress.counts: BatchProgress get() = v1
