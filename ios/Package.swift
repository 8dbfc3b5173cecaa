// swift-tools-version:5.9
// Fieldwork for iOS: the Rust core as an XCFramework plus its Swift bindings.
// `ios/build-xcframework.sh` (on a Mac) builds FieldworkFFI.xcframework and
// copies the generated FieldworkKit.swift into Sources/FieldworkKit.
import PackageDescription

let package = Package(
    name: "FieldworkKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "FieldworkKit", targets: ["FieldworkKit"]),
    ],
    targets: [
        .binaryTarget(name: "FieldworkFFI", path: "FieldworkFFI.xcframework"),
        .target(
            name: "FieldworkKit",
            dependencies: ["FieldworkFFI"],
            path: "Sources/FieldworkKit",
            // The PDF report's font, copied from core/assets by build-xcframework.sh.
            resources: [.copy("Resources/NotoSansSC-Regular.otf")],
            // SQLCipher in the library encrypts with CommonCrypto (Security);
            // the device key lives in the Secure Enclave.
            linkerSettings: [.linkedFramework("Security"), .linkedFramework("CoreFoundation")]
        ),
        .testTarget(
            name: "FieldworkKitTests",
            dependencies: ["FieldworkKit"],
            path: "Tests/FieldworkKitTests"
        ),
    ]
)
