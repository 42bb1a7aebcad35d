//! The claim a data kind asks for its volumes: one `ReadWriteOnce` volume of a size, in a
//! storage class or the cluster's default, as the operators' volume-claim templates take it.

use crate::types::Quantity;
use serde_json::{json, Map, Value};

/// The `spec` of a PersistentVolumeClaim (template) for `size` in `class`.
pub fn claim_spec(size: &Quantity, class: Option<&String>) -> Map<String, Value> {
    let mut pvc = Map::new();
    pvc.insert("accessModes".into(), json!(["ReadWriteOnce"]));
    pvc.insert(
        "resources".into(),
        json!({"requests": {"storage": size.text()}}),
    );
    if let Some(sc) = class {
        pvc.insert("storageClassName".into(), json!(sc));
    }
    pvc
}
