//! The command line. Commands that produce one value print it alone on the last
//! line of stdout; everything else goes to stderr. Errors are one line.

use clap::{Args, Parser, Subcommand};

use crate::auth::{Signer, parse_ttl};
use crate::bootstrap;
use crate::config::{self, DEFAULT_BIND, JwtSettings, KeyConfig, Settings};
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::roles::Role;
use crate::startup::Application;
use crate::store::{self, tenants};

mod value;

/// goodwill: a ledger of the goodwill a business extends to its customers.
#[derive(Parser, Debug)]
#[command(name = "goodwill", version, about)]
pub(crate) struct Cli {
    /// Database: postgres://... or postgresql://... (PostgreSQL), sqlite://PATH or a
    /// path (SQLite). Env: GOODWILL_DATABASE_URL, then DATABASE_URL. Default:
    /// ./goodwill.db
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The flags of `serve`, which is the default: `goodwill --bind ADDR` is
    /// `goodwill serve --bind ADDR`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the HTTP API (the default).
    Serve(ServeArgs),
    /// Apply the embedded migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        /// Tenant command.
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Print a signed token (HS256, with GOODWILL_JWT_SECRET or the secret kept in
    /// the database).
    Token(TokenArgs),
    /// Verify the audit trail or take a checkpoint of it.
    Audit {
        /// Audit command.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the ledger: balanced transactions, balances equal to their entries,
    /// nothing negative, memo totals equal to their sources.
    Ledger {
        /// Ledger command.
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Store credit.
    Credit {
        /// Credit command.
        #[command(subcommand)]
        command: CreditCommand,
    },
    /// Development and benchmarking helpers.
    Dev {
        /// Dev command.
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Deferred payments ("pay us tomorrow").
    Promises {
        /// Promises command.
        #[command(subcommand)]
        command: PromisesCommand,
    },
    /// Pending approvals.
    Approvals {
        /// Approvals command.
        #[command(subcommand)]
        command: ApprovalsCommand,
    },
    /// Manage stored idempotency keys.
    Idempotency {
        /// Idempotency command.
        #[command(subcommand)]
        command: IdempotencyCommand,
    },
    /// Import data from files.
    Import {
        /// Import command.
        #[command(subcommand)]
        command: value::ImportCommand,
    },
    /// The customer value model.
    Value {
        /// Value command.
        #[command(subcommand)]
        command: value::ValueCommand,
    },
    /// The console in the browser.
    Console {
        /// Console command.
        #[command(subcommand)]
        command: ConsoleCommand,
    },
}

/// `console` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum ConsoleCommand {
    /// Print a one-time sign-in link for someone (it works once, expires,
    /// and is kept only as a hash; using it is audited).
    Link(LinkArgs),
}

/// Options of `console link`.
#[derive(Args, Debug)]
pub(crate) struct LinkArgs {
    /// The tenant id.
    #[arg(long)]
    pub tenant: String,
    /// Who signs in (`sub`): a staff member's subject or an office user.
    #[arg(long)]
    pub sub: String,
    /// pos, clerk, manager, finance, auditor or admin.
    #[arg(long)]
    pub role: String,
    /// A store they act at (repeat; none = all stores).
    #[arg(long = "store", value_name = "ID")]
    pub stores: Vec<String>,
    /// How long the link works: e.g. 15m, 2h, 1d (at most 7 days).
    #[arg(long, default_value = "15m")]
    pub ttl: String,
    /// The address the service listens on (the link's host when
    /// GOODWILL_PUBLIC_URL is not set).
    #[arg(long, env = "GOODWILL_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
}

/// `audit` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Verify every hash chain (of every tenant unless --tenant); with
    /// --checkpoint, also that every head the checkpoint kept is still there.
    /// Exit 0 when intact; otherwise names the first broken link and exits 2.
    Verify {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// A checkpoint file taken earlier (`audit checkpoint` or
        /// GET /v1/audit/checkpoint).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<String>,
    },
    /// Reconcile the ledger and the feed with the audit trail: every entry
    /// against the event that attests its transaction, every feed event
    /// against the audit event of its id. One difference per line on stdout;
    /// exit 0 when none, 2 otherwise (`ledger check` runs it too).
    Reconcile {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Print a checkpoint (JSON, one line) of every chain's head, after verifying.
    Checkpoint {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `ledger` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum LedgerCommand {
    /// Report every discrepancy (one per line on stdout); exit 0 when clean, 2
    /// otherwise.
    Check {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `credit` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum CreditCommand {
    /// Post the expiry of store credit past its expires_on (what is left of it
    /// goes to breakage income). Idempotent: safe to run any time, any number of
    /// times; prints how many lots expired.
    Expire {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `dev` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum DevCommand {
    /// Fill a tenant with realistic history (stores, staff, customers, gestures
    /// of every kind in effect over past months, with their postings) for
    /// benchmarks; the ledger check stays clean. Prints the gestures written.
    Seed {
        /// The tenant to fill.
        #[arg(long)]
        tenant: String,
        /// Gestures to write.
        #[arg(long, default_value_t = 10_000)]
        gestures: usize,
        /// Months of history, back from today.
        #[arg(long, default_value_t = 36)]
        months: u32,
        /// Stores to create.
        #[arg(long, default_value_t = 20)]
        stores: usize,
        /// Customers to create (default: one per ten gestures, at least one).
        #[arg(long)]
        customers: Option<usize>,
        /// Random seed (the same seed, the same history).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Only gestures that leave nothing open (no deferred payments or
        /// store credit): a history without open items.
        #[arg(long)]
        closed_only: bool,
    },
}

/// `promises` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum PromisesCommand {
    /// Note every open promise past its due day that was not noted yet
    /// (`gesture.overdue`, audited and in the feed, once per promise). `serve`
    /// does this by itself every minute and when the day changes; this is for
    /// a service run without its worker. Idempotent; prints how many were
    /// noted.
    Overdue {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `approvals` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum ApprovalsCommand {
    /// Mark pending requests past their expiry as expired and write their events.
    /// Not needed for correctness (an expired request can never be decided);
    /// keeps statuses and the feed current. Idempotent; prints how many expired.
    Expire {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// `idempotency` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum IdempotencyCommand {
    /// Delete stored keys older than the given age (at least 24h).
    Purge {
        /// Age, e.g. 72h or 7d.
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
}

/// Options of `serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Listen address.
    #[arg(long, env = "GOODWILL_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Do not apply migrations at start (refuse to start if any are pending).
    #[arg(long)]
    pub no_migrate: bool,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "GOODWILL_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Largest number of database connections (default: PostgreSQL four times
    /// the cores, from 8 to 16; SQLite 8).
    #[arg(long, env = "GOODWILL_POOL_SIZE")]
    pub pool_size: Option<u32>,
    /// After SIGTERM, seconds /readyz answers 503 before the listener closes.
    #[arg(long, env = "GOODWILL_DRAIN_SECONDS", default_value_t = 2)]
    pub drain_seconds: u64,
    /// Then, seconds in-flight requests get to finish.
    #[arg(long, env = "GOODWILL_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Seconds a request's body has to arrive in full after its head (1-300);
    /// a slower one is answered 408 and its connection closed.
    #[arg(long, env = "GOODWILL_BODY_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub body_timeout: u64,
}

/// `tenant` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum TenantCommand {
    /// Create a tenant and print its id.
    Create {
        /// The tenant's name.
        #[arg(long)]
        name: String,
    },
    /// List tenants (id, name, created) one per line.
    List,
}

/// Options of `token`.
#[derive(Args, Debug)]
pub(crate) struct TokenArgs {
    /// The tenant id.
    #[arg(long)]
    pub tenant: String,
    /// The subject (`sub`): a staff member's subject or a system user.
    #[arg(long)]
    pub sub: String,
    /// pos, clerk, manager, finance, auditor or admin.
    #[arg(long)]
    pub role: String,
    /// A store the token may act at (repeat; none = all stores).
    #[arg(long = "store", value_name = "ID")]
    pub stores: Vec<String>,
    /// Lifetime: e.g. 30m, 8h, 7d.
    #[arg(long, default_value = "8h")]
    pub ttl: String,
}

/// Why a command failed: one line for stderr, and the process's exit code.
#[derive(Debug)]
pub struct CliError {
    message: String,
    exit_code: i32,
}

impl CliError {
    /// A check found the audit trail or the ledger broken: exit code 2.
    fn broken(message: String) -> Self {
        Self {
            message,
            exit_code: 2,
        }
    }

    /// The exit code: 2 when a check found the audit trail or the ledger
    /// broken, 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        Self {
            message,
            exit_code: 1,
        }
    }
}

impl From<&str> for CliError {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message.replace('\n', " "))
    }
}

/// Parses the command line and runs the command.
pub fn run() -> Result<(), CliError> {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let cli = match parsed {
        Ok((cli, matches)) => {
            // `serve`'s flags go before no other command: `goodwill --bind X
            // migrate` would otherwise ignore --bind without a word.
            if matches.subcommand_name().is_some_and(|c| c != "serve")
                && let Some(flag) = matches.ids().find(|id| {
                    id.as_str() != "database_url"
                        && matches.value_source(id.as_str())
                            == Some(clap::parser::ValueSource::CommandLine)
                })
            {
                return Err(format!(
                    "--{} is a flag of serve, not of {}",
                    flag.as_str().replace('_', "-"),
                    matches.subcommand_name().unwrap_or_default()
                )
                .into());
            }
            cli
        }
        // --help and --version print as clap prints them, and succeed.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(());
        }
        // Usage errors are one line, like every other failure.
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid command line");
            return Err(first.trim_start_matches("error: ").to_owned().into());
        }
    };
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    init_logging(matches!(command, Command::Serve(_)));
    let url = config::database_url(cli.database_url.as_deref())?;
    let jwt = JwtSettings::from_env()?;
    let mut settings = Settings::new(url, jwt);
    settings.secret_key = config::secret_key_from_env()?;
    match command {
        Command::Serve(args) => {
            rate_limit_from_env(&mut settings)?;
            settings.console = config::ConsoleSettings::from_env()?;
            settings.webhooks = config::WebhookSettings::from_env()?;
            Ok(serve(
                settings_for_serve(&mut settings, &args),
                !args.no_migrate,
            )?)
        }
        Command::Migrate => {
            bootstrap::connect_one(&settings, true)?;
            eprintln!("goodwill: migrations applied");
            Ok(())
        }
        Command::Tenant { command } => {
            let mut conn = bootstrap::connect_one(&settings, true)?;
            match command {
                TenantCommand::Create { name } => {
                    let name = crate::domain::text::required_line("name", &name, 200)
                        .map_err(|e| format!("--name {}", e.message))?;
                    let id = store::write_tx(&mut conn, |c| {
                        tenants::create(c, &name, settings.clock.now())
                    })
                    .map_err(|e| format!("cannot create the tenant: {e}"))?;
                    eprintln!("goodwill: created tenant {name:?}");
                    println!("{id}");
                }
                TenantCommand::List => {
                    for (id, name, created) in
                        tenants::list(&mut conn).map_err(|e| e.to_string())?
                    {
                        println!("{id}\t{name}\t{}", crate::views::timestamp(&created));
                    }
                }
            }
            Ok(())
        }
        Command::Token(args) => {
            let token = token(&settings, &args)?;
            println!("{token}");
            Ok(())
        }
        Command::Audit { command } => audit(&settings, command),
        Command::Console {
            command: ConsoleCommand::Link(args),
        } => {
            settings.console = config::ConsoleSettings::from_env()?;
            settings.webhooks = config::WebhookSettings::from_env()?;
            let link = console_link(&settings, &args)?;
            eprintln!(
                "goodwill: a one-time sign-in link for {} ({}), valid {}",
                args.sub, args.role, args.ttl
            );
            println!("{link}");
            Ok(())
        }
        Command::Import { command } => Ok(value::import(&settings, command)?),
        Command::Value { command } => Ok(value::value(&settings, command)?),
        Command::Credit {
            command: CreditCommand::Expire { tenant },
        } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let mut conn = bootstrap::connect_one(&settings, true)?;
            let today = settings.clock.now().date();
            let due = crate::store::lifecycle::expirable(&mut conn, tenant, today)
                .map_err(|e| e.to_string())?;
            let n = run_job(
                &mut conn,
                &settings.clock,
                "credit-expire",
                due,
                crate::app::lifecycle::expire_credit,
            )
            .map_err(|failed| format!("{failed} lot(s) could not be expired (see above)"))?;
            eprintln!("goodwill: store credit expired");
            println!("{n}");
            Ok(())
        }
        Command::Dev {
            command:
                DevCommand::Seed {
                    tenant,
                    gestures,
                    months,
                    stores,
                    customers,
                    seed,
                    closed_only,
                },
        } => {
            let tenant =
                parse_tenant(Some(&tenant))?.ok_or_else(|| "--tenant is required".to_owned())?;
            if stores == 0 || months == 0 {
                return Err("--stores and --months must be at least 1".into());
            }
            let mut conn = bootstrap::connect_one(&settings, true)?;
            if !store::tenants::exists(&mut conn, tenant).map_err(|e| e.to_string())? {
                return Err(CliError::from(format!("no tenant {tenant}")));
            }
            let opts = crate::store::seed::Options {
                gestures,
                months,
                stores,
                customers: customers.unwrap_or(gestures / 10).max(1),
                seed,
                closed_only,
            };
            let started = std::time::Instant::now();
            let report =
                crate::store::seed::seed(&mut conn, tenant, &opts, settings.clock.now(), |n| {
                    if n % 100_000 == 0 {
                        eprintln!("goodwill: {n} gestures written");
                    }
                })
                .map_err(|e| format!("seeding failed: {e}"))?;
            eprintln!(
                "goodwill: seeded {} stores, {} customers, {} gestures in {:.1}s",
                report.stores,
                report.customers,
                report.gestures,
                started.elapsed().as_secs_f64()
            );
            println!("{}", report.gestures);
            Ok(())
        }
        Command::Promises {
            command: PromisesCommand::Overdue { tenant },
        } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let mut conn = bootstrap::connect_one(&settings, true)?;
            let today = settings.clock.now().date();
            let due = crate::store::lifecycle::overdue_unnoted(&mut conn, tenant, today)
                .map_err(|e| format!("cannot read open promises: {e}"))?;
            let n = run_job(
                &mut conn,
                &settings.clock,
                "promises-overdue",
                due,
                crate::app::lifecycle::note_overdue,
            )
            .map_err(|failed| format!("{failed} promise(s) could not be noted (see above)"))?;
            eprintln!("goodwill: promises past their due day noted as overdue");
            println!("{n}");
            Ok(())
        }
        Command::Approvals {
            command: ApprovalsCommand::Expire { tenant },
        } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let mut conn = bootstrap::connect_one(&settings, true)?;
            let pending = crate::store::approvals::pending(&mut conn, tenant)
                .map_err(|e| format!("cannot read pending requests: {e}"))?;
            // Each request under its customer's lock: a decision racing this
            // one either wins (and this skips it) or finds it expired.
            let n = run_job(
                &mut conn,
                &settings.clock,
                "approvals-expire",
                pending,
                crate::app::approvals::expire_pending,
            )
            .map_err(|failed| format!("{failed} request(s) could not be expired (see above)"))?;
            eprintln!("goodwill: pending requests past their expiry marked expired");
            println!("{n}");
            Ok(())
        }
        Command::Ledger {
            command: LedgerCommand::Check { tenant },
        } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let mut conn = bootstrap::connect_one(&settings, true)?;
            let tenants: Vec<TenantId> = match tenant {
                Some(t) => vec![t],
                None => tenants::list(&mut conn)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|(t, _, _)| t)
                    .collect(),
            };
            // Tenant by tenant: one that cannot be checked is reported, and
            // the others are still checked.
            let (mut found, mut unchecked) = (0, 0);
            for t in tenants {
                match store::read_tx(&mut conn, |c| crate::store::ledger_check::check(c, Some(t))) {
                    Ok(ds) => {
                        for d in &ds {
                            println!("{}\t{}\t{}\t{}", d.check, d.tenant_id, d.subject, d.detail);
                        }
                        found += ds.len();
                    }
                    Err(e) => {
                        eprintln!("goodwill: tenant {t}: cannot check the ledger: {e}");
                        unchecked += 1;
                    }
                }
            }
            match (found, unchecked) {
                (0, 0) => {
                    eprintln!("goodwill: ledger clean");
                    Ok(())
                }
                (n, 0) => Err(CliError::broken(format!(
                    "ledger check FAILED: {n} discrepancies"
                ))),
                (n, u) => Err(CliError::broken(format!(
                    "ledger check FAILED: {n} discrepancies; {u} tenant(s) could not be checked"
                ))),
            }
        }
        Command::Idempotency {
            command: IdempotencyCommand::Purge { older_than },
        } => {
            let secs = crate::idempotency::parse_retention(&older_than)?;
            let mut conn = bootstrap::connect_one(&settings, true)?;
            let cutoff = settings.clock.now()
                - chrono::TimeDelta::seconds(i64::try_from(secs).map_err(|e| e.to_string())?);
            let n = store::write_tx(&mut conn, |c| crate::store::idempotency::purge(c, cutoff))
                .map_err(|e| format!("cannot purge: {e}"))?;
            eprintln!("goodwill: removed idempotency keys older than {older_than}");
            println!("{n}");
            Ok(())
        }
    }
}

/// Runs `command` as the job `job` on each `(tenant, gesture)`, one transaction
/// each (`app::jobs::run_each`): a failure is logged and leaves the others
/// done, and a rerun finishes the rest. Answers how many it changed, or how
/// many failed.
fn run_job<T>(
    conn: &mut store::DbConnection,
    clock: &crate::clock::Clock,
    job: &str,
    items: Vec<(TenantId, crate::domain::ids::GestureId)>,
    command: impl Fn(
        &mut store::DbConnection,
        &crate::app::Ctx,
        crate::domain::ids::GestureId,
    ) -> Result<Option<T>, crate::error::Error>,
) -> Result<usize, usize> {
    match crate::app::jobs::run_each(conn, clock, job, items, command) {
        (n, 0) => Ok(n),
        (_, failed) => Err(failed),
    }
}

fn parse_tenant(t: Option<&str>) -> Result<Option<TenantId>, String> {
    t.map(|t| {
        t.parse::<TenantId>()
            .map_err(|_| format!("--tenant {t:?} is not a tenant id"))
    })
    .transpose()
}

fn audit(settings: &Settings, command: AuditCommand) -> Result<(), CliError> {
    let mut conn = bootstrap::connect_one(settings, true)?;
    match command {
        AuditCommand::Verify { tenant, checkpoint } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let kept = checkpoint
                .map(|f| {
                    let text =
                        std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}"))?;
                    let cp: crate::audit::Checkpoint = serde_json::from_str(&text)
                        .map_err(|e| format!("{f} is not a checkpoint: {e}"))?;
                    if !cp.is_self_consistent() {
                        return Err(format!(
                            "{f}: the checkpoint's digest does not match its heads (edited?)"
                        ));
                    }
                    Ok(cp)
                })
                .transpose()?;
            let report = store::read_tx(&mut conn, |c| crate::store::audit::verify(c, tenant))
                .map_err(|e| format!("cannot verify: {e}"))?;
            if let Some(b) = report.broken {
                return Err(CliError::broken(format!("audit trail BROKEN at {b}")));
            }
            if let Some(cp) = &kept {
                let heads: Vec<_> = cp
                    .heads
                    .iter()
                    .filter(|h| tenant.is_none_or(|t| t == h.tenant_id))
                    .cloned()
                    .collect();
                let narrowed = crate::audit::Checkpoint {
                    heads,
                    ..cp.clone()
                };
                if let Some(b) = store::read_tx(&mut conn, |c| {
                    crate::store::audit::verify_checkpoint(c, &narrowed)
                })
                .map_err(|e| format!("cannot verify: {e}"))?
                {
                    return Err(CliError::broken(format!(
                        "audit trail BROKEN against the checkpoint at {b}"
                    )));
                }
            }
            eprintln!(
                "goodwill: audit trail intact: {} chains, {} events{}",
                report.heads.len(),
                report.events,
                if kept.is_some() {
                    ", every checkpoint head present"
                } else {
                    ""
                }
            );
            Ok(())
        }
        AuditCommand::Reconcile { tenant } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let r = store::read_tx(&mut conn, |c| crate::store::reconcile::reconcile(c, tenant))
                .map_err(|e| format!("cannot reconcile: {e}"))?;
            for d in &r.discrepancies {
                println!("{}\t{}\t{}\t{}", d.check, d.tenant_id, d.subject, d.detail);
            }
            if r.discrepancies.is_empty() {
                eprintln!(
                    "goodwill: ledger and feed reconcile with the audit trail: {} transactions attested, {} posted before attestation began (not checked)",
                    r.attested_transactions, r.unattested_before_attestation
                );
                Ok(())
            } else {
                Err(CliError::broken(format!(
                    "audit reconcile FAILED: {} differences",
                    r.discrepancies.len()
                )))
            }
        }
        AuditCommand::Checkpoint { tenant } => {
            let tenant = parse_tenant(tenant.as_deref())?;
            let report = store::read_tx(&mut conn, |c| crate::store::audit::verify(c, tenant))
                .map_err(|e| format!("cannot verify: {e}"))?;
            if let Some(b) = report.broken {
                return Err(CliError::broken(format!(
                    "audit trail BROKEN at {b}; no checkpoint taken"
                )));
            }
            let cp =
                crate::audit::Checkpoint::take(report.heads, report.events, settings.clock.now());
            println!("{}", serde_json::to_string(&cp).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

fn settings_for_serve<'a>(settings: &'a mut Settings, args: &ServeArgs) -> &'a Settings {
    settings.bind.clone_from(&args.bind);
    settings.workers = args.workers;
    settings.drain_secs = args.drain_seconds;
    settings.shutdown_timeout_secs = args.shutdown_timeout;
    settings.body_timeout_secs = args.body_timeout;
    if let Some(n) = args.pool_size {
        settings.pool_size = n.max(1);
    }
    settings
}

/// Reads the optional rate limit from the environment (off unless set).
fn rate_limit_from_env(settings: &mut Settings) -> Result<(), String> {
    settings.rate_limit = crate::ratelimit::Limit::from_lookup(|k| std::env::var(k).ok())?;
    Ok(())
}

fn serve(settings: &Settings, migrate: bool) -> Result<(), String> {
    let pool = bootstrap::open(settings, migrate)?;
    let (verifier, first) = bootstrap::keys_and_first_run(settings, &pool)?;
    if let Some(first) = &first {
        eprintln!(
            "goodwill: first run: created tenant \"default\" ({}) and a signing secret, kept in the database (table service_keys)",
            first.tenant
        );
        match &first.token_file {
            Some(f) => eprintln!(
                "goodwill: admin token (30 days) below, also saved to {f} (mode 0600); mint more with `goodwill token`"
            ),
            None => {
                eprintln!("goodwill: admin token (30 days) below; mint more with `goodwill token`")
            }
        }
        println!("{}", first.admin_token);
    } else if pool
        .get()
        .ok()
        .and_then(|mut c| tenants::count(&mut c).ok())
        == Some(0)
    {
        // A configured key (GOODWILL_JWT_SECRET or a public key) makes no
        // tenant by itself: say how to get in.
        eprintln!(
            "goodwill: no tenant yet: create one with `goodwill tenant create --name NAME` (it prints its id), \
             then an admin token with `goodwill token --tenant ID --sub admin --role admin` (with GOODWILL_JWT_SECRET set), \
             or a sign-in link with `goodwill console link --tenant ID --sub admin --role admin`"
        );
    }
    let settings = settings.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings, pool.clone(), verifier)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        if let Some(first) = &first {
            let link = first_sign_in_link(&settings, &pool, first.tenant, app.console())?;
            announce(
                "sign in to the console (one-time link, valid 24 hours; `goodwill console link` makes more):",
            );
            announce(&format!("  {link}"));
        }
        let host = settings
            .bind
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h);
        announce(&format!("listening on http://{host}:{}", app.port()));
        app.run_until_stopped(std::time::Duration::from_secs(settings.drain_secs))
            .await
            .map_err(|e| format!("server error: {e}"))?;
        announce("stopped");
        Ok(())
    })
}

/// The stores of `--store` flags (none: all).
fn store_flags(flags: &[String]) -> Result<Option<Vec<StoreId>>, String> {
    if flags.is_empty() {
        return Ok(None);
    }
    flags
        .iter()
        .map(|s| {
            s.parse::<StoreId>()
                .map_err(|_| format!("--store {s:?} is not a store id"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn console_link(settings: &Settings, args: &LinkArgs) -> Result<String, String> {
    let tenant: TenantId = args
        .tenant
        .parse()
        .map_err(|_| format!("--tenant {:?} is not a tenant id", args.tenant))?;
    let role: Role = args.role.parse()?;
    let ttl = parse_ttl(&args.ttl)?;
    let grant = crate::domain::session::Grant {
        tenant,
        subject: args.sub.clone(),
        role,
        stores: store_flags(&args.stores)?,
    };
    let mut conn = bootstrap::connect_one(settings, true)?;
    if !tenants::exists(&mut conn, tenant).map_err(|e| e.to_string())? {
        return Err(format!("no tenant {tenant}"));
    }
    let ctx = crate::audit::AuditCtx::system(tenant, "console-link", settings.clock.clone());
    let made = store::write_tx(&mut conn, |c| {
        crate::app::console::create_link(
            c,
            &ctx,
            grant,
            chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX)),
        )
    })
    .map_err(|e| format!("cannot make the link: {e}"))?;
    let port = args
        .bind
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(8080);
    let console = crate::console::Console::new(&settings.console, &args.bind, port);
    Ok(console.sign_in_url(&made.code))
}

/// The first run's sign-in link for the admin of the default tenant.
fn first_sign_in_link(
    settings: &Settings,
    pool: &crate::store::Pool,
    tenant: TenantId,
    console: &crate::console::Console,
) -> Result<String, String> {
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let ctx = crate::audit::AuditCtx::system(tenant, "first-run", settings.clock.clone());
    let grant = crate::domain::session::Grant {
        tenant,
        subject: "admin".into(),
        role: Role::Admin,
        stores: None,
    };
    let made = store::write_tx(&mut conn, |c| {
        crate::app::console::create_link(c, &ctx, grant, chrono::Duration::hours(24))
    })
    .map_err(|e| format!("cannot make the first sign-in link: {e}"))?;
    Ok(console.sign_in_url(&made.code))
}

fn token(settings: &Settings, args: &TokenArgs) -> Result<String, String> {
    let tenant: TenantId = args
        .tenant
        .parse()
        .map_err(|_| format!("--tenant {:?} is not a tenant id", args.tenant))?;
    let role: Role = args.role.parse()?;
    crate::domain::text::token("sub", &args.sub, 255)
        .map_err(|e| format!("--sub {}", e.message))?;
    let ttl = parse_ttl(&args.ttl)?;
    if ttl > settings.jwt.max_lifetime {
        return Err(format!(
            "--ttl {} is longer than the longest lifetime a token may have ({}, GOODWILL_JWT_MAX_LIFETIME)",
            args.ttl,
            crate::auth::lifetime_text(settings.jwt.max_lifetime)
        ));
    }
    let stores = if args.stores.is_empty() {
        None
    } else {
        Some(
            args.stores
                .iter()
                .map(|s| {
                    s.parse::<StoreId>()
                        .map_err(|_| format!("--store {s:?} is not a store id"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let mut conn = bootstrap::connect_one(settings, true)?;
    if !tenants::exists(&mut conn, tenant).map_err(|e| e.to_string())? {
        return Err(format!("no tenant {tenant}"));
    }
    if let Some(ids) = &stores {
        let missing = store::stores::missing(&mut conn, tenant, ids).map_err(|e| e.to_string())?;
        if let Some(m) = missing.first() {
            return Err(format!("no store {m} in tenant {tenant}"));
        }
    }
    let secret = match &settings.jwt.key {
        KeyConfig::Secret(s) => s.clone(),
        KeyConfig::PublicKey(_) => {
            return Err(
                "GOODWILL_JWT_PUBLIC_KEY is set: tokens come from your identity provider".into(),
            );
        }
        KeyConfig::Generated => bootstrap::stored_secret(&mut conn, settings)?
            .ok_or("no signing secret yet: set GOODWILL_JWT_SECRET or run `goodwill serve` once")?
            .into_bytes(),
    };
    Signer::hs256(&secret, &settings.jwt).issue(tenant, &args.sub, role, stores, ttl)
}

/// Whether log lines are JSON objects (`GOODWILL_LOG_FORMAT=json`).
fn json_logs() -> bool {
    std::env::var("GOODWILL_LOG_FORMAT").as_deref() == Ok("json")
}

/// A line of the server's life (listening, stopped, the first sign-in
/// link): `goodwill: ...` on stderr, or, with JSON logs, an info event like
/// every other line, so that a log shipper reads one format.
fn announce(message: &str) {
    if json_logs() {
        tracing::info!("{message}");
    } else {
        eprintln!("goodwill: {message}");
    }
}

fn init_logging(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = std::env::var("GOODWILL_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.to_owned());
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file.
        .with_ansi(std::io::stderr().is_terminal());
    // Human-readable by default; one JSON object per line for log shippers.
    let _ = match json_logs() {
        true => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        false => builder.try_init(),
    };
}
