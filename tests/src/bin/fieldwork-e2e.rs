//! The `fieldwork` command, built inside the tests package so that process
//! tests can start it (Cargo hands a package's tests only its own binaries).
//! Same code as `server/src/main.rs`: `fieldwork_server::cli`.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    fieldwork_server::cli::main_with(&args)
}
