# Sourced by the scripts here: the workspace's one debug build, and the
# tools the checks need, installed when they are missing, so a new machine
# needs nothing but Rust, Java, Node, Python and apt. Versions are pinned;
# everything lands under target/tools except JNA (Debian's libjna-java).

KOTLIN_VERSION=2.4.20
TREE_SITTER_VERSION=0.26.1
TREE_SITTER_SWIFT_VERSION=0.7.4
TOOLS="$PWD/target/tools"

# What every debug build here asks Cargo for: the whole workspace with its
# tests (so dev-dependencies' features are unified) and the binding
# library's panic probe. Cargo picks dependencies' features from the
# packages a command names, so `-p fieldwork-server` or `-p fieldwork-ffi`
# alone rebuilt about 25 and 90 crates with other features after
# `cargo test --workspace` (1.8 and 6.4 minutes on 2 cores, 2026-12-03).
# With one set, `cargo test` builds the server, the libraries and the
# generator once, and the later steps find them built.
WORKSPACE=(--locked --workspace --features fieldwork-ffi/panic-probe)

# The workspace's debug build: target/debug/{fieldwork, uniffi-bindgen,
# libfieldwork.*}. After `cargo test "${WORKSPACE[@]}"` it only links the
# generator's binary (under a second).
build_debug() {
  cargo build "${WORKSPACE[@]}" --all-targets
}

# Every rustc run for the workspace's own crates from here on goes through
# clippy's driver, which compiles them as rustc does and also runs clippy's
# lints, warnings denied: one build serves the tests and the lints.
# Dependencies are compiled by rustc as usual. CLIPPY_ARGS is how
# `cargo clippy` hands the driver its arguments.
lint_in_build() {
  local driver
  driver="$(command -v clippy-driver || true)"
  [[ -n $driver ]] || { echo "toolchain: clippy-driver is missing (rustup component add clippy)" >&2; return 1; }
  export RUSTC_WORKSPACE_WRAPPER="$driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# Proof that the lints really run in the build: a scratch crate with one
# thing clippy refuses (`len() == 0`) must fail to build, naming that lint.
lint_probe() {
  local d out
  d="$(mktemp -d)"
  mkdir -p "$d/src"
  printf '[package]\nname = "lint-probe"\nversion = "0.0.0"\nedition = "2024"\n[workspace]\n' >"$d/Cargo.toml"
  printf 'fn main() {\n    let v: Vec<u8> = std::env::args().map(|a| a.len() as u8).collect();\n    if v.len() == 0 {\n        println!("none");\n    }\n}\n' >"$d/src/main.rs"
  if out="$(CARGO_TARGET_DIR="$d/target" cargo build --offline --manifest-path "$d/Cargo.toml" 2>&1)"; then
    rm -rf "$d"
    echo "toolchain: clippy's lints do not run in the build (a known lint passed)" >&2
    return 1
  fi
  rm -rf "$d"
  if ! grep -q "len_zero" <<<"$out"; then
    echo "toolchain: the lint probe failed for another reason:" >&2
    echo "$out" >&2
    return 1
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Sets JNA_JAR.
need_jna() {
  JNA_JAR=/usr/share/java/jna.jar
  if [[ ! -f $JNA_JAR ]]; then
    echo "toolchain: installing Debian libjna-java" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libjna-java >/dev/null
  fi
  [[ -f $JNA_JAR ]] || { echo "toolchain: $JNA_JAR still missing" >&2; return 1; }
}

# poppler-utils (pdftotext, pdftoppm, pdfimages), qpdf and zbar-tools
# (zbarimg): the PDF report's tests read the documents back with them.
need_pdf_tools() {
  local missing=0 t
  for t in pdftotext pdftoppm pdfimages qpdf zbarimg; do
    command -v "$t" >/dev/null || missing=1
  done
  if [[ $missing == 1 ]]; then
    echo "toolchain: installing Debian poppler-utils, qpdf and zbar-tools" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq poppler-utils qpdf zbar-tools >/dev/null
  fi
  for t in pdftotext pdftoppm pdfimages qpdf zbarimg; do
    command -v "$t" >/dev/null || { echo "toolchain: $t still missing" >&2; return 1; }
  done
}

# SQLCipher (the phone's encrypted store) is compiled into every build and
# links OpenSSL's libcrypto on Linux: its headers come from libssl-dev.
need_openssl_dev() {
  if [[ ! -f /usr/include/openssl/evp.h ]]; then
    echo "toolchain: installing Debian libssl-dev (OpenSSL's libcrypto for SQLCipher)" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libssl-dev >/dev/null
  fi
  [[ -f /usr/include/openssl/evp.h ]] || { echo "toolchain: libssl-dev still missing" >&2; return 1; }
}

# Sets KOTLIN_HOME (bin/kotlinc, lib/kotlin-stdlib.jar, kotlin-test.jar, coroutines).
need_kotlin() {
  KOTLIN_HOME="$TOOLS/npm/node_modules/kotlin-compiler"
  if [[ ! -x $KOTLIN_HOME/bin/kotlinc ]] || ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$KOTLIN_HOME/package.json"; then
    command -v npm >/dev/null || { echo "toolchain: npm is required for the Kotlin compiler" >&2; return 1; }
    echo "toolchain: installing kotlin-compiler $KOTLIN_VERSION from npm" >&2
    mkdir -p "$TOOLS/npm"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
    chmod +x "$KOTLIN_HOME"/bin/*
  fi
  command -v java >/dev/null || { echo "toolchain: java (17 or later) is required" >&2; return 1; }
}

# Sets TS_PYTHON: a Python with tree-sitter and the Swift grammar.
need_tree_sitter() {
  TS_PYTHON="$TOOLS/py/bin/python"
  if ! "$TS_PYTHON" -c "import tree_sitter, tree_sitter_swift" 2>/dev/null; then
    echo "toolchain: installing tree-sitter $TREE_SITTER_VERSION and tree-sitter-swift $TREE_SITTER_SWIFT_VERSION from PyPI" >&2
    python3 -m venv "$TOOLS/py"
    "$TOOLS/py/bin/pip" install -q "tree-sitter==$TREE_SITTER_VERSION" "tree-sitter-swift==$TREE_SITTER_SWIFT_VERSION"
  fi
}

# psql (a scratch database on the PostgreSQL FIELDWORK_TEST_PG names),
# pg_dump and pg_restore (the backup tests).
need_pg_client() {
  if ! command -v psql >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1 \
    || ! command -v pg_restore >/dev/null 2>&1; then
    echo "toolchain: installing Debian postgresql-client" >&2
    as_root apt-get update -qq
    as_root apt-get install -y -qq postgresql-client >/dev/null
  fi
}

SCHEMATHESIS_VERSION=4.32.5

# Sets SCHEMATHESIS: the command that checks a running API against its
# OpenAPI description.
need_schemathesis() {
  SCHEMATHESIS="$TOOLS/schemathesis/bin/schemathesis"
  if ! "$SCHEMATHESIS" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "toolchain: installing schemathesis $SCHEMATHESIS_VERSION from PyPI" >&2
    python3 -m venv "$TOOLS/schemathesis"
    "$TOOLS/schemathesis/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

PLAYWRIGHT_VERSION=1.64.1

# Sets CHROMIUM and PLAYWRIGHT_CORE (the module tests/board imports).
need_browser() {
  CHROMIUM=/usr/bin/chromium
  if [[ ! -x $CHROMIUM ]]; then
    echo "toolchain: installing Debian chromium" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
  fi
  [[ -x $CHROMIUM ]] || { echo "toolchain: $CHROMIUM still missing" >&2; return 1; }
  # Customers' names are often Chinese: a CJK font, so screenshots show them.
  if [[ ! -d /usr/share/fonts/truetype/wqy ]]; then
    echo "toolchain: installing Debian fonts-wqy-microhei" >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq fonts-wqy-microhei >/dev/null \
      || { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
  fi
  if ! grep -qs "\"version\": \"$PLAYWRIGHT_VERSION\"" "$TOOLS/npm/node_modules/playwright-core/package.json"; then
    echo "toolchain: installing playwright-core $PLAYWRIGHT_VERSION from npm" >&2
    mkdir -p "$TOOLS/npm"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
  fi
  # An ES module ignores NODE_PATH: the test imports this file by path.
  export PLAYWRIGHT_CORE="$TOOLS/npm/node_modules/playwright-core/index.mjs"
}
