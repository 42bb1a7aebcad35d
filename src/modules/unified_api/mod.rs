//! Seed module `unified-api` (category `observability`): the platform-wide defaults every other
//! kind reads. (The unified API's one-declaration application is `WebApp` with `compliance` and
//! `dependsOn`.)

mod platform_defaults;

use crate::kind::spec::configurator;
use crate::kind::{Category, KindDef, SeedModule};

pub static MODULE: SeedModule = SeedModule {
    name: "unified-api",
    category: Category::Observability,
    summary: "platform-wide defaults every other kind reads",
};

/// The seed module's kinds, in documentation order.
pub fn kinds() -> Vec<KindDef> {
    vec![configurator::<platform_defaults::PlatformDefaults>(&MODULE)]
}

#[cfg(test)]
mod tests {
    use crate::finding::has_errors;
    use crate::modules::shared::testing::{find, render};

    const INPUT: &str = "apiVersion: nixernetes.io/v1alpha1
kind: PlatformDefaults
metadata: {name: platform}
spec: {createNamespaces: true, podSecurity: restricted}
---
apiVersion: nixernetes.io/v1alpha1
kind: WebApp
metadata: {name: web, namespace: shop}
spec: {image: \"nginx:1.27\"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: billing}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: own, namespace: mine}
---
apiVersion: v1
kind: Namespace
metadata: {name: mine, labels: {team: a}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-info, namespace: kube-public}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
";

    fn namespaces(out: &crate::engine::Output) -> Vec<&str> {
        out.objects
            .iter()
            .filter(|o| o.kind() == "Namespace")
            .map(|o| o.name())
            .collect()
    }

    #[test]
    fn create_namespaces_emits_each_namespace_the_set_uses_and_does_not_define() {
        let out = render(INPUT);
        assert!(!has_errors(&out.findings), "{:?}", out.findings);
        // kube-public exists, the plain ConfigMap names none (kubectl decides), `mine` is the
        // user's.
        assert_eq!(namespaces(&out), ["mine", "billing", "shop"]);
        let shop = find(&out, "Namespace", "shop");
        let labels = shop.labels().expect("labels");
        for mode in ["enforce", "audit", "warn"] {
            let key = format!("pod-security.kubernetes.io/{mode}");
            assert_eq!(labels[&key], "restricted");
            assert_eq!(labels[&format!("{key}-version")], "latest");
        }
        assert_eq!(labels["nixernetes.io/framework"], "unified-api");
        assert_eq!(
            shop.annotation("nixernetes.io/source"),
            Some("PlatformDefaults/platform")
        );
        assert_eq!(shop.namespace(), None);
        let mine = find(&out, "Namespace", "mine");
        assert!(mine
            .labels()
            .is_some_and(|l| !l.contains_key("pod-security.kubernetes.io/enforce")));
    }

    #[test]
    fn namespaces_follow_the_profile_in_force_and_are_off_by_default() {
        let baseline = INPUT.replace(", podSecurity: restricted", "");
        let out = render(&baseline);
        let shop = find(&out, "Namespace", "shop");
        assert_eq!(
            shop.labels().expect("labels")["pod-security.kubernetes.io/enforce"],
            "baseline"
        );
        let off = INPUT.replace("createNamespaces: true, ", "");
        assert_eq!(namespaces(&render(&off)), ["mine"]);
        let no = INPUT.replace("createNamespaces: true", "createNamespaces: false");
        assert_eq!(namespaces(&render(&no)), ["mine"]);
    }
}
