//! `kubectl nixernetes check`: lint any Kubernetes YAML (module resources are expanded first)
//! against the built-in checks and the validation rules (`--rules`, or in the input), and
//! report as text, JSON or SARIF.
//!
//! Exit codes: 0 clean (or nothing at or above `--fail-on`), 1 findings at or above `--fail-on`,
//! 2 usage errors or input that cannot be read or expanded. A file that cannot be read (invalid
//! YAML, not an object) does not stop the others: they are checked and reported, its error is
//! in the report at its file and line, and the exit code is 2. Input that cannot be expanded
//! (an invalid module resource) stops the checks: its errors are on stderr, or with -o json or
//! sarif in the report, and the exit code is 2.

use super::selector::Left;
use super::{emit, print_findings, PolicyFlags, EXIT_USAGE};
use crate::engine::{self, Options};
use crate::finding::Severity;
use crate::policy;
use crate::report::{json as json_report, sarif, text};
use crate::resource::Resource;
use crate::settings::Overrides;
use crate::source;
use crate::types::Enforcement;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CheckFormat {
    /// Findings grouped by object, with file:line.
    #[default]
    Text,
    /// The stable JSON report (see report::json).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage errors, or\n\
input that cannot be read or expanded. A file that cannot be read does not stop the others: its\n\
error is in the report at its line, every other file is checked, and the exit code is 2. Input\n\
that cannot be expanded stops the checks: its errors are on stderr (in the report with -o json\n\
or -o sarif)."
)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads stdin.
    ///
    /// Example: kubectl nixernetes check manifests/
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// File or directory to check (like kubectl's -f); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<String>,
    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = CheckFormat::Text)]
    pub output: CheckFormat,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// List the checks (id, Pod Security level, default severity, fix, summary) and exit.
    #[arg(long, exclusive = true)]
    pub list: bool,
    #[command(flatten)]
    pub select: super::selector::SelectorFlag,
    #[command(flatten)]
    pub policy: PolicyFlags,
}

pub fn run(args: &CheckArgs) -> i32 {
    if args.list {
        let mut out = String::new();
        for c in policy::checks() {
            let pss = c.pss.map_or("-", policy::Pss::as_str);
            let fix = c.fix.as_str();
            out.push_str(&format!(
                "{:<28}{pss:<12}{:<9}{fix:<5}{}\n",
                c.id,
                c.severity.as_str(),
                c.summary
            ));
        }
        return emit(out.as_bytes());
    }
    let inputs: Vec<String> = args.paths.iter().chain(&args.filenames).cloned().collect();
    if inputs.is_empty() {
        eprintln!("error: nothing to check: give a PATH, -f FILE, or - for stdin");
        return EXIT_USAGE;
    }
    // A file that cannot be read is reported with the findings of the others, which are still
    // checked: a linter does not stop at the first bad file. The exit code is then 2.
    let mut stdin = source::locate::Kept::new(std::io::stdin().lock());
    let (resources, mut unreadable) = source::files::read_each(&inputs, &mut stdin);
    if resources.is_empty() && !unreadable.is_empty() {
        source::locate::field_lines(&mut unreadable, stdin.text(), Severity::Info);
        print_findings(&unreadable);
        return EXIT_USAGE;
    }
    let mut overrides = Overrides::default();
    if let Err(e) = crate::settings::apply_environment(&mut overrides) {
        print_findings(&[crate::finding::Finding::error(e)]);
        return EXIT_USAGE;
    }
    if let Err(e) = args.policy.apply_judging(&mut overrides) {
        print_findings(&e);
        return EXIT_USAGE;
    }
    let rules = match args.policy.read_rules(false) {
        Ok(r) => r,
        Err(mut e) => {
            source::locate::field_lines(&mut e, None, Severity::Info);
            print_findings(&e);
            return EXIT_USAGE;
        }
    };
    let schemas = match args.policy.read_schemas() {
        Ok(s) => s,
        Err(e) => {
            print_findings(&e);
            return EXIT_USAGE;
        }
    };
    let out = engine::run(
        resources,
        &Options {
            overrides,
            rules,
            schemas,
            skip_checks: true,
            ..Options::new(crate::modules::registry())
        },
    );
    // `check` reports what the checks find whatever the enforcement of a render would be.
    let settings = crate::settings::PolicySettings {
        enforcement: Enforcement::Enforce,
        ..out.policy.clone()
    };
    // Input that cannot be expanded is a usage error; a report kind's verdict is a finding.
    // Text goes to stderr; a JSON or SARIF report holds the errors (code scanning shows them
    // at their lines, with the template node of a user kind's child as a related location).
    if out
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error && f.check.is_none())
    {
        let mut findings = unreadable;
        crate::finding::append(&mut findings, out.findings);
        source::locate::field_lines(&mut findings, stdin.text(), Severity::Info);
        match args.output {
            CheckFormat::Text => print_findings(&findings),
            CheckFormat::Json => {
                super::emit_with(|out| json_report::write(out, &findings, 0, &settings));
            }
            CheckFormat::Sarif => {
                emit(&pretty(&sarif::report(&findings)));
            }
        }
        return EXIT_USAGE;
    }
    let objects: Vec<&Resource> = out
        .objects
        .iter()
        .filter(|r| !r.is_local_config())
        .collect();
    let mut findings = unreadable.clone();
    crate::finding::append(&mut findings, out.findings.clone());
    // The checks see the whole set (one platform: coverage and selector checks compare objects
    // with each other); the report is about the objects `-l` selects.
    let mut checked = policy::run_with_rules(&objects, &settings, &out.rules, &out.schemas);
    crate::kind::admission::cite(&mut checked, &out.admission);
    crate::finding::append(&mut findings, checked);
    let mut left = Left {
        rendered: objects.len(),
        ..Left::default()
    };
    let selector = args.select.selector.as_ref();
    if let Some(s) = selector {
        left.out = objects
            .iter()
            .filter(|r| !s.matches(r.labels()))
            .map(|r| r.object_ref())
            .collect();
        left.drop_findings(&mut findings);
        left.note_if_none(s);
    }
    let reported = objects.len() - left.out.len();
    // The text report groups findings by object under the document's line, and shows each
    // finding's own line beside it.
    let documents: Vec<Option<String>> = findings
        .iter()
        .map(|f| f.origin.as_ref().map(|o| o.to_string()))
        .collect();
    let unplaced = source::locate::field_lines(&mut findings, stdin.text(), Severity::Info);
    if let Some(note) = source::locate::budget_note(unplaced) {
        eprintln!("{note}");
    }
    let printed = match args.output {
        CheckFormat::Text => emit(text::grouped(&findings, &documents, reported).as_bytes()),
        CheckFormat::Json => {
            super::emit_with(|out| json_report::write(out, &findings, reported, &settings))
        }
        CheckFormat::Sarif => emit(&pretty(&sarif::report(&findings))),
    };
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    if !unreadable.is_empty() {
        let files: std::collections::BTreeSet<&str> = unreadable
            .iter()
            .filter_map(|f| f.origin.as_ref().map(|o| &*o.file))
            .collect();
        let files: Vec<&str> = files.into_iter().collect();
        eprintln!(
            "error: not read, so not checked (errors in the report): {}; every other file was checked",
            if files.is_empty() { "some input".to_string() } else { files.join(", ") }
        );
        EXIT_USAGE
    } else if findings.iter().any(|f| f.severity >= threshold) {
        1
    } else {
        printed
    }
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}
