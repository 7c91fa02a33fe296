//! factory_cli entry point: parse the options, run the command, map its error to an exit code.

use clap::Parser;

fn main() {
    let cli = factory_cli::Cli::parse();
    if let Err(error) = factory_cli::run(cli) {
        eprintln!("error: {error}");
        std::process::exit(error.code);
    }
}
