#!/usr/bin/env bash
# Build libfieldwork.so for the Android ABIs with cargo-ndk and generate the
# Kotlin bindings, for android/build.gradle.kts.
#
# Needs: the Android NDK (ANDROID_NDK_HOME), `cargo install cargo-ndk`; the
# script adds the rustup targets. The `mobile` profile: release, LTO,
# stripped, optimised for size. SQLCipher's OpenSSL is built from source for
# each ABI (feature vendored-openssl; needs perl and make).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK}"
command -v cargo-ndk >/dev/null || { echo "android/build-rust.sh: cargo install cargo-ndk" >&2; exit 1; }
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android

cargo ndk --platform 24 -t arm64-v8a -t armeabi-v7a -t x86_64 \
  -o android/src/main/jniLibs build --locked --profile mobile -p fieldwork-ffi \
  --features fieldwork-ffi/vendored-openssl

# The Kotlin comes from the host build's metadata: the same source, so the same API.
scripts/bindings mobile
echo "android/build-rust.sh: android/src/main/jniLibs and target/bindings/kotlin are ready"
