package com.usvideo.test

import com.usvideo.*
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.ErrorKind
import com.usvideo.core.Header
import com.usvideo.core.HttpRequest
import com.usvideo.core.Method
import com.usvideo.core.Mode
import com.usvideo.core.Resolution

fun registerUnitTests() {
    test("unit/estimate_cost_offline") {
        eq(120L, estimateCost(Resolution.P1080, 5))
        eq(6L, estimateCost(Resolution.P720, 1))
        eq(360L, estimateCost(Resolution.K2, 10))
        val e = assertThrows<ValidationError> { estimateCost(Resolution.P720, 11) }
        eq("duration", e.field); eq("out_of_range", e.code)
        assertThrows<ValidationError> { estimateCost(Resolution.P720, -1) }
    }
    test("unit/key_redacted_in_toString") {
        val key = "sd_live_0123456789abcdefWXYZ"
        val c = USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1")
        val shown = c.toString()
        check(!shown.contains("0123456789")) { shown }
        check(shown.contains("WXYZ")) { shown }
        val req = HttpRequest(Method.GET, "http://h/v1/account", listOf(Header("Authorization", "Bearer $key")), null)
        check(!req.toString().contains("0123456789")) { req.toString() }
        val k = com.usvideo.core.CreatedApiKey("key_1", null, key, null)
        check(!k.toString().contains("0123456789")) { k.toString() }
        c.close()
    }
    test("unit/bad_key_refused_before_sending") {
        eq("invalid_prefix", assertThrows<ValidationError> { USVideo(apiKey = "pk_nope", baseUrl = "http://h/v1") }.code)
        eq("invalid_characters", assertThrows<ValidationError> { USVideo(apiKey = "sd_abc\r\nX-Evil: 1", baseUrl = "http://h/v1") }.code)
        eq("base_url", assertThrows<ValidationError> { USVideo(apiKey = "sd_abcdefgh", baseUrl = "h/v1") }.field)
    }
    test("unit/panic_is_the_library_internal_error") {
        val e = assertThrows<InternalError> { com.usvideo.ffiDebugPanic("boom") }
        check(e.message!!.contains("boom")) { e.toString() }
        check(e is USVideoError)
        val f = assertThrows<InternalError> { com.usvideo.ffiDebugPanicFallible("bang") }
        check(f.message!!.contains("bang")) { f.toString() }
        // The library keeps working after a caught panic.
        eq(120L, estimateCost(Resolution.P1080, 5))
    }
    test("unit/every_error_kind_has_its_class") {
        for (kind in ErrorKind.values()) {
            val info = com.usvideo.ffi.errorFromResponse(com.usvideo.core.HttpResponse(500u, emptyList(), ByteArray(0))).copy(kind = kind)
            val err = USVideoError.from(info)
            eq(com.usvideo.ffi.errorClassName(kind), err::class.simpleName, "class of $kind")
            // And through the native error type (the Swift enum's shape).
            val viaNative = runCatching { ffiThrow(info) }.exceptionOrNull()
            eq(err::class, viaNative!!::class, "native round trip of $kind")
        }
    }
    test("unit/validation_lists_every_issue") {
        val c = USVideo(apiKey = "sd_test_key_0001", baseUrl = "http://127.0.0.1:9/v1")
        val e = assertThrowsS<ValidationError> {
            c.videos.create(CreateVideoRequest(" ", Mode.IMAGE_TO_VIDEO, duration = 11u, seed = 5_000_000_000u))
        }
        val fields = e.issues.map { it.field }.toSet()
        eq(setOf("prompt", "duration", "seed", "image_url"), fields)
        eq(null, e.status)
        c.close()
    }
}
