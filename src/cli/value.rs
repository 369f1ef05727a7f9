//! `goodwill import sales`, `goodwill value ...`: the customer value model
//! from the command line.

use std::io::{BufRead, BufWriter, IsTerminal, Write};

use clap::Subcommand;

use crate::audit::AuditCtx;
use crate::bootstrap;
use crate::config::Settings;
use crate::domain::FieldError;
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::money::{Currency, Money};
use crate::store::sales::{Buyer, LineOutcome, NewSale};
use crate::store::{self, DbConnection};
use crate::value::{self, TimeUnit, bgnbd, gamma_gamma, simulate};

/// `import` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// Import sales from a CSV file with the header
    /// `customer_external_ref,occurred_at,amount,currency,store_code,sale_ref`
    /// (`occurred_at` a date or an RFC 3339 timestamp). Streams the file in
    /// chunks; reports each bad row with its line number on stderr; a sale
    /// already recorded (same store and sale_ref) is skipped, so re-running a
    /// file adds nothing twice. Prints a summary; exit 0 when no row was bad.
    Sales {
        /// The CSV file (`-` for stdin).
        file: String,
        /// The tenant (default: the only tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Create customers for unknown external references (named by them).
        #[arg(long)]
        create_customers: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 5_000)]
        chunk: usize,
    },
}

/// `value` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum ValueCommand {
    /// Fit a new model version on the tenant's sales (every tenant, and every
    /// currency of its sales, unless narrowed); prints each version as JSON.
    Fit {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// The statistics' end (default today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Only this currency.
        #[arg(long)]
        currency: Option<String>,
        /// weeks (default) or days.
        #[arg(long, default_value = "weeks")]
        time_unit: String,
        /// L2 penalty on both models' parameters (default: 0.001 on
        /// BG/NBD's, none on Gamma-Gamma's).
        #[arg(long)]
        penalizer: Option<f64>,
    },
    /// Fit both models on a statistics file (header
    /// `frequency,recency,T,monetary_value`, the `lifetimes` convention) and
    /// print the fit as JSON; no database. With --predictions, write each
    /// customer's figures. For comparisons and benchmarks.
    FitFile {
        /// The statistics CSV.
        file: String,
        /// L2 penalty on the parameters.
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        /// The unit of recency and T: weeks or days.
        #[arg(long, default_value = "weeks")]
        time_unit: String,
        /// Write `probability_alive,expected_purchases,expected_average_value,lifetime_value` per row here.
        #[arg(long, value_name = "FILE")]
        predictions: Option<String>,
        /// Months of the lifetime value.
        #[arg(long, default_value_t = 12)]
        horizon_months: u32,
        /// Monthly discount rate.
        #[arg(long, default_value_t = 0.01)]
        monthly_discount_rate: f64,
    },
    /// Print a population drawn from the models (statistics CSV, the format
    /// fit-file reads): for tests, benchmarks and comparisons.
    Simulate {
        /// Customers.
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// BG/NBD r, alpha, a, b.
        #[arg(
            long,
            num_args = 4,
            value_delimiter = ',',
            default_value = "0.25,4.4,0.8,2.4"
        )]
        bgnbd: Vec<f64>,
        /// Gamma-Gamma p, q, gamma.
        #[arg(
            long,
            num_args = 3,
            value_delimiter = ',',
            default_value = "6.25,3.74,15.45"
        )]
        gamma_gamma: Vec<f64>,
        /// Shortest and longest observation, in weeks.
        #[arg(long, num_args = 2, value_delimiter = ',', default_value = "26,104")]
        t_range: Vec<f64>,
    },
}

fn unit(s: &str) -> Result<TimeUnit, String> {
    TimeUnit::parse(s).ok_or_else(|| format!("--time-unit {s:?}: expected weeks or days"))
}

/// Fits one tenant's model in one currency and stores it as a new version
/// (audited); its view as one JSON line.
fn fit_one(
    conn: &mut DbConnection,
    t: TenantId,
    c: Currency,
    as_of: chrono::NaiveDate,
    unit: TimeUnit,
    penalizer: Option<f64>,
    clock: &crate::clock::Clock,
) -> Result<String, String> {
    let started = std::time::Instant::now();
    let ctx = AuditCtx::system(t, "value-fit", clock.clone());
    let spec = crate::app::value::FitSpec {
        currency: Some(c),
        as_of,
        unit,
        penalizer,
    };
    let inputs = store::read_tx(conn, |x| crate::app::value::fit_inputs(x, &ctx, &spec))
        .map_err(|e| e.to_string())?;
    let version = crate::app::value::fit(&inputs, started).map_err(|e| e.to_string())?;
    let v = store::write_tx(conn, |x| crate::app::value::record_fit(x, &ctx, version))
        .map_err(|e| e.to_string())?;
    let v = crate::views::value::ModelView::from(&v);
    Ok(serde_json::to_string(&v).unwrap_or_default())
}

fn only_tenant(conn: &mut DbConnection, tenant: Option<&str>) -> Result<TenantId, String> {
    if let Some(t) = super::parse_tenant(tenant)? {
        return Ok(t);
    }
    let all = store::tenants::list(conn).map_err(|e| e.to_string())?;
    match all.as_slice() {
        [(t, _, _)] => Ok(*t),
        [] => Err("there is no tenant yet".into()),
        _ => Err("there are several tenants: name one with --tenant".into()),
    }
}

/// Runs `import ...`.
pub(crate) fn import(settings: &Settings, command: ImportCommand) -> Result<(), String> {
    let ImportCommand::Sales {
        file,
        tenant,
        create_customers,
        chunk,
    } = command;
    let mut conn = bootstrap::connect_one(settings, true)?;
    if let DbConnection::Sqlite(c) = &mut conn {
        // A bulk load touches index pages all over the file: a 64 MiB page
        // cache (instead of SQLite's 2 MiB) saves re-reading them from the OS
        // for every chunk. Memory stays bounded by it.
        use diesel::connection::SimpleConnection;
        c.batch_execute("PRAGMA cache_size = -65536")
            .map_err(|e| format!("cannot size the page cache: {e}"))?;
    }
    let tenant = only_tenant(&mut conn, tenant.as_deref())?;
    if !store::tenants::exists(&mut conn, tenant).map_err(|e| e.to_string())? {
        return Err(format!("no tenant {tenant}"));
    }
    let reader: Box<dyn BufRead> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&file).map_err(|e| format!("cannot open {file}: {e}"))?,
        ))
    };
    let stores: Vec<(String, StoreId, Currency)> =
        store::tenants::store_codes(&mut conn, tenant)
            .map_err(|e| format!("cannot read stores: {e}"))?;
    let mut importer = Importer {
        conn,
        tenant,
        clock: settings.clock.clone(),
        stores,
        create_customers,
        tally: Tally::default(),
        started: std::time::Instant::now(),
        progress: std::io::stderr().is_terminal(),
    };
    let mut records = CsvRecords::new(reader);
    let header = records
        .next()
        .ok_or("the file is empty")?
        .map_err(|(line, e)| format!("line {line}: {e}"))?;
    if header.1 != HEADER {
        return Err(format!("line 1: the header must be {}", HEADER.join(",")));
    }
    let chunk = chunk.clamp(1, 50_000);
    let mut batch: Vec<(u64, Result<NewSale, Vec<FieldError>>)> = Vec::with_capacity(chunk);
    for record in records {
        let (line, row) = match record {
            Ok(r) => r,
            Err((line, e)) => {
                importer.bad(line, &e);
                continue;
            }
        };
        if row.len() == 1 && row[0].is_empty() {
            continue;
        }
        batch.push((line, importer.parse(&row)));
        if batch.len() >= chunk {
            importer.flush(std::mem::take(&mut batch))?;
        }
    }
    importer.flush(batch)?;
    let t = &importer.tally;
    let secs = importer.started.elapsed().as_secs_f64();
    if importer.progress {
        eprintln!();
    }
    eprintln!(
        "goodwill: {} rows: {} created, {} already recorded, {} bad, {} customers created in {:.1}s ({:.0} rows/s)",
        t.rows,
        t.created,
        t.duplicates,
        t.bad,
        t.customers_created,
        secs,
        t.rows as f64 / secs.max(1e-9)
    );
    println!(
        "{{\"rows\":{},\"created\":{},\"duplicates\":{},\"bad\":{},\"customers_created\":{}}}",
        t.rows, t.created, t.duplicates, t.bad, t.customers_created
    );
    if t.bad > 0 {
        Err(format!(
            "{} rows were bad (see above); the others were imported",
            t.bad
        ))
    } else {
        Ok(())
    }
}

const HEADER: [&str; 6] = [
    "customer_external_ref",
    "occurred_at",
    "amount",
    "currency",
    "store_code",
    "sale_ref",
];

#[derive(Default)]
struct Tally {
    rows: u64,
    created: u64,
    duplicates: u64,
    bad: u64,
    customers_created: u64,
}

struct Importer {
    conn: DbConnection,
    tenant: TenantId,
    clock: crate::clock::Clock,
    stores: Vec<(String, StoreId, Currency)>,
    create_customers: bool,
    tally: Tally,
    started: std::time::Instant,
    progress: bool,
}

impl Importer {
    fn bad(&mut self, line: u64, why: &str) {
        self.tally.rows += 1;
        self.tally.bad += 1;
        if self.progress {
            eprint!("\r\x1b[K");
        }
        eprintln!("line {line}: {why}");
    }

    fn parse(&self, row: &[String]) -> Result<NewSale, Vec<FieldError>> {
        if row.len() != HEADER.len() {
            return Err(vec![FieldError::new(
                "row",
                format!("has {} fields, expected {}", row.len(), HEADER.len()),
            )]);
        }
        let mut p = crate::domain::Problems::default();
        let external = p.take(crate::domain::text::reference(
            "customer_external_ref",
            &row[0],
            200,
        ));
        let when = p.take(crate::domain::sale::parse_occurred_at(
            "occurred_at",
            &row[1],
        ));
        let amount = p.take(Money::parse(
            "amount",
            &crate::domain::money::MoneyInput {
                amount: row[2].clone(),
                currency: row[3].clone(),
            },
            true,
        ));
        let store = self.stores.iter().find(|(code, _, _)| *code == row[4]);
        if store.is_none() {
            p.push("store_code", format!("no store with code {:?}", row[4]));
        }
        let sale_ref = p.take(crate::domain::sale::parse_sale_ref("sale_ref", &row[5]));
        p.finish()?;
        match (external, when, amount, store, sale_ref) {
            (
                Some(r),
                Some((occurred_at, sale_date)),
                Some(amount),
                Some((_, store, _)),
                Some(sale_ref),
            ) => Ok(NewSale {
                buyer: Buyer::ExternalRef(r),
                store_id: *store,
                sale_ref,
                occurred_at,
                sale_date,
                amount,
            }),
            _ => Err(vec![FieldError::new("row", "is incomplete")]),
        }
    }

    fn flush(&mut self, batch: Vec<(u64, Result<NewSale, Vec<FieldError>>)>) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let ctx = AuditCtx::system(self.tenant, "import-sales", self.clock.clone());
        let (lines, sales): (Vec<u64>, Vec<_>) = batch.into_iter().unzip();
        let create = self.create_customers;
        let (first, last) = (lines[0], lines[lines.len() - 1]);
        let (outcomes, customers_created) = store::write_tx(&mut self.conn, |c| {
            crate::app::sales::import_sales(c, &ctx, (first, last), sales, create)
        })
        .map_err(|e| {
            format!("import failed at lines {first}-{last} (nothing of them kept): {e}")
        })?;
        self.tally.customers_created += u64::try_from(customers_created).unwrap_or(0);
        for (line, o) in lines.into_iter().zip(outcomes) {
            match o {
                LineOutcome::Created(_) => {
                    self.tally.rows += 1;
                    self.tally.created += 1;
                }
                LineOutcome::Duplicate(_) => {
                    self.tally.rows += 1;
                    self.tally.duplicates += 1;
                }
                LineOutcome::Error(errs) => {
                    let why: Vec<String> = errs
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    self.bad(line, &why.join("; "));
                }
            }
        }
        if self.progress {
            let secs = self.started.elapsed().as_secs_f64();
            eprint!(
                "\r\x1b[Kgoodwill: {} rows ({} created, {} duplicates, {} bad), {:.0} rows/s",
                self.tally.rows,
                self.tally.created,
                self.tally.duplicates,
                self.tally.bad,
                self.tally.rows as f64 / secs.max(1e-9)
            );
        }
        Ok(())
    }
}

/// RFC 4180 records from a reader: quoted fields (with doubled quotes and
/// line breaks inside), CRLF or LF. Yields `(line number, fields)`; a
/// malformed record yields its line and why, and reading goes on.
struct CsvRecords<R> {
    reader: R,
    line: u64,
    buf: String,
}

impl<R: BufRead> CsvRecords<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            buf: String::new(),
        }
    }
}

impl<R: BufRead> Iterator for CsvRecords<R> {
    type Item = Result<(u64, Vec<String>), (u64, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.buf.clear();
        let start = self.line + 1;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let mut piece = String::new();
            match self.reader.read_line(&mut piece) {
                Ok(0) if self.line + 1 == start => return None,
                Ok(0) => {
                    return Some(Err((start, "a quoted field is never closed".into())));
                }
                Ok(_) => self.line += 1,
                Err(e) => return Some(Err((start, format!("unreadable: {e}")))),
            }
            let mut chars = piece.chars().peekable();
            while let Some(ch) = chars.next() {
                if quoted {
                    if ch == '"' {
                        if chars.peek() == Some(&'"') {
                            field.push('"');
                            chars.next();
                        } else {
                            quoted = false;
                        }
                    } else {
                        field.push(ch);
                    }
                    continue;
                }
                match ch {
                    '"' if field.is_empty() && !was_quoted => {
                        quoted = true;
                        was_quoted = true;
                    }
                    '"' => return Some(Err((start, "a quote inside an unquoted field".into()))),
                    ',' => {
                        fields.push(std::mem::take(&mut field));
                        was_quoted = false;
                    }
                    '\r' if chars.peek() == Some(&'\n') => {}
                    '\n' => {}
                    c => field.push(c),
                }
            }
            if !quoted {
                fields.push(field);
                return Some(Ok((start, fields)));
            }
        }
    }
}

/// Runs `value ...`.
pub(crate) fn value(settings: &Settings, command: ValueCommand) -> Result<(), String> {
    match command {
        ValueCommand::Fit {
            tenant,
            as_of,
            currency,
            time_unit,
            penalizer,
        } => {
            let unit = unit(&time_unit)?;
            let as_of = match as_of {
                None => settings.clock.now().date(),
                Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| format!("--as-of {d:?}: expected YYYY-MM-DD"))?,
            };
            let currency = currency
                .map(|c| {
                    Currency::from_code(&c).ok_or(format!("--currency {c:?}: not an ISO 4217 code"))
                })
                .transpose()?;
            if penalizer.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
                return Err("--penalizer must be from 0 to 100".into());
            }
            let mut conn = bootstrap::connect_one(settings, true)?;
            let tenants: Vec<TenantId> = match super::parse_tenant(tenant.as_deref())? {
                Some(t) => vec![t],
                None => store::tenants::list(&mut conn)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|(t, _, _)| t)
                    .collect(),
            };
            // Each tenant and currency stands alone: one's failure is reported
            // and the others are still fitted.
            let mut failures = Vec::new();
            for t in tenants {
                let currencies = match currency {
                    Some(c) => vec![c],
                    None => match store::sales::currencies(&mut conn, t) {
                        Ok(cs) => cs,
                        Err(e) => {
                            failures.push(format!("tenant {t}: {e}"));
                            continue;
                        }
                    },
                };
                for c in currencies {
                    match fit_one(&mut conn, t, c, as_of, unit, penalizer, &settings.clock) {
                        Ok(line) => println!("{line}"),
                        Err(e) => {
                            eprintln!("goodwill: tenant {t} {}: {e}", c.code());
                            failures.push(format!("tenant {t} {}: {e}", c.code()));
                        }
                    }
                }
            }
            if failures.is_empty() {
                Ok(())
            } else {
                Err(failures.join("; "))
            }
        }
        ValueCommand::FitFile {
            file,
            penalizer,
            time_unit,
            predictions,
            horizon_months,
            monthly_discount_rate,
        } => {
            let unit = unit(&time_unit)?;
            let rows = read_statistics(&file)?;
            let started = std::time::Instant::now();
            let fitted = value::fit_both(&rows, value::Penalties::both(penalizer))
                .map_err(|e| e.to_string())?;
            let fit_ms = started.elapsed().as_secs_f64() * 1e3;
            let models = value::Models {
                bgnbd: fitted.bgnbd.params,
                gamma_gamma: fitted.gamma_gamma.params,
                unit,
            };
            let mut predict_ms = None;
            if let Some(out) = predictions {
                let f =
                    std::fs::File::create(&out).map_err(|e| format!("cannot write {out}: {e}"))?;
                let mut w = BufWriter::new(f);
                let _ = writeln!(
                    w,
                    "probability_alive,expected_purchases,expected_average_value,lifetime_value"
                );
                let t0 = std::time::Instant::now();
                let mut lines = Vec::with_capacity(rows.len());
                for (x, tx, t, m) in &rows {
                    let s = value::Statistics {
                        frequency: *x,
                        recency: *tx,
                        t: *t,
                        monetary_value: *m,
                        first_purchase_on: chrono::NaiveDate::MIN,
                        last_purchase_on: chrono::NaiveDate::MIN,
                    };
                    lines.push(
                        value::valuation(&models, &s, horizon_months, monthly_discount_rate)
                            .map_err(|e| e.to_string())?,
                    );
                }
                predict_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
                for v in lines {
                    let _ = writeln!(
                        w,
                        "{:.17e},{:.17e},{:.17e},{:.17e}",
                        v.probability_alive,
                        v.expected_purchases,
                        v.expected_average_value,
                        v.lifetime_value
                    );
                }
                w.flush().map_err(|e| format!("cannot write {out}: {e}"))?;
            }
            let out = serde_json::json!({
                "customers": rows.len(),
                "bgnbd": {
                    "r": fitted.bgnbd.params.r, "alpha": fitted.bgnbd.params.alpha,
                    "a": fitted.bgnbd.params.a, "b": fitted.bgnbd.params.b,
                    "log_likelihood": fitted.bgnbd.log_likelihood,
                    "iterations": fitted.bgnbd.iterations, "converged": fitted.bgnbd.converged,
                    "evaluations": fitted.bgnbd.evaluations,
                },
                "gamma_gamma": {
                    "p": fitted.gamma_gamma.params.p, "q": fitted.gamma_gamma.params.q,
                    "gamma": fitted.gamma_gamma.params.gamma,
                    "log_likelihood": fitted.gamma_gamma.log_likelihood,
                    "iterations": fitted.gamma_gamma.iterations,
                    "converged": fitted.gamma_gamma.converged,
                    "evaluations": fitted.gamma_gamma.evaluations,
                    "customers": fitted.gamma_gamma.customers,
                },
                "usable": fitted.unusable_reason().is_none(),
                "unusable_reason": fitted.unusable_reason(),
                "fit_ms": fit_ms,
                "bgnbd_fit_ms": fitted.fit_ms[0],
                "gamma_gamma_fit_ms": fitted.fit_ms[1],
                "predict_ms": predict_ms,
            });
            println!("{out}");
            Ok(())
        }
        ValueCommand::Simulate {
            customers,
            seed,
            bgnbd: b,
            gamma_gamma: g,
            t_range,
        } => {
            let bg = bgnbd::Params {
                r: b[0],
                alpha: b[1],
                a: b[2],
                b: b[3],
            };
            let gg = gamma_gamma::Params {
                p: g[0],
                q: g[1],
                gamma: g[2],
            };
            let all = [b.as_slice(), g.as_slice()].concat();
            if all.iter().any(|v| !(v.is_finite() && *v > 0.0)) || t_range[0] > t_range[1] {
                return Err("parameters must be positive and --t-range ordered".into());
            }
            let people = simulate::population(&bg, &gg, customers, (t_range[0], t_range[1]), seed);
            let mut w = BufWriter::new(std::io::stdout().lock());
            let _ = writeln!(w, "frequency,recency,T,monetary_value");
            for c in people {
                // Whole days, as sales data would have them.
                let day = |v: f64| (v * 7.0).floor() / 7.0;
                let _ = writeln!(
                    w,
                    "{},{},{},{:.2}",
                    c.frequency,
                    day(c.recency),
                    day(c.t),
                    c.monetary_value
                );
            }
            w.flush().map_err(|e| e.to_string())
        }
    }
}

/// Reads `frequency,recency,T,monetary_value` rows (extra columns ignored;
/// the header names them).
fn read_statistics(file: &str) -> Result<Vec<(u32, f64, f64, f64)>, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("cannot open {file}: {e}"))?;
    let mut records = CsvRecords::new(std::io::BufReader::with_capacity(1 << 20, f));
    let (_, header) = records
        .next()
        .ok_or("the file is empty")?
        .map_err(|(l, e)| format!("line {l}: {e}"))?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("the header has no {name} column"))
    };
    let (fi, ri, ti, mi) = (
        col("frequency")?,
        col("recency")?,
        col("T")?,
        col("monetary_value")?,
    );
    let mut rows = Vec::new();
    for r in records {
        let (line, fields) = r.map_err(|(l, e)| format!("line {l}: {e}"))?;
        let num = |i: usize| -> Result<f64, String> {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or(format!("line {line}: column {} is not a number ≥ 0", i + 1))
        };
        let x = num(fi)?;
        if x.fract() != 0.0 || x > f64::from(u32::MAX) {
            return Err(format!("line {line}: frequency must be a whole number"));
        }
        rows.push((x as u32, num(ri)?, num(ti)?, num(mi)?));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_follow_rfc_4180() {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nplain,,end\n\"open\n";
        let got: Vec<_> = CsvRecords::new(text.as_bytes()).collect();
        assert_eq!(got[0], Ok((1, vec!["a".into(), "b".into(), "c".into()])));
        assert_eq!(
            got[1],
            Ok((
                2,
                vec!["x, y".into(), "say \"hi\"".into(), "two\nlines".into()]
            ))
        );
        assert_eq!(
            got[2],
            Ok((4, vec!["plain".into(), String::new(), "end".into()]))
        );
        assert!(matches!(&got[3], Err((5, _))));
        assert_eq!(got.len(), 4);
    }
}
