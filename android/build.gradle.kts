// The Fieldwork Android library: the generated uniffi Kotlin (from
// ../target/bindings/kotlin), the hand-written Kotlin in src/main/kotlin, and
// libfieldwork.so for each ABI in src/main/jniLibs (from build-rust.sh).
//
//   ./build-rust.sh            # cargo-ndk: arm64-v8a, armeabi-v7a, x86_64 + bindings
//   gradle assembleRelease     # build/outputs/aar/fieldwork-release.aar
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
}

android {
    namespace = "app.fieldwork"
    compileSdk = 35
    ndkVersion = "27.2.12479018"

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].apply {
        java.srcDirs("src/main/kotlin", "../target/bindings/kotlin")
        jniLibs.srcDirs("src/main/jniLibs")
        // The PDF report's font (fonts/NotoSansSC-Regular.otf, SIL OFL):
        // see ReportFonts.kt.
        assets.srcDirs("../core/assets")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }
}

kotlin {
    jvmToolchain(17)
    compilerOptions {
        allWarningsAsErrors.set(true)
    }
}

dependencies {
    // uniffi's Kotlin calls the library through JNA; the @aar carries its native parts.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
}
