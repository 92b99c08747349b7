// swift-tools-version:6.0
import PackageDescription

/// The modules every request runs through (the core, the Lua boundary, the stages). Their
/// release build leaves out the runtime exclusivity checks, which cost 0.8 us of user time
/// per proxied request with no stage, 1.8 us with three Lua stages and 3 us with the
/// observability modules (measured side by side, README "Performance"): more than their
/// swift_beginAccess calls alone, as they also keep accessors from being inlined. Debug builds,
/// which run every test, keep them, so an overlapping access still traps there; the compiler's
/// static checks hold in both. `scripts/build-release`, which every script's release build
/// goes through, leaves them out of the dependencies (SwiftNIO) as well.
let requestPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "luxy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "luxy", targets: ["luxy"]),
        .executable(name: "luxy-alloc-counter", targets: ["LuxyAllocationCounter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // Links Debian's lua-cjson (`require("cjson")`): package lua-cjson-dev, see scripts/install-deps.
        .target(name: "CLuaShims", dependencies: ["CLua"], linkerSettings: [.linkedLibrary("lua5.4-cjson")]),
        .target(name: "LuxyConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        // `luxy import envoyfilter`: Istio EnvoyFilter / Envoy Lua filter configs → plugins and chains.
        .target(name: "LuxyImport", dependencies: ["LuxyConfig", .product(name: "Yams", package: "Yams")]),
        .target(name: "LuxyLua", dependencies: [
            "CLuaShims", "CLua", "LuxyConfig",
            // The process-wide stores of the `luxy` table (shared dictionaries, queues, metrics).
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: requestPathSettings),
        .target(name: "LuxyCore", dependencies: [
            "LuxyConfig",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: requestPathSettings),
        .target(name: "LuxyPlugins", dependencies: [
            "LuxyConfig", "LuxyLua", "LuxyCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: requestPathSettings),
        // `luxy test`: plugin tests offline, the production VM and handles with an in-memory host.
        .target(name: "LuxyPluginTest", dependencies: [
            "CLua", "CLuaShims", "LuxyConfig", "LuxyLua", "LuxyCore", "LuxyPlugins",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "LuxyAdmin", dependencies: [
            "LuxyConfig", "LuxyCore", "LuxyPlugins",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "LuxyTestSupport", dependencies: [
            "LuxyConfig", "LuxyCore", "LuxyPlugins",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // `luxy iptables`: the transparent-capture rules (istio-iptables' layout). No NIO.
        .target(name: "LuxyCapture"),
        .executableTarget(name: "luxy", dependencies: [
            "LuxyConfig", "LuxyCore", "LuxyPlugins", "LuxyAdmin", "LuxyImport", "LuxyCapture", "LuxyPluginTest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], linkerSettings: [
            // Idle RSS of the release binary (deploy/README.md, "Where the memory is"): the
            // static stdlib's link arguments say `-export-dynamic`, which puts every symbol of the
            // packages (29 000) in .dynsym, and the loader hashes and searches that table at
            // every start (about 3 MB of the binary's pages touched). Nothing looks luxy's own
            // symbols up at run time: liblua and lua-cjson resolve against liblua5.4.so. lld,
            // besides, lets scripts/install pack the relative relocations (DT_RELR), which gold
            // cannot.
            .unsafeFlags(["-use-ld=lld", "-Xlinker", "--no-export-dynamic"],
                         .when(platforms: [.linux], configuration: .release)),
        ]),
        // Replaces malloc and friends to count them: link it into the allocation counter only.
        .target(name: "CAllocationCounter"),
        .executableTarget(name: "LuxyAllocationCounter", dependencies: [
            "CAllocationCounter", "LuxyCore", "LuxyPlugins",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "LuxyConfigTests", dependencies: ["LuxyConfig"]),
        .testTarget(name: "LuxyImportTests", dependencies: ["LuxyImport", "LuxyConfig"]),
        .testTarget(name: "LuxyCaptureTests", dependencies: ["LuxyCapture"]),
        .testTarget(name: "LuxyLuaTests", dependencies: ["LuxyLua", "LuxyConfig", "LuxyTestSupport"]),
        .testTarget(name: "LuxyCoreTests", dependencies: [
            "LuxyCore", "LuxyConfig", "LuxyTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "LuxyIntegrationTests", dependencies: [
            "LuxyCore", "LuxyConfig", "LuxyPlugins", "LuxyAdmin", "LuxyTestSupport", "LuxyLua",
            // Signs the JWTs the jwt-auth tests send.
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], exclude: ["EnvoyConformance", "PluginTestFixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
