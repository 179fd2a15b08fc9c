//! The command line: `serve` (the default), `migrate`, and `user ...` to
//! manage representatives without the web pages (for the first admin, or a
//! locked-out one). Passwords are read from a prompt or standard input, never
//! from the arguments, where other users of the machine could see them.

use std::io::{BufRead, IsTerminal};

use clap::{Parser, Subcommand};

use app::model::{DisplayName, Email, NewPassword, Role};
use app::people::repo;

use crate::config::Config;
use crate::database::Database;

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "A self-hosted contact center for the web")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage representatives.
    #[command(subcommand)]
    User(UserCommand),
    /// Run simulated days of one queue and print how often the wait shown
    /// to customers held (no database needed).
    Simulate {
        /// Seeds per scenario.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a representative; the password is asked for (or read from stdin).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// agent, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
    },
    /// Set a new password; the person's open sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it cannot sign in and its sessions end.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
    #[error(transparent)]
    Database(#[from] crate::database::DatabaseError),
    #[error("{0}")]
    App(#[from] app::error::AppError),
    #[error("reading the password: {0}")]
    Password(std::io::Error),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(Command::Simulate { seeds }) = cli.command {
        simulate(seeds);
        return Ok(());
    }
    let config = Config::from_env()?;
    crate::telemetry::init(&config.log_filter, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Ok(crate::serve::serve(config).await?),
        Command::Migrate => {
            with_database(&config, |_| async { Ok(()) }).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(command) => user(&config, command).await,
        Command::Simulate { .. } => Ok(()),
    }
}

/// `switchboard simulate`: every scenario with `seeds` seeds, its days
/// pooled, overall and by position when first shown, each line marked with
/// the targets it misses ([`Score::misses`], [`Score::bucket_misses`]).
fn simulate(seeds: u64) {
    use app::customer::simulate::{describe, scenarios, Score, BUCKETS};
    let seeds: Vec<u64> = (1..=seeds.max(1)).collect();
    let all = scenarios(&seeds);
    let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    names.dedup();
    println!("Estimated waits on simulated days ({} seeds each): range shown vs wait had", seeds.len());
    for name in names {
        let scored: Vec<_> = all.iter().filter(|s| s.name == name).flat_map(|s| s.run()).collect();
        let overall = Score::of(&scored);
        println!("{name}");
        println!("  {}{}", describe("all", &overall), missed(&overall.misses()));
        for (label, low, high, width) in BUCKETS {
            let score = Score::bucket(&scored, low, high);
            if score.customers > 0 {
                println!("  {}{}", describe(&format!("pos {label}"), &score), missed(&score.bucket_misses(width)));
            }
        }
    }
}

fn missed(targets: &[&str]) -> String {
    if targets.is_empty() {
        String::new()
    } else {
        format!("  MISSES {}", targets.join(", "))
    }
}

/// Opens and migrates the database, runs `work`, and closes the database
/// whatever happened.
async fn with_database<F, Fut>(config: &Config, work: F) -> Result<(), CliError>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    let database = Database::open(config).await?;
    let result = match database.migrate().await {
        Ok(()) => work(database.pool.clone()).await,
        Err(error) => Err(error.into()),
    };
    database.close().await;
    result
}

async fn user(config: &Config, command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Add { email, name, role } => {
            let email = Email::parse(&email)?;
            let name = DisplayName::parse(&name)?;
            let role = Role::parse(&role)?;
            let password = read_new_password()?;
            with_database(config, |pool| async move {
                let person = repo::add(&pool, &email, &name, role, password).await?;
                println!("added {} <{}> as {}", person.display_name, person.email, person.role);
                Ok(())
            })
            .await
        }
        UserCommand::SetPassword { email } => {
            let email = Email::parse(&email)?;
            let password = read_new_password()?;
            with_database(config, |pool| async move {
                let person = find(&pool, &email).await?;
                repo::set_password(&pool, person.id, password).await?;
                println!("password set for {}", person.email);
                Ok(())
            })
            .await
        }
        UserCommand::Disable { email } => set_disabled(config, &email, true).await,
        UserCommand::Enable { email } => set_disabled(config, &email, false).await,
    }
}

async fn set_disabled(config: &Config, email: &str, disabled: bool) -> Result<(), CliError> {
    let email = Email::parse(email)?;
    with_database(config, |pool| async move {
        let person = find(&pool, &email).await?;
        let person = repo::set_disabled(&pool, person.id, disabled).await?;
        println!("{} is {}", person.email, if person.disabled { "disabled" } else { "enabled" });
        Ok(())
    })
    .await
}

async fn find(pool: &sqlx::PgPool, email: &Email) -> Result<app::model::Person, CliError> {
    repo::find_by_email(pool, email)
        .await?
        .ok_or_else(|| app::error::AppError::NotFound(format!("no account has the email {}", email.as_str())).into())
}

/// A new password: typed twice at a prompt on a terminal, or one line of
/// standard input otherwise (for scripts).
fn read_new_password() -> Result<NewPassword, CliError> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(CliError::Password)?;
        let again = rpassword::prompt_password("Password again: ").map_err(CliError::Password)?;
        if first != again {
            return Err(app::error::AppError::invalid("The two passwords differ.").into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(CliError::Password)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    Ok(NewPassword::parse(&raw)?)
}
