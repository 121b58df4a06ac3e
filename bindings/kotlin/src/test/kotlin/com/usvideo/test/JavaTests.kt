package com.usvideo.test

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runInterruptible
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Modifier

/**
 * The Java caller's tests (`src/test/java/…/JavaCallerTest.java`, compiled by javac after the
 * Kotlin package: test.sh puts its classes on the class path): each public static method without
 * parameters is a test `java/<name>`, run on a thread of its own (it blocks on futures), which
 * the harness's timeout interrupts.
 */
fun registerJavaTests() {
    val cls = try {
        Class.forName("com.usvideo.test.JavaCallerTest")
    } catch (e: ClassNotFoundException) {
        test("java/compiled") { throw Skip("JavaCallerTest is not on the class path (bindings/test.sh compiles it with javac)") }
        return
    }
    val methods = cls.declaredMethods
        .filter { Modifier.isPublic(it.modifiers) && Modifier.isStatic(it.modifiers) && it.parameterCount == 0 }
        .sortedBy { it.name }
    for (m in methods) {
        test("java/${m.name}", timeoutMs = 90_000) {
            runInterruptible(Dispatchers.IO) {
                try {
                    m.invoke(null)
                } catch (e: InvocationTargetException) {
                    throw e.targetException
                }
            }
        }
    }
}
