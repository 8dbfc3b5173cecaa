//! Link options for the shared library the apps load. Relative relocations
//! (about 48,000 of them: pointers in static tables) are packed, which takes
//! about 1.1 MB of `.rela.dyn` off `libfieldwork.so`: DT_RELR on Linux
//! (glibc 2.36+), Android's own packed format on Android (API 23+, below the
//! module's minSdk 24). Only this crate's cdylib is affected.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    match (os.as_str(), env.as_str()) {
        ("linux", "gnu") => println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs"),
        ("android", _) => println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android"),
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}
