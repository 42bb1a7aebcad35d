//! `Worker`: a background process without a Service (queue consumers, schedulers). A Deployment
//! of hardened pods, its ServiceAccount, optional `<name>-config` ConfigMap, HPA and PDB.

use crate::kind::spec::{Generate, Kind};
use crate::kind::{Context, Example, Expansion, Gvk, ModuleResource, Problems};
use crate::modules::shared::config::{self, ConfigSpec};
use crate::modules::shared::container::ProbeDefault;
use crate::modules::shared::defaults;
use crate::modules::shared::meta;
use crate::modules::shared::scaling::{self, AutoscalingSpec, PdbSpec};
use crate::modules::shared::workload::{self, workload_spec};

pub struct Worker;

workload_spec! {
    /// A background process without a Service: a Deployment of hardened pods.
    pub struct WorkerSpec {
        /// Pods to run (0-10000); with `autoscaling`, the autoscaler's minimum by default.
        #[serde(default = "defaults::int::<1>")]
        pub replicas: i32,
        /// Horizontal autoscaling on CPU (and memory) utilisation.
        pub autoscaling: Option<AutoscalingSpec>,
        /// The PodDisruptionBudget.
        #[serde(default)]
        pub pdb: PdbSpec,
        /// Configuration as a `<name>-config` ConfigMap: `data` as environment, `files` mounted.
        pub config: Option<ConfigSpec>,
    }
}

impl Kind for Worker {
    const KIND: &'static str = "Worker";
    const SUMMARY: &'static str =
        "background process without a Service: Deployment, ServiceAccount, optional HPA, PDB";
    const EXAMPLE: Example = crate::example!("examples/kubernetes-core/worker.yaml");
    type Spec = WorkerSpec;

    fn validate(spec: &WorkerSpec, ch: &mut Problems<'_>) {
        meta::check_name_room("-config", ch);
        spec.workload(&[]).validate(ch);
        config::check_config(spec.config.as_ref(), ch);
        scaling::check_scaling(spec.replicas, spec.autoscaling.as_ref(), &spec.pdb, ch);
    }
}

impl Generate for Worker {
    const EMITS: &'static [Gvk] = &[
        Gvk::new("v1", "ServiceAccount"),
        Gvk::new("v1", "ConfigMap"),
        Gvk::new("apps/v1", "Deployment"),
        Gvk::new("policy/v1", "PodDisruptionBudget"),
        Gvk::new("autoscaling/v2", "HorizontalPodAutoscaler"),
    ];

    fn expand(spec: WorkerSpec, m: &ModuleResource<'_>, ctx: &Context) -> Expansion {
        let mut w = spec.workload(&[]);
        w.probe_default = ProbeDefault::RequiredAtMedium;
        let parts = workload::deployment(
            &w,
            m,
            ctx,
            spec.replicas,
            spec.autoscaling.as_ref(),
            &spec.pdb,
            spec.config.as_ref(),
        );
        let mut objects = parts.before;
        objects.push(parts.deployment);
        objects.extend(parts.scaling);
        Expansion {
            objects,
            labels: w.kind_labels(),
            network: vec![w.network(m, false)],
            findings: parts
                .findings
                .into_iter()
                .chain(w.probe_findings(m, ctx))
                .collect(),
            ..Default::default()
        }
    }
}
