//! `atwb completions SHELL`: shell completions generated from the clap definitions.

use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

pub fn run(args: &CompletionsArgs) -> ExitCode {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "atwb",
        &mut std::io::stdout(),
    );
    ExitCode::SUCCESS
}
