//! Image pinning and pull policy (ids 23-25 of the check table), for every container kind.
//! A container without an image is left to input validation: there is nothing to pin.
//!
//! The tag is what follows the last `:` after the last `/` (a registry port is not a tag), as in
//! `crate::validate::image`; whether the reference is well-formed is that module's business.

use super::pod::{ContainerView, PodView};
use super::{CheckDef, Fix, HitSink, Scope};
use crate::finding::Severity;
use crate::resource::Field;
use serde_json::Value;

/// `image-tag-pinned` (#23).
pub const IMAGE_TAG_PINNED: CheckDef = CheckDef {
    id: "image-tag-pinned",
    summary: "container images name a tag other than latest, or a digest",
    pss: None,
    severity: Severity::Error,
    fix: Fix::No,
    scope: Scope::Pod(image_tag_pinned),
};

/// `image-digest` (#24).
pub const IMAGE_DIGEST: CheckDef = CheckDef {
    id: "image-digest",
    summary: "container images are pinned by digest (@sha256:...)",
    pss: None,
    severity: Severity::Info,
    fix: Fix::No,
    scope: Scope::Pod(image_digest),
};

/// `image-pull-policy` (#25).
pub const IMAGE_PULL_POLICY: CheckDef = CheckDef {
    id: "image-pull-policy",
    summary: "containers set imagePullPolicy: Always, unless the image is pinned by digest",
    pss: None,
    severity: Severity::Warning,
    fix: Fix::Yes,
    scope: Scope::Pod(image_pull_policy),
};

/// This family, in table order.
pub static CHECKS: &[&CheckDef] = &[&IMAGE_TAG_PINNED, &IMAGE_DIGEST, &IMAGE_PULL_POLICY];

/// The tag and digest of an image reference.
fn tag_and_digest(image: &str) -> (Option<&str>, Option<&str>) {
    let p = crate::validate::image::parts(image);
    (p.tag, p.digest)
}

/// The containers with a non-empty image, with it.
fn images<'a>(pod: &PodView<'a>) -> Vec<(ContainerView<'a>, &'a str)> {
    pod.containers()
        .iter()
        .copied()
        .filter_map(|c| {
            let image = c
                .spec
                .field("image")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())?;
            Some((c, image))
        })
        .collect()
}

fn image_tag_pinned(pod: &PodView<'_>, out: &mut HitSink) {
    for (c, image) in images(pod) {
        let problem = match tag_and_digest(image) {
            (None, None) => "has no tag, so it pulls whatever latest is at the time",
            (Some("latest"), None) => "uses the moving tag latest",
            // A digest pins the image whatever the tag says.
            _ => continue,
        };
        out.push(
            c.at("image"),
            format!(
                "container {:?} image {image:?} {problem}: pin a version tag or a digest",
                c.name()
            ),
        );
    }
}

fn image_digest(pod: &PodView<'_>, out: &mut HitSink) {
    for (c, image) in images(pod) {
        if tag_and_digest(image).1.is_none() {
            out.push(
                c.at("image"),
                format!(
                    "container {:?} image {image:?} is not pinned by digest: append @sha256:<digest> so every node runs the same bytes",
                    c.name()
                ),
            );
        }
    }
}

fn image_pull_policy(pod: &PodView<'_>, out: &mut HitSink) {
    for (c, image) in images(pod) {
        let by_digest = tag_and_digest(image).1.is_some();
        let policy = c.spec.field("imagePullPolicy").and_then(Value::as_str);
        let message = match policy {
            None if by_digest => format!(
                "container {:?} has no imagePullPolicy: set one explicitly (IfNotPresent suits a digest-pinned image)",
                c.name()
            ),
            None => format!(
                "container {:?} has no imagePullPolicy: set Always, so a moved tag is pulled again and the pull credentials are checked on every start",
                c.name()
            ),
            Some(p) if p != "Always" && !by_digest => format!(
                "container {:?} uses imagePullPolicy {p} for an image pinned only by tag: set Always, or pin the image by digest",
                c.name()
            ),
            Some(_) => continue,
        };
        out.push(c.at("imagePullPolicy"), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expect_hits as expect;

    /// A CronJob `backup` whose containers have these `image[, imagePullPolicy]` lines.
    fn cronjob(containers: &[&str]) -> String {
        let mut yaml = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n".to_string();
        for (i, c) in containers.iter().enumerate() {
            yaml += &format!("          - {{name: c{i}, {c}}}\n");
        }
        yaml
    }

    const C: &str = "spec.jobTemplate.spec.template.spec.containers";
    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references_split_at_the_right_colon() {
        assert_eq!(tag_and_digest("nginx"), (None, None));
        assert_eq!(
            tag_and_digest("localhost:5000/x/y"),
            (None, None),
            "a registry port is not a tag"
        );
        assert_eq!(
            tag_and_digest("localhost:5000/x/y:1.2"),
            (Some("1.2"), None)
        );
        assert_eq!(
            tag_and_digest("a:1@sha256:ab"),
            (Some("1"), Some("sha256:ab"))
        );
    }

    #[test]
    fn image_tag_pinned_rejects_missing_and_latest() {
        let yaml = cronjob(&[
            "image: busybox",
            "image: registry.example.com:5000/tools/pg",
            "image: \"ghcr.io/acme/backup:latest\"",
        ]);
        expect(
            &IMAGE_TAG_PINNED,
            &yaml,
            &[
                (
                    "backup",
                    &format!("{C}[0].image"),
                    "container \"c0\" image \"busybox\" has no tag",
                ),
                ("backup", &format!("{C}[1].image"), "has no tag"),
                (
                    "backup",
                    &format!("{C}[2].image"),
                    "uses the moving tag latest: pin a version tag or a digest",
                ),
            ],
        );
    }

    #[test]
    fn image_tag_pinned_accepts_tags_and_digests() {
        let yaml = cronjob(&[
            "image: \"busybox:1.36\"",
            "image: \"registry.example.com:5000/tools/pg:16.4\"",
            &format!("image: \"busybox@{DIGEST}\""),
            &format!("image: \"busybox:latest@{DIGEST}\""),
        ]);
        expect(&IMAGE_TAG_PINNED, &yaml, &[]);
    }

    #[test]
    fn image_digest_wants_a_digest() {
        let yaml = cronjob(&[
            "image: \"busybox:1.36\"",
            &format!("image: \"busybox:1.36@{DIGEST}\""),
        ]);
        expect(
            &IMAGE_DIGEST,
            &yaml,
            &[(
                "backup",
                &format!("{C}[0].image"),
                "container \"c0\" image \"busybox:1.36\" is not pinned by digest",
            )],
        );
        expect(
            &IMAGE_DIGEST,
            &cronjob(&[&format!("image: \"busybox@{DIGEST}\"")]),
            &[],
        );
    }

    #[test]
    fn image_pull_policy_unset_or_not_always() {
        let yaml = cronjob(&[
            "image: \"busybox:1.36\"",
            "image: \"busybox:1.36\", imagePullPolicy: IfNotPresent",
            &format!("image: \"busybox@{DIGEST}\""),
        ]);
        expect(
            &IMAGE_PULL_POLICY,
            &yaml,
            &[
                (
                    "backup",
                    &format!("{C}[0].imagePullPolicy"),
                    "container \"c0\" has no imagePullPolicy: set Always",
                ),
                (
                    "backup",
                    &format!("{C}[1].imagePullPolicy"),
                    "uses imagePullPolicy IfNotPresent for an image pinned only by tag",
                ),
                (
                    "backup",
                    &format!("{C}[2].imagePullPolicy"),
                    "container \"c2\" has no imagePullPolicy: set one explicitly",
                ),
            ],
        );
    }

    #[test]
    fn image_pull_policy_always_or_digest_pinned() {
        let yaml = cronjob(&[
            "image: \"busybox:1.36\", imagePullPolicy: Always",
            &format!("image: \"busybox@{DIGEST}\", imagePullPolicy: IfNotPresent"),
        ]);
        expect(&IMAGE_PULL_POLICY, &yaml, &[]);
    }
}
