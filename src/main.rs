//! The `goodwill` binary: parses the command line and calls the library.

fn main() {
    if let Err(e) = goodwill::cli::run() {
        eprintln!("goodwill: {e}");
        std::process::exit(e.exit_code());
    }
}
