//! Seed module `kyverno` (category `security`): Kyverno policies in Kyverno's own schema (the
//! original's builders wrote rule keys, kinds and variables Kyverno rejects), policy bundles
//! built on Kyverno's published pod-security and best-practices policies (as Kyverno
//! ClusterPolicies or as the API server's ValidatingAdmissionPolicies), and image signature
//! verification.

mod common;
mod image_trust_policy;
mod kyverno_policy;
mod policy_bundle;
mod presets;

use crate::kind::spec::generator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "kyverno",
    category: Category::Security,
    summary: "Kyverno policies, policy bundles and image signature verification",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![
        generator::<kyverno_policy::KyvernoPolicy>(&MODULE),
        generator::<policy_bundle::PolicyBundle>(&MODULE),
        generator::<image_trust_policy::ImageTrustPolicy>(&MODULE),
    ]
}

#[cfg(test)]
mod tests {
    use super::presets::{self, Params, PresetPolicy, VARIABLES};
    use crate::engine::{run, Options, Output};
    use crate::finding::Severity;
    use crate::modules::shared::testing::{find, render};
    use serde_json::{json, Value};
    use std::io::Write as _;
    use std::path::PathBuf;

    fn errors(out: &Output) -> Vec<String> {
        out.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.field.clone().unwrap_or_default())
            .collect()
    }

    /// Loud on stderr even when the test passes.
    fn loud(msg: &str) {
        let _ = writeln!(std::io::stderr(), "{msg}");
    }

    #[test]
    fn kyverno_policy_writes_kyvernos_schema_with_its_defaults() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: KyvernoPolicy
metadata: {name: team, namespace: shop}
spec:
  scope: Namespace
  rules:
  - name: team-label
    match: {kinds: [Pod]}
    validate: {message: need team, pattern: {metadata: {labels: {team: '?*'}}}}
  - name: quota
    match: {kinds: [ConfigMap], selector: {quota: 'yes'}}
    generate: {apiVersion: v1, kind: ResourceQuota, name: q, namespace: shop, data: {spec: {hard: {pods: '10'}}}}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let policy = find(&out, "Policy", "team");
        assert_eq!(policy.api_version(), "kyverno.io/v1");
        assert_eq!(policy.namespace(), Some("shop"));
        let spec = &policy.object["spec"];
        assert_eq!(spec["background"], true);
        assert!(spec.get("validationFailureAction").is_none());
        let rule = &spec["rules"][0];
        assert_eq!(rule["validate"]["failureAction"], "Audit");
        assert_eq!(
            rule["match"]["any"][0]["resources"]["kinds"],
            json!(["Pod"])
        );
        let gen = &spec["rules"][1];
        assert_eq!(gen["generate"]["synchronize"], true);
        assert_eq!(
            gen["match"]["any"][0]["resources"]["selector"],
            json!({"matchLabels": {"quota": "yes"}})
        );
        // No key the CRD does not have: the typed parts leave no nulls behind.
        assert!(!serde_json::to_string(&policy.object)
            .unwrap()
            .contains("null"));
    }

    #[test]
    fn kyverno_policy_cel_engine_writes_one_validating_policy_per_rule() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: KyvernoPolicy
metadata: {name: svc}
spec:
  engine: cel
  rules:
  - name: no-node-ports
    match: {kinds: [Service]}
    exclude: {kinds: [Service], namespaces: [ingress]}
    validate: {failureAction: Enforce, cel: {expressions: [{expression: \"object.spec.type != 'NodePort'\"}]}}
  - name: no-lb
    match: {kinds: [Service]}
    validate: {cel: {expressions: [{expression: \"object.spec.type != 'LoadBalancer'\"}]}}
",
        );
        assert!(!out.failed(), "{:?}", out.findings);
        let a = find(&out, "ValidatingPolicy", "svc-no-node-ports");
        assert_eq!(a.api_version(), "policies.kyverno.io/v1");
        assert_eq!(a.object["spec"]["validationActions"], json!(["Deny"]));
        // Kyverno excludes Services *in* the namespace, not every Service and every object there.
        assert!(a.object["spec"]["matchConstraints"]
            .get("excludeResourceRules")
            .is_none());
        assert_eq!(
            a.object["spec"]["matchConditions"][0]["expression"],
            "!(request.namespace in ['ingress'] && request.resource.resource in ['services'])"
        );
        let b = find(&out, "ValidatingPolicy", "svc-no-lb");
        assert_eq!(b.object["spec"]["validationActions"], json!(["Audit"]));
    }

    const PRESETS: [&str; 4] = [
        "security-baseline",
        "pss-restricted",
        "best-practices",
        "cost-hygiene",
    ];

    fn bundle(preset: &str, engine: &str, action: &str) -> String {
        format!(
            "apiVersion: nixernetes.io/v1alpha1
kind: PolicyBundle
metadata: {{name: b}}
spec:
  preset: {preset}
  engine: {engine}
  failureAction: {action}
  params: {{allowedRegistries: [ghcr.io/acme/], requiredLabels: [team]}}
"
        )
    }

    fn schemas() -> Option<PathBuf> {
        let dir = std::env::var_os("NIXERNETES_SCHEMAS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"));
        dir.join("validate.py").is_file().then_some(dir)
    }

    /// Every preset, under both engines, renders objects that the independent checker
    /// (`validate.py`) accepts: ClusterPolicies against Kyverno's CRD, admission policies
    /// against the core schema of every minor 1.31-1.37.
    #[test]
    fn every_preset_validates_against_the_schemas() {
        let mut docs = Vec::new();
        for preset in PRESETS {
            for engine in ["kyverno", "vap"] {
                let out = render(&bundle(preset, engine, "Enforce"));
                assert!(!out.failed(), "{preset} {engine}: {:?}", out.findings);
                for o in &out.objects {
                    docs.push(serde_json::to_string(&o.object).unwrap());
                }
            }
        }
        let Some(dir) = schemas() else {
            loud("kyverno: schema folder missing: preset objects not validated (set NIXERNETES_SCHEMAS)");
            return;
        };
        let file =
            std::env::temp_dir().join(format!("kyverno-presets-{}.yaml", std::process::id()));
        std::fs::write(&file, docs.join("\n---\n")).unwrap();
        for minor in 31..=37 {
            let out = std::process::Command::new("python3")
                .arg(dir.join("validate.py"))
                .args(["-q", "--strict-crd", "--fail-on-unknown", "--kube"])
                .arg(format!("1.{minor}"))
                .arg(&file)
                .output();
            let Ok(out) = out else {
                loud("kyverno: python3 missing: preset objects not validated");
                return;
            };
            assert!(
                out.status.success(),
                "1.{minor}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = std::fs::remove_file(file);
    }

    #[test]
    fn a_preset_is_the_same_rules_under_both_engines() {
        for preset in PRESETS {
            let kyverno = render(&bundle(preset, "kyverno", "Audit"));
            let vap = render(&bundle(preset, "vap", "Audit"));
            let names = |out: &Output, kind: &str| -> Vec<String> {
                out.objects
                    .iter()
                    .filter(|o| o.kind() == kind)
                    .map(|o| o.name().to_string())
                    .collect()
            };
            let policies = names(&kyverno, "ClusterPolicy");
            assert!(!policies.is_empty());
            assert_eq!(
                policies,
                names(&vap, "ValidatingAdmissionPolicy"),
                "{preset}"
            );
            assert_eq!(
                policies,
                names(&vap, "ValidatingAdmissionPolicyBinding"),
                "{preset}"
            );
            for name in &policies {
                let cp = find(&kyverno, "ClusterPolicy", name);
                let rules = cp.object["spec"]["rules"].as_array().unwrap();
                let vp = find(&vap, "ValidatingAdmissionPolicy", name);
                let validations = vp.object["spec"]["validations"].as_array().unwrap();
                // One validation per rule, with the rule's message.
                assert_eq!(rules.len(), validations.len(), "{name}");
                for (r, v) in rules.iter().zip(validations) {
                    assert_eq!(r["validate"]["message"], v["message"], "{name}");
                    assert_eq!(r["validate"]["failureAction"], "Audit");
                }
                let binding = find(&vap, "ValidatingAdmissionPolicyBinding", name);
                assert_eq!(binding.object["spec"]["policyName"], name.as_str());
                assert_eq!(
                    binding.object["spec"]["validationActions"],
                    json!(["Audit", "Warn"])
                );
            }
        }
        let enforced = render(&bundle("pss-restricted", "vap", "Enforce"));
        let b = find(
            &enforced,
            "ValidatingAdmissionPolicyBinding",
            "b-restrict-volume-types",
        );
        assert_eq!(b.object["spec"]["validationActions"], json!(["Deny"]));
    }

    /// A pod that meets every preset rule.
    fn compliant() -> Value {
        json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": "ghcr.io/acme/app:1.0",
                "ports": [{"containerPort": 8080}],
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                },
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "128Mi"}},
            }],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        })
    }

    /// The pod spec that breaks the preset policy `name` (and, as far as possible, only it).
    fn violation(name: &str) -> Value {
        let mut pod = compliant();
        let c = &mut pod["containers"][0];
        match name {
            "disallow-host-namespaces" => pod["hostPID"] = json!(true),
            "disallow-privileged-containers" => c["securityContext"]["privileged"] = json!(true),
            "disallow-capabilities" => {
                c["securityContext"]["capabilities"]["add"] =
                    json!(["NET_BIND_SERVICE", "SYS_ADMIN"])
            }
            "disallow-host-path" => pod["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "h", "hostPath": {"path": "/var"}})),
            "disallow-host-ports" => c["ports"][0]["hostPort"] = json!(8080),
            "disallow-proc-mount" => c["securityContext"]["procMount"] = json!("Unmasked"),
            "disallow-host-process" => {
                c["securityContext"]["windowsOptions"] = json!({"hostProcess": true})
            }
            "restrict-apparmor-profiles" => {
                c["securityContext"]["appArmorProfile"] = json!({"type": "Unconfined"})
            }
            "disallow-selinux" => {
                pod["securityContext"]["seLinuxOptions"] = json!({"type": "spc_t", "user": "root"})
            }
            "restrict-sysctls" => {
                pod["securityContext"]["sysctls"] = json!([{"name": "kernel.msgmax", "value": "1"}])
            }
            "disallow-privilege-escalation" => {
                c["securityContext"]["allowPrivilegeEscalation"] = json!(true)
            }
            "require-run-as-nonroot" => pod["securityContext"]["runAsNonRoot"] = json!(false),
            "disallow-capabilities-strict" => {
                c["securityContext"]["capabilities"] = json!({"add": ["CHOWN"]})
            }
            "restrict-seccomp-strict" => {
                pod["securityContext"]["seccompProfile"]["type"] = json!("Unconfined")
            }
            "restrict-volume-types" => pod["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "n", "nfs": {"server": "nfs", "path": "/"}})),
            "require-requests-limits" => {
                c.as_object_mut().unwrap().remove("resources");
            }
            "disallow-latest-tag" => c["image"] = json!("ghcr.io/acme/app:latest"),
            "require-ro-rootfs" => c["securityContext"]["readOnlyRootFilesystem"] = json!(false),
            "restrict-image-registries" => c["image"] = json!("docker.io/library/nginx:1.27"),
            "require-labels" => {}
            other => panic!("no violation for {other}"),
        }
        pod
    }

    /// A Deployment of `pod`, whose pods carry the label `team` when `labelled` (the
    /// Deployment itself always does: the pods' labels are what counts).
    fn deployment(pod: &Value, labelled: bool) -> Value {
        let labels = if labelled {
            json!({"app": "web", "team": "shop"})
        } else {
            json!({"app": "web"})
        };
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "shop"}},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        })
    }

    fn all_policies() -> Vec<&'static PresetPolicy> {
        let p = Params {
            allowed_registries: vec!["ghcr.io/acme/".into()],
            required_labels: vec!["team".into()],
        };
        let mut all: Vec<&'static PresetPolicy> = Vec::new();
        for preset in PRESETS {
            for policy in presets::policies(preset, &p) {
                if !all.iter().any(|a| a.name == policy.name) {
                    all.push(policy);
                }
            }
        }
        all
    }

    /// The built-in checks a rule names find its violation, and none of them fires on the
    /// compliant pod: the citation of a finding is never a guess.
    #[test]
    fn each_rule_means_the_checks_it_names() {
        for policy in all_policies() {
            let bad = serde_json::to_string(&deployment(&violation(policy.name), false)).unwrap();
            let good = serde_json::to_string(&deployment(&compliant(), true)).unwrap();
            for rule in policy.rules {
                for id in rule.checks {
                    let check = crate::policy::lookup(id)
                        .unwrap_or_else(|| panic!("{}: no check {id}", policy.name));
                    assert!(
                        !crate::policy::hits_of(check, &bad).is_empty(),
                        "{}/{}: {id} misses the violation",
                        policy.name,
                        rule.name
                    );
                    assert_eq!(
                        crate::policy::hits_of(check, &good),
                        vec![],
                        "{}: {id} fires on the compliant pod",
                        policy.name
                    );
                }
            }
        }
    }

    /// Every CEL expression is plausible CEL over `object`; with a CEL evaluator at hand
    /// (cel-python's `celpy`), each admission policy accepts the compliant Deployment and Pod
    /// and refuses its violation, as a Pod and as a Deployment (and a CronJob's template).
    #[test]
    fn each_rules_cel_refuses_its_violation() {
        let p = Params {
            allowed_registries: vec!["ghcr.io/acme/".into()],
            required_labels: vec!["team".into()],
        };
        let mut cases = Vec::new();
        for policy in all_policies() {
            let mut exprs = Vec::new();
            for rule in policy.rules {
                for e in (rule.cel)(&p) {
                    super::common::check_cel(&e)
                        .unwrap_or_else(|why| panic!("{}: {why}: {e}", policy.name));
                    assert!(e.contains("object.") || e.contains("variables."), "{e}");
                    exprs.push(e);
                }
            }
            let vars: Vec<(&str, &str)> = VARIABLES.to_vec();
            let bad_pod = violation(policy.name);
            let good = deployment(&compliant(), true);
            let bad = deployment(&bad_pod, false);
            let pod = |d: &Value| {
                json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "web", "namespace": "shop", "labels": d["spec"]["template"]["metadata"]["labels"]},
                       "spec": d["spec"]["template"]["spec"]})
            };
            let cron = |d: &Value| {
                json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": d["metadata"],
                       "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": d["spec"]["template"]}}}})
            };
            for (object, expect) in [
                (good.clone(), true),
                (pod(&good), true),
                (cron(&good), true),
                (bad.clone(), false),
                (pod(&bad), false),
                (cron(&bad), false),
            ] {
                cases.push(json!({"policy": policy.name, "vars": vars, "exprs": exprs, "object": object, "expect": expect}));
            }
        }
        let script = r#"
import json, sys
import celpy
env = celpy.Environment()
failures = []
for case in json.load(sys.stdin):
    variables = {}
    def evaluate(expr):
        act = {"object": celpy.json_to_cel(case["object"]), "variables": celpy.celtypes.MapType(variables)}
        return env.program(env.compile(expr)).evaluate(act)
    try:
        for name, expr in case["vars"]:
            variables[celpy.celtypes.StringType(name)] = evaluate(expr)
        got = all(bool(evaluate(e)) for e in case["exprs"])
    except Exception as e:
        got = "error: %s" % e
    if got != case["expect"]:
        failures.append("%s on %s: expected %s, got %s" % (case["policy"], case["object"]["kind"], case["expect"], got))
print("\n".join(failures))
sys.exit(1 if failures else 0)
"#;
        // `NIXERNETES_CEL_PYTHON`: a Python with cel-python (CI installs one); else python3.
        let python = std::env::var("NIXERNETES_CEL_PYTHON").unwrap_or_else(|_| "python3".into());
        let has_celpy = std::process::Command::new(&python)
            .args(["-c", "import celpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_celpy {
            assert!(
                std::env::var("NIXERNETES_REQUIRE_CEL").as_deref() != Ok("1"),
                "NIXERNETES_REQUIRE_CEL=1 but {python} has no celpy (pip install cel-python)"
            );
            loud("kyverno: cel-python (celpy) missing: CEL expressions checked for plausibility only (pip install cel-python)");
            return;
        }
        let mut child = std::process::Command::new(&python)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    fn checked(yaml: &str) -> Vec<String> {
        let inputs = crate::source::parse_text(yaml, "t.yaml").unwrap();
        let out = run(inputs, &Options::new(crate::modules::registry()));
        out.findings.iter().map(|f| f.message.clone()).collect()
    }

    const PRIVILEGED_DEPLOYMENT: &str = "
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: shop}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers: [{name: c, image: ghcr.io/acme/x:1.0, securityContext: {privileged: true}}]
";

    #[test]
    fn check_findings_cite_the_admission_rule() {
        let cited = |preset: &str, engine: &str, action: &str| -> Vec<String> {
            checked(&format!(
                "{}{PRIVILEGED_DEPLOYMENT}",
                bundle(preset, engine, action)
            ))
            .into_iter()
            .filter(|m| m.contains("is privileged"))
            .collect()
        };
        let enforced = cited("security-baseline", "kyverno", "Enforce");
        assert_eq!(enforced.len(), 1);
        assert!(
            enforced[0].ends_with("(admission: ClusterPolicy/b-disallow-privileged-containers rule privileged-containers will deny this)"),
            "{}",
            enforced[0]
        );
        let audited = cited("pss-restricted", "kyverno", "Audit");
        assert!(
            audited[0].ends_with("rule privileged-containers will report this (audit))"),
            "{}",
            audited[0]
        );
        let vap = cited("security-baseline", "vap", "Enforce");
        assert!(
            vap[0].ends_with("(admission: ValidatingAdmissionPolicy/b-disallow-privileged-containers will deny this)"),
            "{}",
            vap[0]
        );
        // best-practices has no rule about privileged containers: nothing to cite.
        let none = cited("best-practices", "kyverno", "Enforce");
        assert!(!none[0].contains("admission:"), "{}", none[0]);
        // Without a bundle the finding is as it always was.
        let plain = checked(PRIVILEGED_DEPLOYMENT);
        assert!(plain.iter().all(|m| !m.contains("admission:")));
    }

    #[test]
    fn bundle_errors() {
        let out = render(
            "apiVersion: nixernetes.io/v1alpha1
kind: PolicyBundle
metadata: {name: c}
spec: {preset: cost-hygiene, params: {allowedRegistries: ['ghcr.io/*']}}
",
        );
        assert_eq!(
            errors(&out),
            [
                "spec.params.allowedRegistries[0]",
                "spec.params.requiredLabels"
            ]
        );
    }

    const KEY: &str = "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\\n5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\\n-----END PUBLIC KEY-----";

    #[test]
    fn image_trust_with_keys_trusts_any_one_of_them() {
        let out = render(&format!(
            "apiVersion: nixernetes.io/v1alpha1
kind: ImageTrustPolicy
metadata: {{name: signed}}
spec:
  imageReferences: ['registry.acme.internal/*']
  publicKeys: [\"{KEY}\", \"{KEY}\"]
"
        ));
        assert!(!out.failed(), "{:?}", out.findings);
        let p = find(&out, "ClusterPolicy", "signed");
        let vi = &p.object["spec"]["rules"][0]["verifyImages"][0];
        assert_eq!(vi["failureAction"], "Enforce");
        assert_eq!(vi["mutateDigest"], true);
        assert_eq!(vi["verifyDigest"], true);
        let attestor = &vi["attestors"][0];
        assert_eq!(attestor["count"], 1);
        assert_eq!(attestor["entries"].as_array().unwrap().len(), 2);
        assert!(attestor["entries"][0]["keys"]["publicKeys"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\nMFkw"));
        assert!(p.object["spec"].get("validationFailureAction").is_none());
    }
}
