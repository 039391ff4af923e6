//! Building the `nix` command lines the job engine runs. Pure: the result is a program, an
//! argument list and nothing else, so it can be unit-tested and shown to the user verbatim.
//!
//! Nix 2.8 facts that shape these: there is no `--print-out-paths` (we use
//! `--json`), a multi-target `nix build` reports only its first failure (one installable per
//! call), and the experimental features are added with `--extra-experimental-features` so a
//! user's own `NIX_CONFIG` / `nix.conf` is never replaced, only extended.

use std::ffi::OsString;
use std::path::Path;

use super::version::{DrvOutputs, drv_installable};

/// `flake#attr`, the one installable a nix call works on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Installable {
    /// A flake reference: a path (`./tests/fixtures/flakes/basic`), `git+file:...`, `github:...`.
    pub flake: String,
    /// An attribute path inside it, e.g. `packages.x86_64-linux.constellation` or just `ok`.
    pub attr: String,
}

impl Installable {
    pub fn new(flake: impl Into<String>, attr: impl Into<String>) -> Self {
        Installable {
            flake: flake.into(),
            attr: attr.into(),
        }
    }
}

impl std::fmt::Display for Installable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.flake, self.attr)
    }
}

/// Settings passed on every call (from `[jobs]` in the config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NixOptions {
    /// `--builders` (Nix's distributed builds); `None` leaves nix.conf's value alone.
    pub builders: Option<String>,
    /// `--max-jobs`; `None` leaves nix.conf's value alone.
    pub max_jobs: Option<u32>,
    /// `--rebuild`: build again even if the output is valid (benchmarks, determinism checks).
    pub rebuild: bool,
    /// `--option build-hook VALUE` for builds (see `nix::build_hook`); `None`: nix's own hook.
    pub build_hook: Option<String>,
}

/// What one job asks nix to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NixAction {
    /// `nix build --json --no-link`: realise the installable, print drv and out paths.
    Build,
    /// `nix eval --json`: evaluate the installable, print its value.
    Eval,
}

/// A ready-to-run command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixCommandLine {
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl NixCommandLine {
    /// Shell-like rendering for logs and the jobs view (quotes arguments with spaces).
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| {
                let s = a.to_string_lossy();
                if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '\'') {
                    format!("'{}'", s.replace('\'', r"'\''"))
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The experimental features atwb needs; added, never substituted, to the user's setting.
pub const EXPERIMENTAL_FEATURES: &str = "nix-command flakes";

/// Settings for every evaluation atwb starts on its own (not a build the user asked for), so that
/// evaluating an untrusted catalog builds nothing and reads nothing beyond what Nix is given.
/// Passed as `--option`, which overrides nix.conf and `NIX_CONFIG`. Checked against Nix 2.8:
/// - `allow-import-from-derivation false`: importing a derivation's output would build it, i.e.
///   run the catalog's builder as the user, during evaluation;
/// - `restrict-eval` and `pure-eval`: no path outside the `-I` entries (the catalog), no
///   `getEnv`, no `currentSystem`;
/// - `allowed-uris` empty: no URI may be fetched;
/// - `allow-unsafe-native-code-during-evaluation false`: no `builtins.exec`.
///
/// `--read-only` (a `nix eval` flag) also keeps the evaluation from writing `.drv` files.
pub const RESTRICTED_EVAL_OPTIONS: [(&str, &str); 5] = [
    ("allow-import-from-derivation", "false"),
    ("restrict-eval", "true"),
    ("pure-eval", "true"),
    ("allowed-uris", ""),
    ("allow-unsafe-native-code-during-evaluation", "false"),
];

fn push_restricted(args: &mut Vec<OsString>) {
    args.push("--read-only".into());
    for (name, value) in RESTRICTED_EVAL_OPTIONS {
        args.extend(["--option".into(), name.into(), value.into()]);
    }
}

/// `nix eval --json --file FILE ATTR --argstr catalogDir ROOT`, restricted to `root`: what atwb
/// runs to read a catalog's builtins-only views (`lib/offline.nix`). Only `nix-command` is
/// enabled, set rather than added: with `flakes` on, Nix 2.8's `fetchTree` and `getFlake` read
/// local paths in spite of `restrict-eval`, and this file needs neither.
pub fn offline_eval_line(file: &Path, attr: &str, root: &Path) -> NixCommandLine {
    let mut args: Vec<OsString> = vec![
        "--option".into(),
        "experimental-features".into(),
        "nix-command".into(),
        "eval".into(),
    ];
    push_restricted(&mut args);
    // The only path the evaluation may read: the catalog.
    let mut include = OsString::from("atwb-catalog=");
    include.push(root);
    args.extend(["-I".into(), include]);
    args.extend(["--json".into(), "--file".into(), file.into(), attr.into()]);
    args.extend(["--argstr".into(), "catalogDir".into(), root.into()]);
    NixCommandLine {
        program: "nix".into(),
        args,
    }
}

/// `nix <action> <flake>#<attr> --log-format internal-json -v --json ...`.
pub fn command_line(
    action: NixAction,
    installable: &Installable,
    opts: &NixOptions,
) -> NixCommandLine {
    target_line(action, &installable.to_string(), opts)
}

/// `nix build /nix/store/…drv[^*] --log-format internal-json -v --json --no-link ...`: realise
/// every output of a derivation that an evaluation already wrote, without evaluating anything.
/// `outputs` says how the installed nix spells that (see `nix::version`): Nix 2.8 takes the
/// plain `.drv` path and rejects `drv^*`; Nix 2.15+ builds nothing for the plain path.
pub fn drv_build_line(drv_path: &str, outputs: DrvOutputs, opts: &NixOptions) -> NixCommandLine {
    target_line(NixAction::Build, &drv_installable(drv_path, outputs), opts)
}

/// `nix eval --json <flake>#<parent> --apply EXPR`: one evaluation that reports the drv and out
/// paths of several attributes of `parent` (see `jobs::evaluate`). Not restricted: this is the
/// evaluation half of a build the user asked for, so it has the settings `nix build` has (and,
/// unlike `--read-only`, writes the `.drv` files the builds then realise). Pure, as flakes are.
pub fn batch_eval_line(flake: &str, parent: &str, apply: &str) -> NixCommandLine {
    let args: Vec<OsString> = vec![
        "--extra-experimental-features".into(),
        EXPERIMENTAL_FEATURES.into(),
        "eval".into(),
        format!("{flake}#{parent}").into(),
        "--json".into(),
        "--apply".into(),
        apply.into(),
    ];
    NixCommandLine {
        program: "nix".into(),
        args,
    }
}

fn target_line(action: NixAction, target: &str, opts: &NixOptions) -> NixCommandLine {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(a.into());
    // Global option first: nix 2.8 checks the feature flag before it parses the subcommand's own.
    push("--extra-experimental-features");
    push(EXPERIMENTAL_FEATURES);
    match action {
        NixAction::Build => push("build"),
        NixAction::Eval => push("eval"),
    }
    push(target);
    push("--log-format");
    push("internal-json");
    push("-v");
    push("--json");
    if action == NixAction::Build {
        push("--no-link");
        if opts.rebuild {
            push("--rebuild");
        }
        if let Some(h) = &opts.build_hook {
            push("--option");
            push("build-hook");
            push(h);
        }
    }
    if let Some(b) = &opts.builders {
        push("--builders");
        push(b);
    }
    if let Some(n) = opts.max_jobs {
        push("--max-jobs");
        push(&n.to_string());
    }
    if action == NixAction::Eval {
        // An evaluation is not a build: it gets no chance to build (import-from-derivation).
        push_restricted(&mut args);
    }
    NixCommandLine {
        program: "nix".into(),
        args,
    }
}

/// The current system in nix's spelling (`x86_64-linux`), for `packages.<system>.<name>`.
pub fn current_system() -> String {
    let arch = std::env::consts::ARCH;
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{arch}-{os}")
}

/// Output of `nix build --json`: `[{"drvPath": ..., "outputs": {"out": ...}}]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildResultJson {
    #[serde(rename = "drvPath")]
    pub drv_path: String,
    pub outputs: std::collections::BTreeMap<String, String>,
}

/// Parse `nix build --json` stdout; anything else (empty on failure) gives an empty list.
pub fn parse_build_json(stdout: &str) -> Vec<BuildResultJson> {
    serde_json::from_str(stdout.trim()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(c: &NixCommandLine) -> Vec<String> {
        c.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn build_line_has_one_installable_and_json_output() {
        let c = command_line(
            NixAction::Build,
            &Installable::new("./f", "ok"),
            &NixOptions::default(),
        );
        assert_eq!(
            strs(&c),
            [
                "--extra-experimental-features",
                "nix-command flakes",
                "build",
                "./f#ok",
                "--log-format",
                "internal-json",
                "-v",
                "--json",
                "--no-link"
            ]
        );
        assert!(
            !strs(&c).iter().any(|a| a == "--print-out-paths"),
            "flag does not exist in 2.8"
        );
    }

    #[test]
    fn builders_and_max_jobs_are_passed_through() {
        let opts = NixOptions {
            builders: Some("ssh://b x86_64-linux".into()),
            max_jobs: Some(0),
            rebuild: true,
            build_hook: Some("/s/atwb-nix-build-hook".into()),
        };
        let c = command_line(NixAction::Build, &Installable::new(".", "a"), &opts);
        let a = strs(&c);
        let at = |f: &str| a.iter().position(|x| x == f).unwrap();
        assert_eq!(a[at("build-hook") - 1], "--option");
        assert_eq!(a[at("build-hook") + 1], "/s/atwb-nix-build-hook");
        let e = command_line(NixAction::Eval, &Installable::new(".", "a"), &opts);
        assert!(
            !strs(&e).contains(&"build-hook".to_string()),
            "an evaluation builds nothing"
        );
        assert_eq!(a[at("--builders") + 1], "ssh://b x86_64-linux");
        assert_eq!(a[at("--max-jobs") + 1], "0");
        assert!(a.contains(&"--rebuild".to_string()));
        assert!(c.display().contains("'ssh://b x86_64-linux'"));
    }

    #[test]
    fn a_drv_is_built_by_its_plain_path() {
        let c = drv_build_line(
            "/nix/store/x-ok.drv",
            DrvOutputs::PlainPath,
            &NixOptions::default(),
        );
        let a = strs(&c);
        assert_eq!(a[2..4], ["build", "/nix/store/x-ok.drv"]);
        let newer = strs(&drv_build_line(
            "/nix/store/x-ok.drv",
            DrvOutputs::AllOutputsSuffix,
            &NixOptions::default(),
        ));
        assert_eq!(newer[2..4], ["build", "/nix/store/x-ok.drv^*"]);
        assert!(a.contains(&"--no-link".to_string()) && a.contains(&"--json".to_string()));
        let e = strs(&batch_eval_line("./f", "packages.x", "s: s"));
        assert_eq!(
            e[2..],
            ["eval", "./f#packages.x", "--json", "--apply", "s: s"]
        );
        assert!(
            !e.contains(&"--read-only".to_string()),
            "the drvs must be written"
        );
    }

    #[test]
    fn eval_line_has_no_build_flags() {
        let c = command_line(
            NixAction::Eval,
            &Installable::new(".", "lib.x"),
            &NixOptions::default(),
        );
        let a = strs(&c);
        assert_eq!(a[2], "eval");
        assert!(!a.contains(&"--no-link".to_string()));
    }

    #[test]
    fn evaluations_are_restricted_and_builds_are_not() {
        let opt = |a: &[String], name: &str| {
            a.windows(3)
                .find(|w| w[0] == "--option" && w[1] == name)
                .map(|w| w[2].clone())
        };
        let eval = strs(&command_line(
            NixAction::Eval,
            &Installable::new(".", "lib.x"),
            &NixOptions::default(),
        ));
        let offline = strs(&offline_eval_line(
            Path::new("/c/lib/offline.nix"),
            "units",
            Path::new("/c"),
        ));
        for a in [&eval, &offline] {
            assert_eq!(
                opt(a, "allow-import-from-derivation").as_deref(),
                Some("false")
            );
            assert_eq!(opt(a, "restrict-eval").as_deref(), Some("true"));
            assert_eq!(opt(a, "pure-eval").as_deref(), Some("true"));
            assert_eq!(opt(a, "allowed-uris").as_deref(), Some(""));
            assert!(a.contains(&"--read-only".to_string()), "{a:?}");
        }
        assert_eq!(
            opt(&offline, "experimental-features").as_deref(),
            Some("nix-command")
        );
        let at = offline.iter().position(|x| x == "-I").unwrap();
        assert_eq!(offline[at + 1], "atwb-catalog=/c");
        let build = strs(&command_line(
            NixAction::Build,
            &Installable::new(".", "a"),
            &NixOptions::default(),
        ));
        assert!(!build.contains(&"--read-only".to_string()));
        assert_eq!(opt(&build, "restrict-eval"), None);
    }

    #[test]
    fn build_json_is_parsed_and_garbage_is_empty() {
        let j = r#"[{"drvPath":"/nix/store/x-ok.drv","outputs":{"out":"/nix/store/y-ok"}}]"#;
        let r = parse_build_json(j);
        assert_eq!(r[0].drv_path, "/nix/store/x-ok.drv");
        assert_eq!(r[0].outputs["out"], "/nix/store/y-ok");
        assert!(parse_build_json("").is_empty());
    }
}
