#!/usr/bin/env bash
# On a Mac with Xcode: build FieldworkFFI.xcframework (device and simulator
# slices) and the Swift bindings for ios/Package.swift.
#
#   ios/build-xcframework.sh            then: cd ios && swift build / open in Xcode
#
# Needs: rustup targets aarch64-apple-ios, aarch64-apple-ios-sim,
# x86_64-apple-ios (the script adds them), Xcode's xcodebuild and lipo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(uname) != Darwin ]]; then
  echo "ios/build-xcframework.sh: needs macOS with Xcode (xcodebuild, lipo)" >&2
  exit 1
fi
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  cargo build --locked --profile mobile -p fieldwork-ffi --target "$t"
done

# The bindings come from the library's own metadata (library mode).
cargo build --locked -p uniffi-bindgen
gen=target/bindings/swift
rm -rf "$gen"
target/debug/uniffi-bindgen generate --no-format --library target/aarch64-apple-ios/mobile/libfieldwork.a \
  --language swift --out-dir "$gen"

# One simulator library for both architectures.
sim=target/ios-simulator/mobile
mkdir -p "$sim"
lipo -create target/aarch64-apple-ios-sim/mobile/libfieldwork.a target/x86_64-apple-ios/mobile/libfieldwork.a \
  -output "$sim/libfieldwork.a"

headers=target/ios-headers
rm -rf "$headers"
mkdir -p "$headers"
cp "$gen/FieldworkFFI.h" "$headers/"
cp "$gen/FieldworkFFI.modulemap" "$headers/module.modulemap"

rm -rf ios/FieldworkFFI.xcframework
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/mobile/libfieldwork.a -headers "$headers" \
  -library "$sim/libfieldwork.a" -headers "$headers" \
  -output ios/FieldworkFFI.xcframework

cp "$gen/FieldworkKit.swift" ios/Sources/FieldworkKit/FieldworkKit.swift
mkdir -p ios/Sources/FieldworkKit/Resources
cp core/assets/fonts/NotoSansSC-Regular.otf ios/Sources/FieldworkKit/Resources/
echo "ios/build-xcframework.sh: ios/FieldworkFFI.xcframework and ios/Sources/FieldworkKit/FieldworkKit.swift (and the report font) are ready"
