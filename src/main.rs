//! The `goodwill` binary: parses the command line and calls the library.

fn main() {
    if let Err(e) = goodwill::cli::run() {
        eprintln!("goodwill: {}", e.replace('\n', " "));
        // 2: a check found the audit trail or the ledger broken; 1: anything else.
        let broken = e.contains("audit trail BROKEN") || e.contains("ledger check FAILED");
        std::process::exit(if broken { 2 } else { 1 });
    }
}
