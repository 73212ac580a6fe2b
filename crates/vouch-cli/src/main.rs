//! The `vouch` binary: parse arguments, run the command, render errors, exit.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod env;
mod output;
mod settings;

fn main() -> std::process::ExitCode {
    commands::run(cli::parse())
}
