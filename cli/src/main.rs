//! The `deferlint` binary: checks the files and folders it is given.

fn main() -> std::process::ExitCode {
    deferlint_cli::main()
}
