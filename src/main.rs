//! The `goodwill` binary: parses the command line and calls the library.

fn main() {
    if let Err(e) = goodwill::cli::run() {
        eprintln!("goodwill: {}", e.replace('\n', " "));
        // 2: the audit trail does not verify; 1: anything else.
        std::process::exit(if e.contains("audit trail BROKEN") {
            2
        } else {
            1
        });
    }
}
