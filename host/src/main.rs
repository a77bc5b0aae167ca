//! The `simian` binary: parse the command line, set up logging, hand over to `cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    simian::cli::main()
}
