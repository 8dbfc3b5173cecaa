//! The `fieldwork` binary; see [`fieldwork_server::cli`].

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    fieldwork_server::cli::main_with(&args)
}
