//! Any bytes on the stdin of `fn`, through the function the command runs (in-process): a
//! ResourceList comes out, with results, and exit code 0 or 1, never a panic; on failure the
//! items are the ones given, unchanged (never a partial list); what comes out is written as
//! YAML and reads back the same. A list read item by item (`yaml::list`) is the list read whole.
#![no_main]

use nixernetes_fuzz::readable;
use libfuzzer_sys::fuzz_target;
use nixernetes::cli::function::process;
use nixernetes::source::{decode, resource_list};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = match decode(data.to_vec(), "-") {
        Ok(text) => text,
        // `fn` then writes an empty ResourceList with this result and exits 1.
        Err(f) => {
            assert!(readable(&f.message), "unreadable message: {:?}", f.message);
            return;
        }
    };
    // Read item by item (when its layout allows, `yaml::list`) or whole: the same list.
    match (resource_list::parse_as(&text, &|r| r), resource_list::parse(&text)) {
        (Ok(cut), Ok(whole)) => {
            let json = |items: &[nixernetes::resource::Resource]| {
                items
                    .iter()
                    .map(|r| serde_json::to_string(&r.object).expect("serializes"))
                    .collect::<Vec<_>>()
            };
            assert_eq!(json(&cut.items), json(&whole.items), "items read item by item differ");
            assert_eq!(cut.function_config, whole.function_config);
        }
        (Err(_), Err(_)) => {}
        (cut, whole) => panic!(
            "read item by item: {}, read whole: {}",
            if cut.is_ok() { "a list" } else { "refused" },
            if whole.is_ok() { "a list" } else { "refused" }
        ),
    }
    let (out, code) = process(&text);
    assert!(code == 0 || code == 1, "exit code {code}");
    assert_eq!(out["apiVersion"], "config.kubernetes.io/v1");
    assert_eq!(out["kind"], "ResourceList");
    let items = out["items"].as_array().expect("items is a list");
    let results = out
        .get("results")
        .map(|r| r.as_array().expect("results is a list"));
    let errors = results
        .into_iter()
        .flatten()
        .filter(|r| r["severity"] == "error")
        .count();
    for r in results.into_iter().flatten() {
        let message = r["message"].as_str().expect("a result has a message");
        assert!(readable(message), "unreadable message: {message:?}");
    }
    if code == 1 {
        assert!(errors > 0, "exit 1 without an error result: {out}");
        let given: Vec<Value> = match resource_list::parse(&text) {
            Ok(rl) => rl
                .items
                .into_iter()
                .map(|r| Value::Object(r.object))
                .collect(),
            Err(rejected) => rejected.items,
        };
        assert!(items == &given, "a failed run changed the items: {out}");
    } else {
        assert_eq!(errors, 0, "exit 0 with an error result: {out}");
    }
    let written = nixernetes::yaml::to_string(&out);
    let back = nixernetes::yaml::parse_one(&written)
        .unwrap_or_else(|e| panic!("the output does not read back ({e}):\n{written}"));
    assert!(back == out, "the output reads back otherwise:\n{written}");
});
