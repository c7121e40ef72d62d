// swift-tools-version: 6.1
import PackageDescription

/// Settings every target shares: Swift 6 language mode comes from the tools version;
/// these upcoming features are the house style (see docs and ../shared/design/style.md).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "fod",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FoDCore", targets: ["FoDCore"]),
        .library(name: "FoDCrypto", targets: ["FoDCrypto"]),
        .library(name: "FoDEntitlements", targets: ["FoDEntitlements"]),
        .library(name: "FoDRevenue", targets: ["FoDRevenue"]),
        .library(name: "FoDStore", targets: ["FoDStore"]),
        .library(name: "FoDPostgres", targets: ["FoDPostgres"]),
        .library(name: "FoDAPI", targets: ["FoDAPI"]),
        .library(name: "FoDServer", targets: ["FoDServer"]),
        .library(name: "FoDVehicle", targets: ["FoDVehicle"]),
        // libfodvehicle: the C library of Sources/CFoDVehicle/include/fod_vehicle.h (docs/vehicle-sdk.md).
        .library(name: "fodvehicle", type: .dynamic, targets: ["FoDVehicleABI"]),
        .library(name: "fodvehicle_static", type: .static, targets: ["FoDVehicleABI"]),
        .executable(name: "fod", targets: ["fod"]),
        .executable(name: "fod-bench", targets: ["fod-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "FoDCore", swiftSettings: strictSettings),
        .target(name: "CPKCS11", exclude: ["README.md"], linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "FoDCrypto",
            dependencies: ["FoDCore", "COpenSSL", "CPKCS11"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDEntitlements",
            dependencies: ["FoDCore", "FoDCrypto"],
            swiftSettings: strictSettings
        ),
        .target(name: "CFoDSupport"),
        .target(
            name: "FoDVehicle",
            dependencies: ["FoDCore", "FoDCrypto", "FoDEntitlements"],
            swiftSettings: strictSettings
        ),
        .target(name: "CFoDVehicle"),
        .target(
            name: "FoDVehicleABI",
            dependencies: ["FoDCore", "FoDCrypto", "FoDEntitlements", "FoDVehicle", "CFoDVehicle"],
            swiftSettings: strictSettings
        ),
        .target(name: "FoDQRCode", dependencies: ["FoDCore"], swiftSettings: strictSettings),
        .target(
            name: "FoDRevenue",
            dependencies: ["FoDCore", "FoDEntitlements", "CFoDSupport"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDInvoicing",
            dependencies: ["FoDCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDStore",
            dependencies: [
                "FoDCore", "FoDRevenue", "FoDEntitlements", "FoDCrypto", "FoDInvoicing", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDPostgres",
            dependencies: [
                "FoDCore", "FoDStore", "FoDRevenue", "FoDEntitlements", "FoDCrypto",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDAPI",
            dependencies: ["FoDCore", "FoDEntitlements", "FoDRevenue", "FoDInvoicing"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDServer",
            dependencies: [
                "FoDCore", "FoDAPI", "FoDStore", "FoDRevenue", "FoDEntitlements", "FoDCrypto", "FoDInvoicing", "CFoDSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "FoDQRCode",
            ],
            resources: [.copy("DealerWeb/Templates")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fod",
            dependencies: [
                "FoDServer",
                "FoDVehicle",
                "FoDAPI",
                "FoDStore",
                "FoDPostgres",
                "FoDCore",
                "FoDCrypto",
                "FoDEntitlements",
                "FoDRevenue",
                "FoDInvoicing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fod-bench",
            dependencies: [
                "FoDCore", "FoDStore", "FoDPostgres",
                "FoDCrypto",
                "FoDEntitlements",
                "FoDRevenue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDTestSupport",
            path: "Tests/FoDTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDCoreTests",
            dependencies: ["FoDCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDCryptoTests",
            dependencies: ["FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDEntitlementsTests",
            dependencies: ["FoDCore", "FoDEntitlements", "FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDVehicleTests",
            dependencies: ["FoDCore", "FoDEntitlements", "FoDCrypto", "FoDVehicle", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDRevenueTests",
            dependencies: ["FoDCore", "FoDRevenue", "FoDEntitlements", "FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDServerTests",
            dependencies: [
                "FoDServer", "FoDAPI", "FoDStore", "FoDPostgres", "FoDRevenue", "FoDEntitlements", "FoDCrypto", "FoDTestSupport", "FoDCore", "FoDInvoicing",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDQRCodeTests",
            dependencies: ["FoDQRCode", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "fodCLITests",
            dependencies: ["FoDEntitlements", "FoDCrypto", "FoDStore", "FoDTestSupport", "FoDAPI", "FoDCore"],
            swiftSettings: strictSettings
        ),
    ]
)
