//! One module per command. Each returns whether its check passed; errors become exit code 2.

mod attest;
mod devstack;
mod image;
mod image_sbom;
mod key;
mod lock_check;
mod provenance;
mod release;
mod sbom;
mod sbom_check;
mod sign;
mod signing;
mod trust;
mod verify;

use std::process::ExitCode;

use crate::cli::{Cli, Command, LockCommand, SbomSubcommand};
use crate::output;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: success.
    Success,
    /// 1: a check failed (validation, policy, lock check).
    CheckFailed,
}

/// Runs a parsed command line and maps the outcome to an exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Sbom(args) => match args.check {
            Some(SbomSubcommand::Check(check)) => sbom_check::run(&check),
            None => sbom::run(&args),
        },
        Command::Lock(args) => match args.command {
            LockCommand::Check(check) => lock_check::run(&check),
        },
        Command::Sign(args) => sign::run(&args),
        Command::Attest(args) => attest::run(&args),
        Command::Key(args) => key::run(&args),
        Command::Provenance(args) => provenance::run(&args),
        Command::Release(args) => release::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Trust(args) => trust::run(&args),
        Command::Devstack(args) => devstack::run(&args),
        Command::Tree(args) => image::run_tree(&args),
        Command::Download(args) => image::run_download(&args),
    };
    match result {
        Ok(Status::Success) => ExitCode::SUCCESS,
        Ok(Status::CheckFailed) => ExitCode::from(1),
        Err(e) => {
            output::print_error(&e);
            ExitCode::from(2)
        }
    }
}
