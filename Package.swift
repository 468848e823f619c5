// swift-tools-version:6.1
import PackageDescription

// Stages flow one way (GUIDE.md): Model ← Ingest ← Normalize ← Rules ← Store ← Indicators ← Report ← Pipeline ← CLI.
// Every target is built in Swift 6 language mode with strict concurrency.
let package = Package(
    name: "yingtong",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "yingtong", targets: ["yingtong"]),
        // For the separate fuzzing package (Fuzz/Package.swift) only: the readers' fuzz entry points.
        .library(name: "YingtongFuzzEntries", targets: ["YingtongFuzzEntries"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // XLSX is a zip of XML parts; the zip container is not the product's logic (issue 6).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // The PostgreSQL warehouse (issue 6); linked only by YingtongWarehouse and the command-line tool.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Property-based tests (issue 8).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // Templates of the HTML report, the 反馈单 and the brief (issue 7).
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
        // Exports of the store for other tools (FORMATS §6): CSV, XLSX, JSON Lines, SDMX-ML.
        .target(
            name: "YingtongExport",
            dependencies: ["YingtongModel", "YingtongStore", "YingtongIndicators",
                           .product(name: "GRDB", package: "GRDB.swift"), "ZIPFoundation"]
        ),
        // The PostgreSQL warehouse: the store's schema loaded through postgres-nio. Its own module so that only
        // what needs it (the command-line tool) links SwiftNIO.
        .target(
            name: "YingtongWarehouse",
            dependencies: ["YingtongModel", "YingtongStore", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log")]
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
                "YingtongIndicators", "YingtongReport", "YingtongXML", "YingtongExport",
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
                "YingtongExport",
                "YingtongWarehouse",
                "YingtongStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "YingtongReport", .product(name: "Logging", package: "swift-log"),
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
                           "YingtongReport", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Mustache", package: "swift-mustache")]
        ),
        .testTarget(
            name: "YingtongExportTests",
            dependencies: ["YingtongExport", "YingtongStore", "YingtongModel", "YingtongIndicators", "ZIPFoundation",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "YingtongWarehouseTests",
            dependencies: ["YingtongWarehouse", "YingtongStore", "YingtongModel", "YingtongIndicators",
                           .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // Reliability (issue 8): the fuzz targets' entry points, shared with the regression-corpus replay.
        .target(
            name: "YingtongFuzzEntries",
            dependencies: ["YingtongModel", "YingtongIngest", "YingtongNormalize", "YingtongXML", "YingtongRules"]
        ),
        .testTarget(
            name: "YingtongReliabilityTests",
            dependencies: ["YingtongFuzzEntries", "YingtongPipeline", "YingtongIngest", "YingtongNormalize",
                           "YingtongModel", "YingtongRules", "YingtongGenerate", "yingtong",
                           .product(name: "PropertyBased", package: "swift-property-based"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            // The corpus files are read from the source tree, like Tests/Corpus/.
            exclude: ["Hostile", "make_hostile.py"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
