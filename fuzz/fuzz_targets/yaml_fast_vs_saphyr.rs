//! The fast YAML reader against the reference reading (serde-saphyr, after the Go-reader
//! check), chunk by chunk as `yaml::parse_stream` reads them: whenever the fast reader returns
//! a value, it is the reference's value, byte for byte once serialized (key order and number
//! types included); whenever the reference refuses a chunk, the fast reader declines it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nixernetes::yaml::fuzzing::{chunks, fast, reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for chunk in chunks(text) {
        let Some(fast) = fast(chunk) else {
            continue;
        };
        match reference(chunk) {
            Ok(slow) => {
                let (f, s) = (
                    serde_json::to_string(&fast).expect("serializable"),
                    serde_json::to_string(&slow).expect("serializable"),
                );
                assert_eq!(f, s, "the fast reader differs on {chunk:?}");
            }
            Err(e) => panic!("the fast reader accepted {chunk:?}, the reference refuses it: {e:?}"),
        }
    }
});
