// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for yingtong's readers (issue 8). A separate package, so the product's `swift build` and
// `swift test` never build them; `scripts/fuzz` builds them with one comma-joined flag
// `-Xswiftc -sanitize=fuzzer,address` (two flags keep only the last: swift-tech-probe §6) and runs them.
// Each target only forwards libFuzzer's input to `FuzzEntries`, which the regression-corpus test also calls.
let targets = ["csv", "xml", "sdmx", "rules"]

let package = Package(
    name: "yingtong-fuzz",
    platforms: [.macOS(.v14)],
    products: targets.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [.package(name: "yingtong", path: "..")],
    targets: targets.map {
        .executableTarget(name: "fuzz-\($0)", dependencies: [.product(name: "YingtongFuzzEntries", package: "yingtong")])
    },
    swiftLanguageModes: [.v6]
)
