//! What a shell line asks for. Calls are typed as `SERVICE/METHOD JSON`;
//! every bus command of the command line works too (parsed by clap from
//! the same definitions), plus the shell's own `complete`, `help` and
//! `exit`.

use std::sync::OnceLock;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

use super::words::{self, Words};
use crate::args::BusCommand;
use crate::target::Target;

/// A shell line, as clap reads it; calls (`SERVICE/METHOD JSON`) and
/// `complete` are recognized before clap.
#[derive(Debug, Parser)]
#[command(
    name = "redis-bus shell",
    // The help is written for people; this doc comment is for readers of
    // the code.
    about = "Call a method by typing it with its request as JSON, e.g.\n  \
             math.Math/Sum {\"a\": 1, \"b\": 2}\n\
             Tab completes commands, services, methods and request fields.",
    long_about = None,
    no_binary_name = true,
    disable_version_flag = true,
    override_usage = "SERVICE/METHOD [JSON]\n       COMMAND [ARGS]",
    after_help = "`help COMMAND` tells more about a command."
)]
struct ShellLine {
    /// What to do.
    #[command(subcommand)]
    command: ShellCommand,
}

/// The commands of the shell.
#[derive(Debug, Subcommand)]
enum ShellCommand {
    /// The bus commands of the command line.
    #[command(flatten)]
    Bus(BusCommand),
    /// Prints what Tab would complete TEXT to, one candidate a line.
    Complete {
        /// The beginning of a line, e.g. `math.Math/S`.
        text: Option<String>,
    },
    /// Leaves the shell (so does Ctrl-D).
    #[command(alias = "quit")]
    Exit,
}

/// What a line asks the shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing: an empty line or a `#` comment.
    Nothing,
    /// A bus command (calls included).
    Run(BusCommand),
    /// List what Tab would complete this text to.
    Complete(String),
    /// Print this text (help asked for).
    Print(String),
    /// Leave the shell.
    Exit,
}

/// Reads `line`; the error says, on one line, what is wrong with it.
pub(crate) fn parse(line: &str) -> Result<Action, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Action::Nothing);
    }
    let words = words::split(line);
    let texts = words.texts();
    match texts.first() {
        Some(first) if first.contains('/') => call(&words),
        // The text to complete is kept raw: its spaces and quotes matter.
        Some(&"complete") => {
            let (start, word) = words.words[0];
            Ok(Action::Complete(
                line[start + word.len()..].trim_start().to_owned(),
            ))
        }
        _ => command(&words),
    }
}

/// `SERVICE/METHOD [JSON]`: a call, with `{}` when no JSON is given.
fn call(words: &Words<'_>) -> Result<Action, String> {
    let texts = words.texts();
    if texts.len() > 1 {
        return Err(format!(
            "after {} comes the request as JSON, e.g. {{\"a\": 1}}, not {:?}",
            texts[0], texts[1]
        ));
    }
    let target: Target = texts[0].parse()?;
    let json = words.json.map(|(_, json)| words::unquote(json).to_owned());
    Ok(Action::Run(BusCommand::Call {
        target,
        json,
        data: None,
        lines: false,
    }))
}

/// Any other command, read by clap.
fn command(words: &Words<'_>) -> Result<Action, String> {
    let mut arguments: Vec<String> = words.texts().into_iter().map(str::to_owned).collect();
    if let Some((_, json)) = words.json {
        arguments.push(words::unquote(json).to_owned());
    }
    match ShellLine::try_parse_from(arguments) {
        Ok(ShellLine { command }) => Ok(match command {
            ShellCommand::Bus(command) => Action::Run(command),
            ShellCommand::Complete { text } => Action::Complete(text.unwrap_or_default()),
            ShellCommand::Exit => Action::Exit,
        }),
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Ok(Action::Print(error.render().to_string()))
            }
            _ => {
                let rendered = error.render().to_string();
                let first = rendered.lines().next().unwrap_or_default();
                let first = first.strip_prefix("error: ").unwrap_or(first);
                Err(format!("{first} (type help for the commands)"))
            }
        },
    }
}

/// The names of the shell's commands, `help` included, for completion.
pub(crate) fn command_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = ShellLine::command()
            .get_subcommands()
            .map(|command| command.get_name().to_owned())
            .collect();
        names.push("help".to_owned());
        names.sort();
        names
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::CacheCommand;

    #[test]
    fn calls_are_typed_as_target_and_json() {
        assert_eq!(
            parse(r#"math.Math/Sum {"a": 1, "b": 2}"#),
            Ok(Action::Run(BusCommand::Call {
                target: "math.Math/Sum".parse().expect("target"),
                json: Some(r#"{"a": 1, "b": 2}"#.to_owned()),
                data: None,
                lines: false,
            }))
        );
        assert_eq!(
            parse("random.Random/Uuid"),
            Ok(Action::Run(BusCommand::Call {
                target: "random.Random/Uuid".parse().expect("target"),
                json: None,
                data: None,
                lines: false,
            }))
        );
    }

    #[test]
    fn bus_commands_read_as_on_the_command_line() {
        assert_eq!(parse("services"), Ok(Action::Run(BusCommand::Services)));
        assert_eq!(
            parse(r#"cache clear math.Math/Now '{"seed": 1}'"#),
            Ok(Action::Run(BusCommand::Cache(CacheCommand::Clear {
                target: "math.Math/Now".parse().expect("target"),
                json: Some(r#"{"seed": 1}"#.to_owned()),
            })))
        );
        assert_eq!(
            parse("stats math.Math"),
            Ok(Action::Run(BusCommand::Stats {
                service: Some("math.Math".to_owned()),
                window: None,
                instances: false,
            }))
        );
        assert_eq!(parse("quit"), Ok(Action::Exit));
        assert_eq!(parse("  # a comment"), Ok(Action::Nothing));
    }

    #[test]
    fn complete_keeps_its_text_raw() {
        assert_eq!(
            parse(r#"complete math.Math/Sum {"a": 1, "#),
            Ok(Action::Complete(r#"math.Math/Sum {"a": 1, "#.to_owned()))
        );
    }

    #[test]
    fn help_lists_the_commands() {
        let Ok(Action::Print(help)) = parse("help") else {
            panic!("help prints");
        };
        for command in ["services", "describe", "cache", "stats", "cleanup", "exit"] {
            assert!(help.contains(command), "{help}");
        }
        assert!(
            help.contains("math.Math/Sum {\"a\": 1, \"b\": 2}"),
            "{help}"
        );
    }

    #[test]
    fn mistakes_are_one_line() {
        let error = parse("frobnicate").expect_err("unknown");
        assert!(error.contains("frobnicate"), "{error}");
        assert!(!error.contains('\n'), "{error}");
        let error = parse("math.Math/Sum a b").expect_err("not JSON");
        assert!(error.contains("comes the request as JSON"), "{error}");
    }

    #[test]
    fn command_names_include_help() {
        let names = command_names();
        assert!(names.iter().any(|n| n == "help"));
        assert!(names.iter().any(|n| n == "describe"));
        assert!(!names.iter().any(|n| n == "shell"));
    }
}
