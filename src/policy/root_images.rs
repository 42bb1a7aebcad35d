//! Well-known images that run as root (uid 0) unless told otherwise, so that `--fix` does not
//! set `runAsNonRoot: true` on their pods: with no `runAsUser`, the kubelet compares it with the
//! image's user and refuses to start the container ("container has runAsNonRoot and image will
//! run as root"), which would turn a working workload into a broken one.
//!
//! The table holds Docker Official Images whose Dockerfile sets no `USER` (so they start as
//! root). Most database images start as root only to fix the ownership of their data directory
//! and then drop to their own user with `gosu`; their documentation ("Arbitrary --user Notes")
//! says they run as any uid given, which is what the hint tells the user to set. Images that set
//! a non-root `USER` (memcached, elasticsearch, grafana, `nginxinc/nginx-unprivileged`,
//! Bitnami's) are not listed. Only the Docker Hub names match (`nginx`, `library/nginx`,
//! `docker.io/library/nginx`, and the Docker Hub mirrors `mirror.gcr.io` and
//! `public.ecr.aws/docker/library`), with any tag or digest.

/// An image that runs as root by default, and what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootImage {
    /// Its Docker Hub name, without `library/`.
    pub name: &'static str,
    /// How to run it as non-root.
    pub instead: &'static str,
}

/// The well-known images that start as root, by Docker Hub name.
pub const ROOT_IMAGES: &[RootImage] = &[
    RootImage {
        name: "nginx",
        instead: "use nginxinc/nginx-unprivileged (uid 101, listens on 8080), or set runAsUser: 101 with a port above 1024 and writable cache and pid paths",
    },
    RootImage {
        name: "httpd",
        instead: "set runAsUser (e.g. 33, www-data) with a port above 1024 and a writable pid path",
    },
    RootImage {
        name: "redis",
        instead: "set runAsUser: 999 (the image's redis user), which its entrypoint supports",
    },
    RootImage {
        name: "postgres",
        instead: "set runAsUser: 999 (70 in the alpine variants), the image's postgres user, which its entrypoint supports",
    },
    RootImage {
        name: "mysql",
        instead: "set runAsUser: 999 (the image's mysql user), which its entrypoint supports",
    },
    RootImage {
        name: "mariadb",
        instead: "set runAsUser: 999 (the image's mysql user), which its entrypoint supports",
    },
    RootImage {
        name: "mongo",
        instead: "set runAsUser: 999 (the image's mongodb user), which its entrypoint supports",
    },
    RootImage {
        name: "rabbitmq",
        instead: "set runAsUser: 999 (the image's rabbitmq user), which its entrypoint supports",
    },
    RootImage {
        name: "node",
        instead: "set runAsUser: 1000 (the image's node user)",
    },
    RootImage {
        name: "python",
        instead: "set runAsUser to a uid the application can run as",
    },
    RootImage {
        name: "busybox",
        instead: "set runAsUser to a uid the command can run as",
    },
    RootImage {
        name: "alpine",
        instead: "set runAsUser to a uid the command can run as",
    },
    RootImage {
        name: "ubuntu",
        instead: "set runAsUser to a uid the command can run as",
    },
    RootImage {
        name: "debian",
        instead: "set runAsUser to a uid the command can run as",
    },
];

/// Registry prefixes that name Docker Hub's official images.
const DOCKER_HUB: &[&str] = &[
    "docker.io/library/",
    "index.docker.io/library/",
    "registry-1.docker.io/library/",
    "mirror.gcr.io/library/",
    "public.ecr.aws/docker/library/",
    "docker.io/",
    "library/",
];

/// The table's entry for `image` (a reference as a pod spec writes it), if it is one of them.
pub fn runs_as_root(image: &str) -> Option<&'static RootImage> {
    let mut name = crate::validate::image::parts(image).name;
    if let Some(rest) = DOCKER_HUB.iter().find_map(|p| name.strip_prefix(p)) {
        name = rest;
    }
    ROOT_IMAGES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_docker_hub_names_only() {
        for image in [
            "nginx",
            "nginx:1.27",
            "nginx:1.27-alpine",
            "library/nginx",
            "docker.io/library/nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "mirror.gcr.io/library/nginx:1.27",
        ] {
            assert_eq!(runs_as_root(image).map(|r| r.name), Some("nginx"), "{image}");
        }
        for image in [
            "nginxinc/nginx-unprivileged:1.27",
            "bitnami/nginx:1.27",
            "ghcr.io/example/nginx:1",
            "registry.example.com:5000/nginx:1",
            "memcached:1.6",
            "nginx-ingress:3",
        ] {
            assert_eq!(runs_as_root(image), None, "{image}");
        }
        assert_eq!(
            runs_as_root("postgres:17").map(|r| r.name),
            Some("postgres")
        );
    }
}
