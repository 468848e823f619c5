// swift-tools-version:6.1
import PackageDescription

// Stages flow one way (GUIDE.md): Model ← Ingest ← Normalize ← Rules ← Store ← Indicators ← Report ← Pipeline ← CLI.
// Every target is built in Swift 6 language mode with strict concurrency.
let package = Package(
    name: "yingtong",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "yingtong", targets: ["yingtong"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // SHA-256 of every input comes from the system's OpenSSL: the same audited code, without compiling a
        // second copy of BoringSSL (swift-crypto) on every clean CI build.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "YingtongModel",
            dependencies: [.product(name: "Yams", package: "Yams")],
            resources: [.copy("Reference")]
        ),
        .target(name: "YingtongIngest", dependencies: ["YingtongModel"]),
        // Synthetic cycles for tests and benchmarks; depends on the model only, so any stage can use it.
        .target(name: "YingtongGenerate", dependencies: ["YingtongModel"]),
        // libxml2 from the system (FORMATS §3–4): the streaming xmlTextReader, with no copy of the parser to build.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "YingtongXML", dependencies: ["CLibXML2", "YingtongModel", "YingtongIngest"]),
        // Generates and reads bureau XML for scripts/bench-xml (release build only); not part of the product.
        .executableTarget(name: "yingtong-xml-bench", dependencies: ["YingtongXML", "YingtongIngest", "YingtongModel"]),
        .target(name: "YingtongNormalize", dependencies: ["YingtongModel", "YingtongIngest"]),
        .target(
            name: "YingtongRules",
            dependencies: ["YingtongModel", .product(name: "Yams", package: "Yams"), "COpenSSL"]
        ),
        .target(
            name: "YingtongStore",
            dependencies: [
                "YingtongModel", .product(name: "GRDB", package: "GRDB.swift"),
                // The bulk loader binds with the raw sqlite3_* API on GRDB's own connection (same libsqlite3).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "YingtongIndicators",
            dependencies: ["YingtongModel", "YingtongStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Reports for people (FORMATS §6): HTML report, 反馈单, the brief, rendered from Mustache templates.
        .target(
            name: "YingtongReport",
            dependencies: ["YingtongModel", "YingtongStore", "YingtongIndicators",
                           .product(name: "Mustache", package: "swift-mustache"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Templates")]
        ),
        .target(
            name: "YingtongPipeline",
            dependencies: [
                "YingtongModel", "YingtongIngest", "YingtongNormalize", "YingtongRules", "YingtongStore",
                "YingtongIndicators", "YingtongReport", "YingtongXML",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                "COpenSSL",
            ]
        ),
        .executableTarget(
            name: "yingtong",
            dependencies: [
                "YingtongPipeline",
                "YingtongGenerate",
                "YingtongRules",
                "YingtongXML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "YingtongReport", "YingtongStore", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // scripts/bench-rules: the rule catalogue over 1,000,000 synthetic enterprises (release build only).
        .executableTarget(name: "RulesBench", dependencies: ["YingtongRules", "YingtongModel"]),
        .testTarget(name: "YingtongModelTests", dependencies: ["YingtongModel"]),
        .testTarget(name: "YingtongGenerateTests", dependencies: ["YingtongGenerate", "YingtongModel"]),
        .testTarget(name: "YingtongIngestTests", dependencies: ["YingtongIngest", "YingtongModel"]),
        .testTarget(
            name: "YingtongXMLTests",
            dependencies: ["YingtongXML", "YingtongIngest", "YingtongModel"],
            resources: [.copy("Hostile")]
        ),
        .testTarget(name: "YingtongNormalizeTests", dependencies: ["YingtongNormalize", "YingtongIngest", "YingtongModel"]),
        .testTarget(
            name: "YingtongRulesTests",
            dependencies: ["YingtongRules", "YingtongModel"],
            resources: [.copy("Cases")]
        ),
        .testTarget(
            name: "YingtongStoreTests",
            dependencies: ["YingtongStore", "YingtongModel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "YingtongIndicatorsTests", dependencies: ["YingtongIndicators", "YingtongStore", "YingtongModel"]),
        // Release-build benchmark of the store's bulk load (scripts/bench-store); not part of the product.
        .executableTarget(
            name: "yingtong-bench-store",
            dependencies: [
                "YingtongStore", "YingtongModel", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "YingtongEndToEndTests",
            dependencies: ["YingtongPipeline", "YingtongStore", "YingtongIndicators", "YingtongModel", "yingtong",
                           .product(name: "GRDB", package: "GRDB.swift"),
                           "YingtongReport", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
