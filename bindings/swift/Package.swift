// swift-tools-version:5.9
// The Swift package of the US Video SDK. Generated sources (Sources/USVideoFFI and the C module
// map in Sources/usvideo_uniffiFFI) come from `bindings/generate.sh`; never edit them by hand.
// The native library is linked statically from `bindings/swift/lib` (see bindings/README.md:
// `cargo build -p usvideo-uniffi --release --lib` and copy `libusvideo_uniffi.a` there; for iOS,
// an XCFramework of the per-target static libraries replaces this folder).
import PackageDescription
import Foundation

let libDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("lib").path

let package = Package(
    name: "USVideo",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "USVideo", targets: ["USVideo"]),
    ],
    targets: [
        // The C side of the FFI: both generated headers, one module map, `link "usvideo_uniffi"`.
        .systemLibrary(name: "usvideo_uniffiFFI", path: "Sources/usvideo_uniffiFFI"),
        // Both generated Swift files, in one module (the bindings' file uses the core's types).
        .target(
            name: "USVideoFFI",
            dependencies: ["usvideo_uniffiFFI"],
            path: "Sources/USVideoFFI",
            linkerSettings: [.unsafeFlags(["-L", libDir])]
        ),
        // The hand-written API: `USVideo` client, `async` functions, URLSession driver, errors.
        .target(name: "USVideo", dependencies: ["USVideoFFI"], path: "Sources/USVideo"),
        .testTarget(name: "USVideoTests", dependencies: ["USVideo"], path: "Tests/USVideoTests"),
    ]
)
