//! Whether an applied object has rolled out, judged as `kubectl rollout status` judges
//! Deployments, StatefulSets and DaemonSets (k8s.io/kubectl `pkg/polymorphichelpers/
//! rollout_status.go`), Jobs as `kubectl wait --for=condition=Complete` does, and any other
//! object with a `Ready` condition by that condition. Other objects are ready once applied.

use serde_json::Value;

/// The state of one object's rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Rolled out (or nothing to wait for).
    Ready,
    /// Not yet: what it waits for, in kubectl's words.
    Waiting(String),
    /// Will not roll out without a change (progress deadline exceeded, Job failed).
    Failed(String),
}

/// Whether `kind` is one `--wait` waits for (objects of other kinds are waited for only when
/// they have a `Ready` condition).
pub fn waits_for(api_version: &str, kind: &str) -> bool {
    matches!(
        (api_version, kind),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch/v1", "Job")
    )
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The rollout state of the live `object`.
pub fn state(object: &Value) -> State {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let status = &object["status"];
    let observed = int(&status["observedGeneration"]);
    let generation = int(&object["metadata"]["generation"]);
    let spec = &object["spec"];
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    match (api_version, object["kind"].as_str().unwrap_or_default()) {
        ("apps/v1", "Deployment") => {
            if generation > observed {
                return State::Waiting("waiting for deployment spec update to be observed".into());
            }
            if condition(object, "Progressing")
                .is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
            {
                return State::Failed(format!(
                    "deployment {name:?} exceeded its progress deadline"
                ));
            }
            let replicas = spec["replicas"].as_i64().unwrap_or(1);
            let updated = int(&status["updatedReplicas"]);
            let total = int(&status["replicas"]);
            let available = int(&status["availableReplicas"]);
            if updated < replicas {
                State::Waiting(format!(
                    "{updated} out of {replicas} new replicas have been updated"
                ))
            } else if total > updated {
                State::Waiting(format!(
                    "{} old replicas are pending termination",
                    total - updated
                ))
            } else if available < updated {
                State::Waiting(format!(
                    "{available} of {updated} updated replicas are available"
                ))
            } else {
                State::Ready
            }
        }
        ("apps/v1", "StatefulSet") => {
            if spec["updateStrategy"]["type"]
                .as_str()
                .is_some_and(|t| t != "RollingUpdate")
            {
                return State::Ready;
            }
            if observed == 0 || generation > observed {
                return State::Waiting("waiting for statefulset spec update to be observed".into());
            }
            let replicas = spec["replicas"].as_i64().unwrap_or(1);
            let ready = int(&status["readyReplicas"]);
            if ready < replicas {
                return State::Waiting(format!("{ready} of {replicas} pods are ready"));
            }
            if let Some(partition) = spec["updateStrategy"]["rollingUpdate"]["partition"].as_i64() {
                let updated = int(&status["updatedReplicas"]);
                if updated < replicas - partition {
                    return State::Waiting(format!(
                        "partitioned roll out: {updated} of {} new pods have been updated",
                        replicas - partition
                    ));
                }
                return State::Ready;
            }
            if status["updateRevision"] != status["currentRevision"] {
                return State::Waiting(format!(
                    "{} of {replicas} pods are at the new revision",
                    int(&status["updatedReplicas"])
                ));
            }
            State::Ready
        }
        ("apps/v1", "DaemonSet") => {
            if spec["updateStrategy"]["type"]
                .as_str()
                .is_some_and(|t| t != "RollingUpdate")
            {
                return State::Ready;
            }
            if generation > observed {
                return State::Waiting("waiting for daemon set spec update to be observed".into());
            }
            let desired = int(&status["desiredNumberScheduled"]);
            let updated = int(&status["updatedNumberScheduled"]);
            let available = int(&status["numberAvailable"]);
            if updated < desired {
                State::Waiting(format!(
                    "{updated} out of {desired} new pods have been updated"
                ))
            } else if available < desired {
                State::Waiting(format!(
                    "{available} of {desired} updated pods are available"
                ))
            } else {
                State::Ready
            }
        }
        ("batch/v1", "Job") => {
            if condition(object, "Failed").is_some_and(|c| c["status"] == "True") {
                let why = condition(object, "Failed")
                    .and_then(|c| c["message"].as_str().or(c["reason"].as_str()))
                    .unwrap_or("failed");
                return State::Failed(format!("job {name:?} failed: {why}"));
            }
            if condition(object, "Complete").is_some_and(|c| c["status"] == "True") {
                State::Ready
            } else {
                State::Waiting(format!(
                    "{} of {} completions",
                    int(&status["succeeded"]),
                    spec["completions"].as_i64().unwrap_or(1)
                ))
            }
        }
        _ => match condition(object, "Ready") {
            Some(c) if c["status"] == "True" => State::Ready,
            Some(c) => State::Waiting(format!(
                "Ready is {}{}",
                c["status"].as_str().unwrap_or("Unknown"),
                c["message"]
                    .as_str()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
            None => State::Ready,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "generation": generation},
               "spec": {"replicas": 2}, "status": status})
    }

    #[test]
    fn deployments_as_kubectl_rollout_status() {
        assert!(
            matches!(state(&deployment(2, json!({"observedGeneration": 1}))), State::Waiting(w) if w.contains("spec update"))
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1})
            )),
            State::Waiting("1 out of 2 new replicas have been updated".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 3})
            )),
            State::Waiting("1 old replicas are pending termination".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1})
            )),
            State::Waiting("1 of 2 updated replicas are available".into())
        );
        assert_eq!(
            state(&deployment(
                1,
                json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2})
            )),
            State::Ready
        );
        let stuck = deployment(
            1,
            json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert!(matches!(state(&stuck), State::Failed(_)));
    }

    #[test]
    fn others() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "generation": 1},
            "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "readyReplicas": 1, "currentRevision": "a", "updateRevision": "a"}});
        assert_eq!(state(&sts), State::Ready);
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {},
            "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}});
        assert!(matches!(state(&job), State::Failed(m) if m.contains("BackoffLimitExceeded")));
        let cr = json!({"apiVersion": "example.com/v1", "kind": "Db", "metadata": {"name": "d"},
            "status": {"conditions": [{"type": "Ready", "status": "False", "message": "starting"}]}});
        assert_eq!(
            state(&cr),
            State::Waiting("Ready is False: starting".into())
        );
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(state(&cm), State::Ready);
        assert!(waits_for("apps/v1", "DaemonSet") && !waits_for("v1", "ConfigMap"));
    }
}

/// What `--wait` saw of one object at the end.
#[derive(Debug, Clone)]
pub struct Waited {
    pub id: crate::diff::ObjectId,
    pub state: State,
}

/// An applied object: its kind, namespace and name.
pub type Applied = (crate::cluster::client::Kind, Option<String>, String);

/// Polls every object of `applied` until all are ready or failed for good, or `timeout`
/// passed; `progress` is told how many are ready of how many, and what the first one not
/// ready waits for, after each round. Returns the objects that are not ready (empty: all are),
/// sorted.
pub async fn wait(
    cluster: &crate::cluster::client::Cluster,
    applied: &[Applied],
    timeout: std::time::Duration,
    concurrency: usize,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Vec<Waited> {
    use futures::stream::{self, StreamExt};
    let start = std::time::Instant::now();
    let mut left: Vec<&Applied> = applied.iter().collect();
    let mut failed: Vec<Waited> = Vec::new();
    let total = left.len();
    loop {
        let states: Vec<State> = stream::iter(left.iter())
            .map(|(kind, ns, name)| async move {
                match cluster.get(kind, ns.as_deref(), name).await {
                    Ok(Some(o)) => state(&o),
                    Ok(None) => State::Failed("the object is gone".into()),
                    Err(e) => State::Waiting(format!("cannot read it: {e}")),
                }
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        let mut still = Vec::new();
        let mut waiting = Vec::new();
        for (target, st) in left.iter().zip(states) {
            let (kind, ns, name) = target;
            let id = crate::diff::ObjectId {
                api_version: kind.resource.api_version.clone(),
                kind: kind.resource.kind.clone(),
                namespace: ns.clone(),
                name: name.clone(),
            };
            match st {
                State::Ready => {}
                State::Failed(f) => failed.push(Waited {
                    id,
                    state: State::Failed(f),
                }),
                w => {
                    still.push(*target);
                    waiting.push(Waited { id, state: w });
                }
            }
        }
        let first = waiting
            .first()
            .map(|w| match &w.state {
                State::Waiting(why) => format!("{}: {why}", w.id),
                _ => String::new(),
            })
            .unwrap_or_default();
        progress(total - still.len() - failed.len(), total, &first);
        if still.is_empty() || start.elapsed() >= timeout {
            failed.extend(waiting);
            failed.sort_by(|a, b| a.id.cmp(&b.id));
            return failed;
        }
        left = still;
        let pause =
            std::time::Duration::from_millis(500).min(timeout.saturating_sub(start.elapsed()));
        tokio::time::sleep(pause).await;
    }
}
