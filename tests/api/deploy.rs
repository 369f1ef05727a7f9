//! Deployment files checked without a Docker engine: the compose file sets only
//! variables the service reads, and the list of those is the code's own.

use std::collections::BTreeSet;
use std::path::Path;

use goodwill::config::ENV_VARS;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn compose_env() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    let mut keys = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("x-goodwill-env:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") || line.trim().is_empty() {
                break;
            }
            let key = line.trim().split(':').next().unwrap().to_owned();
            keys.push(key);
        }
    }
    keys
}

#[test]
fn the_compose_file_sets_only_variables_the_service_reads() {
    let keys = compose_env();
    assert!(keys.len() >= 5, "parsed {keys:?}");
    for k in &keys {
        assert!(
            ENV_VARS.contains(&k.as_str()),
            "docker-compose.yml sets {k}, which the service never reads"
        );
    }
    assert!(keys.contains(&"DATABASE_URL".to_owned()));
    assert!(keys.contains(&"GOODWILL_JWT_SECRET".to_owned()));
    // Both replicas and the load balancer are there, and the balancer checks
    // readiness.
    let compose = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    for service in ["  postgres:", "  app1:", "  app2:", "  lb:", "  migrate:"] {
        assert!(compose.contains(service), "missing {service}");
    }
    let haproxy = std::fs::read_to_string(root().join("deploy/haproxy.cfg")).unwrap();
    assert!(
        haproxy.contains("GET /readyz")
            && haproxy.contains("app1:8080")
            && haproxy.contains("app2:8080")
    );
}

fn scan(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            scan(&p, found);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for part in text.split('"').skip(1).step_by(2) {
                let is_var =
                    (part.starts_with("GOODWILL_") || part == "DATABASE_URL" || part == "RUST_LOG")
                        && part.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                if is_var {
                    found.insert(part.to_owned());
                }
            }
        }
    }
}

#[test]
fn the_list_of_variables_is_what_the_code_reads_and_the_readme_documents() {
    let mut found = BTreeSet::new();
    scan(&root().join("src"), &mut found);
    let listed: BTreeSet<String> = ENV_VARS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        found, listed,
        "config::ENV_VARS differs from the variables named in src/"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for v in ENV_VARS {
        assert!(
            readme.contains(&format!("`{v}`")),
            "README does not document {v}"
        );
    }
}

#[test]
fn the_dockerfile_builds_and_runs_the_binary() {
    let d = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(d.matches("FROM ").count() >= 2, "multi-stage");
    assert!(d.contains("cargo build --release --locked --bin goodwill"));
    assert!(d.contains("USER goodwill"), "runs unprivileged");
    assert!(d.contains("/readyz"), "health check");
    for dir in ["migrations", "api-spec"] {
        assert!(
            d.contains(&format!("COPY {dir} {dir}")),
            "the build needs {dir}/"
        );
    }
}
