// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "upshift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "upshift", targets: ["upshift"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "RESP",
            dependencies: ["CHiredis"],
            swiftSettings: strict
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Keyspace",
            dependencies: ["RESP"],
            swiftSettings: strict
        ),
        .target(
            name: "UpstashProfile",
            dependencies: [],
            swiftSettings: strict
        ),
        .target(
            name: "UpstashClient",
            dependencies: [
                "RESP", "CCurl", "UpstashProfile",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Migration",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile", "Keyspace",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Compare",
            dependencies: ["RESP", "RedisClient", "Keyspace"],
            swiftSettings: strict
        ),
        .target(
            name: "Checklist",
            dependencies: ["RESP", "UpstashProfile", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "Report",
            dependencies: ["RESP", "RedisClient", "UpstashProfile", "Keyspace"],
            swiftSettings: strict
        ),
        .target(
            name: "Shadow",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "upshift",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile", "Gateway", "Migration", "Compare", "Checklist", "Report",
                "Shadow",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["RESP", "RedisClient", "UpstashProfile"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RESPTests",
            dependencies: ["RESP"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RESP", "RedisClient", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MigrationTests",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile", "Keyspace", "Migration", "Compare", "Report", "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CompareTests",
            dependencies: ["RESP", "RedisClient", "Migration", "Compare", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChecklistTests",
            dependencies: ["RESP", "RedisClient", "Checklist", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ReportTests",
            dependencies: ["RESP", "RedisClient", "UpstashProfile", "Report", "Keyspace", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RESTTargetTests",
            dependencies: ["RESP", "RedisClient", "UpstashClient", "Migration", "Compare", "Checklist", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ShadowTests",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "Shadow", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["RESP", "RedisClient", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UpstashClientTests",
            dependencies: [
                "RESP", "RedisClient", "UpstashClient", "UpstashProfile", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
