//! `PriorityTier`: a scheduling.k8s.io/v1 PriorityClass, the cluster-wide rank of the pods that
//! name it (`priorityClassName`, e.g. from a `SchedulingProfile`). The value must stay in the
//! user range (at most 1,000,000,000; the API server keeps higher values and the `system-`
//! prefix for the cluster's own classes). The original's record put `value: 0` by default and
//! emitted nothing; here the value is required and the object is emitted.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct PriorityTier;

/// Highest value a PriorityClass outside the cluster's own (`system-*`) classes may have.
pub const HIGHEST_USER_PRIORITY: i32 = 1_000_000_000;

/// A PriorityClass: how pods that name it rank against others when the cluster is full.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriorityTierSpec {
    /// Priority of the pods that name the class: higher schedules first and, with
    /// `PreemptLowerPriority`, evicts lower ones. At most 1000000000 (higher values are kept for
    /// the cluster's own classes); negative values rank below pods with no class (priority 0).
    #[schemars(range(min = -2147483648, max = 1000000000))]
    pub value: i32,
    /// Whether pods of this class may evict lower-priority pods to make room.
    #[serde(default)]
    pub preemption_policy: PreemptionPolicy,
    /// Give this priority to every pod created without a `priorityClassName` (one class per
    /// cluster at most; it does not change pods that already run).
    #[serde(default)]
    pub global_default: bool,
    /// What the tier is for, shown by `kubectl get priorityclass`.
    pub description: Option<String>,
}

/// Whether pods of a class preempt lower-priority pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub enum PreemptionPolicy {
    /// Evict lower-priority pods when no node has room.
    #[default]
    PreemptLowerPriority,
    /// Wait ahead of lower-priority pods in the queue, never evict them.
    Never,
}

impl Kind for PriorityTier {
    const KIND: &'static str = "PriorityTier";
    const SUMMARY: &'static str = "a pod priority tier: PriorityClass (cluster-scoped)";
    const EXAMPLE: Example = crate::example!("examples/advanced-orchestration/priority-tier.yaml");
    type Spec = PriorityTierSpec;

    fn validate(spec: &PriorityTierSpec, p: &mut Problems<'_>) {
        let name = p.module().name;
        if name.starts_with("system-") {
            p.fail(
                "metadata.name",
                format!("{name:?}: the prefix system- is kept for the cluster's own priority classes; choose another name"),
            );
        }
        // An i32 above the user range deserializes: the schema's range is not consulted then.
        if spec.value > HIGHEST_USER_PRIORITY {
            p.fail(
                "spec.value",
                format!("value {} is above {HIGHEST_USER_PRIORITY}, the highest a user-defined priority class may have", spec.value),
            );
        }
        if spec.global_default {
            p.warn(
                "spec.globalDefault",
                "globalDefault gives this priority to every new pod without a priorityClassName, in every namespace; the API server refuses a second global default",
            );
        }
    }
}

impl Generate for PriorityTier {
    const EMITS: &'static [Gvk] = &[Gvk::new("scheduling.k8s.io/v1", "PriorityClass")];

    fn expand(spec: PriorityTierSpec, m: &ModuleResource<'_>, _ctx: &Context) -> Expansion {
        let class = scheduling::PriorityClass {
            metadata: ObjectMeta {
                name: Some(m.name.to_string()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/name".to_string(),
                    m.name.to_string(),
                )])),
                ..Default::default()
            },
            value: spec.value,
            preemption_policy: Some(format!("{:?}", spec.preemption_policy)),
            global_default: Some(spec.global_default),
            description: spec.description,
        };
        Expansion {
            objects: vec![crate::modules::shared::meta::to_value(&class)],
            ..Default::default()
        }
    }
}
