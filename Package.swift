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
        .library(name: "FoDCrypto", targets: ["FoDCrypto"]),
        .library(name: "FoDEntitlements", targets: ["FoDEntitlements"]),
        .library(name: "FoDRevenue", targets: ["FoDRevenue"]),
        .executable(name: "fod", targets: ["fod"]),
        .executable(name: "fod-bench", targets: ["fod-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "FoDCrypto",
            dependencies: ["COpenSSL"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FoDEntitlements",
            dependencies: ["FoDCrypto"],
            swiftSettings: strictSettings
        ),
        .target(name: "CFoDSupport"),
        .target(
            name: "FoDRevenue",
            dependencies: ["FoDEntitlements", "CFoDSupport"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fod",
            dependencies: [
                "FoDCrypto",
                "FoDEntitlements",
                "FoDRevenue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "fod-bench",
            dependencies: [
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
            name: "FoDCryptoTests",
            dependencies: ["FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDEntitlementsTests",
            dependencies: ["FoDEntitlements", "FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FoDRevenueTests",
            dependencies: ["FoDRevenue", "FoDEntitlements", "FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "fodCLITests",
            dependencies: ["FoDEntitlements", "FoDCrypto", "FoDTestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
