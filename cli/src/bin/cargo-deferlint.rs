//! The `cargo-deferlint` binary: `cargo deferlint` checks the current cargo workspace.

fn main() -> std::process::ExitCode {
    deferlint_cli::main()
}
