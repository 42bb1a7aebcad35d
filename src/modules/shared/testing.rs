//! What the kinds' unit tests share: a YAML text rendered through the engine with every kind,
//! and the objects of the result looked up by kind and name.
#![cfg(test)]

use crate::engine::{run, Options, Output};
use crate::resource::Resource;

/// `yaml` rendered with every built-in kind, the policy checks left out (a kind's tests are
/// about what it emits; `check` has its own).
pub fn render(yaml: &str) -> Output {
    let inputs = crate::source::parse_text(yaml, "t.yaml").expect("the test input parses");
    run(
        inputs,
        &Options {
            skip_checks: true,
            ..Options::new(crate::modules::registry())
        },
    )
}

/// The object `kind`/`name` of `out`; panics, naming it, when there is none.
pub fn find<'a>(out: &'a Output, kind: &str, name: &str) -> &'a Resource {
    out.objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} rendered"))
}
