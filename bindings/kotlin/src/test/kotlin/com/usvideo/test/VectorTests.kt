package com.usvideo.test

fun registerVectorTests(dir: String) {
}
