//! Which CEL functions the API server of each Kubernetes minor has, for exporting rules as
//! admission policies (§2.8 of the extensibility design): a table mirroring the libraries
//! `k8s.io/apiserver/pkg/cel/environment/base.go` adds to the base environment, by the minor
//! that introduced them (checked against kubernetes/apiserver @ 24a394e5: `baseOpts`, and the
//! function names of `pkg/cel/library/*.go`). Lists v0 is removed in 1.37 only because Lists v1,
//! a superset, replaces it. kube-cel also registers functions no API server has (`math.*`,
//! `base64.*`, `jsonpatch.escapeKey` outside mutation, `cel.bind`): a rule that uses one
//! passes here and cannot be created at admission. A name in no library is refused too (fail
//! closed). Re-check the table for each new minor.
//!
//! Names are as [`super::cel::Expr::calls`] gives them: macros (`has`, `all`, `exists`,
//! `exists_one`, `map`, `filter`) are expanded by the parser and never appear, a two-variable
//! comprehension is `all/3` or `exists/3`.

/// `(library, first minor, functions)`; minor 0 means every supported minor.
const LIBRARIES: &[(&str, u32, &[&str])] = &[
    (
        "standard",
        0,
        &[
            "size",
            "contains",
            "startsWith",
            "endsWith",
            "matches",
            "string",
            "int",
            "uint",
            "double",
            "bytes",
            "bool",
            "duration",
            "timestamp",
            "type",
            "dyn",
            "getFullYear",
            "getMonth",
            "getDayOfYear",
            "getDayOfMonth",
            "getDate",
            "getDayOfWeek",
            "getHours",
            "getMinutes",
            "getSeconds",
            "getMilliseconds",
            "in",
        ],
    ),
    (
        "URLs",
        0,
        &[
            "url",
            "isURL",
            "getScheme",
            "getHost",
            "getHostname",
            "getPort",
            "getEscapedPath",
            "getQuery",
        ],
    ),
    ("regex", 0, &["find", "findAll"]),
    (
        "Kubernetes lists",
        0,
        &["isSorted", "sum", "min", "max", "indexOf", "lastIndexOf"],
    ),
    (
        "strings",
        0,
        &[
            "charAt",
            "indexOf",
            "lastIndexOf",
            "lowerAscii",
            "upperAscii",
            "replace",
            "split",
            "substring",
            "trim",
            "join",
        ],
    ),
    (
        "quantity",
        28,
        &[
            "quantity",
            "isQuantity",
            "isInteger",
            "asInteger",
            "asApproximateFloat",
            "sign",
            "add",
            "sub",
            "isGreaterThan",
            "isLessThan",
            "compareTo",
        ],
    ),
    (
        "optionals",
        28,
        &[
            "optional.of",
            "optional.none",
            "optional.ofNonZeroValue",
            "hasValue",
            "value",
            "or",
            "orValue",
            "optMap",
            "optFlatMap",
        ],
    ),
    (
        "authorizer",
        27,
        &[
            "path",
            "group",
            "serviceAccount",
            "resource",
            "subresource",
            "namespace",
            "name",
            "check",
            "errored",
            "error",
            "allowed",
            "reason",
        ],
    ),
    (
        "authorizer selectors",
        31,
        &["fieldSelector", "labelSelector"],
    ),
    ("strings v2", 29, &["format", "strings.quote"]),
    (
        "sets",
        29,
        &["sets.contains", "sets.equivalent", "sets.intersects"],
    ),
    (
        "IP and CIDR",
        30,
        &[
            "ip",
            "isIP",
            "ip.isCanonical",
            "family",
            "isUnspecified",
            "isLoopback",
            "isLinkLocalMulticast",
            "isLinkLocalUnicast",
            "isGlobalUnicast",
            "cidr",
            "isCIDR",
            "containsIP",
            "containsCIDR",
            "prefixLength",
            "masked",
        ],
    ),
    (
        "named formats",
        31,
        &[
            "validate",
            "format.named",
            "format.dns1123Label",
            "format.dns1123Subdomain",
            "format.dns1035Label",
            "format.dns1035LabelPrefix",
            "format.dns1123LabelPrefix",
            "format.dns1123SubdomainPrefix",
            "format.qualifiedName",
            "format.labelValue",
            "format.uri",
            "format.uuid",
            "format.byte",
            "format.date",
            "format.datetime",
        ],
    ),
    (
        "two-variable comprehensions",
        32,
        &[
            "transformList",
            "transformMap",
            "transformMapEntry",
            "existsOne",
            "all/3",
            "exists/3",
        ],
    ),
    (
        "semver",
        33,
        &["semver", "isSemver", "major", "minor", "patch"],
    ),
    (
        "lists v3",
        34,
        &[
            "slice",
            "flatten",
            "lists.range",
            "distinct",
            "reverse",
            "sort",
            "sortBy",
            "first",
            "last",
        ],
    ),
    ("Kubernetes lists v1", 37, &["includes"]),
];

/// Functions kube-cel has that no API server's base environment has.
const NEVER: &[&str] = &[
    "math.ceil",
    "math.floor",
    "math.round",
    "math.trunc",
    "math.abs",
    "math.sign",
    "math.sqrt",
    "math.isInf",
    "math.isNaN",
    "math.isFinite",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
    "math.greatest",
    "math.least",
    "base64.decode",
    "base64.encode",
    "cel.bind",
    "jsonpatch.escapeKey",
    "isIPv4",
    "isIPv6",
    "isCIDRv4",
    "isCIDRv6",
];

/// Why `function` cannot be used at admission on Kubernetes `1.<minor>`, or `None` when it can.
/// A function several libraries define (`indexOf`) is available from the earliest of them.
pub fn unavailable(function: &str, minor: u32) -> Option<String> {
    if NEVER.contains(&function) {
        return Some(format!(
            "{function} is not in the API server's CEL environment (in no Kubernetes version)"
        ));
    }
    let first = LIBRARIES
        .iter()
        .filter(|(_, _, fns)| fns.contains(&function))
        .min_by_key(|(_, since, _)| *since);
    match first {
        Some((_, since, _)) if *since <= minor => None,
        Some((library, since, _)) => Some(format!(
            "{function} ({library}) is available from Kubernetes 1.{since}; the target is 1.{minor}"
        )),
        None => Some(format!(
            "{function} is not a function of the API server's CEL environment"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_follow_the_minor_that_added_them() {
        assert_eq!(unavailable("startsWith", 31), None);
        assert_eq!(unavailable("quantity", 31), None);
        assert!(unavailable("semver", 32)
            .unwrap()
            .contains("from Kubernetes 1.33"));
        assert_eq!(unavailable("semver", 33), None);
        assert!(unavailable("includes", 35).is_some());
        assert_eq!(unavailable("includes", 37), None);
        assert_eq!(unavailable("indexOf", 31), None);
        assert!(unavailable("all/3", 31)
            .unwrap()
            .contains("from Kubernetes 1.32"));
        assert_eq!(unavailable("all/3", 32), None);
        assert!(unavailable("sortBy", 33).unwrap().contains("lists v3"));
        assert!(unavailable("isIPv4", 37).is_some());
        assert!(unavailable("frobnicate", 37)
            .unwrap()
            .contains("not a function of the API server"));
        for never in ["math.abs", "base64.decode", "cel.bind"] {
            assert!(
                unavailable(never, 37)
                    .unwrap()
                    .contains("no Kubernetes version"),
                "{never}"
            );
        }
    }

    #[test]
    fn no_library_names_a_function_twice() {
        for (library, _, fns) in LIBRARIES {
            let mut sorted = fns.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), fns.len(), "{library}");
        }
    }
}
