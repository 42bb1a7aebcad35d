//! Any bytes read as a YAML stream: documents or one located error, never a panic, never more
//! than the budgets allow; what is read is written back and reads the same (the writer quotes
//! whatever a reader would take for something else).
#![no_main]

use nixernetes_fuzz::readable;
use libfuzzer_sys::fuzz_target;
use nixernetes::yaml::{parse_one, parse_stream, to_string, MAX_DEPTH, MAX_DOCUMENT_SCALAR_BYTES};
use serde_json::Value;

/// Depth and scalar bytes (strings and keys) of a value, as the budgets count them.
fn measure(v: &Value, depth: usize, max_depth: &mut usize, bytes: &mut usize) {
    *max_depth = (*max_depth).max(depth);
    match v {
        Value::String(s) => *bytes += s.len(),
        Value::Array(a) => a
            .iter()
            .for_each(|x| measure(x, depth + 1, max_depth, bytes)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            *bytes += k.len();
            measure(x, depth + 1, max_depth, bytes)
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1);
    match parse_stream(&text) {
        Ok(docs) => {
            for (i, d) in docs.iter().enumerate() {
                assert_eq!(d.index, i, "document indexes run from 0");
                assert!(!d.value.is_null(), "null documents are left out");
                assert!((1..=lines).contains(&d.line), "line {} of {lines}", d.line);
                let (mut depth, mut bytes) = (0, 0);
                measure(&d.value, 1, &mut depth, &mut bytes);
                assert!(depth <= MAX_DEPTH + 1, "depth {depth} beyond the budget");
                assert!(
                    bytes <= MAX_DOCUMENT_SCALAR_BYTES,
                    "{bytes} scalar bytes beyond the budget"
                );
                let written = to_string(&d.value);
                match parse_one(&written) {
                    Ok(back) => assert_eq!(
                        serde_json::to_string(&back).expect("serializable"),
                        serde_json::to_string(&d.value).expect("serializable"),
                        "written as {written:?}, read back otherwise"
                    ),
                    Err(e) => panic!("written as {written:?}, which does not read back: {e}"),
                }
            }
        }
        Err(e) => {
            assert!(
                (1..=lines + 1).contains(&e.line),
                "error at line {} of {lines}: {e}",
                e.line
            );
            assert!(readable(&e.message), "unreadable message: {:?}", e.message);
        }
    }
});
