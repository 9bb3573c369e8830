//! docker-compose.yml, the Dockerfile and the README agree with the configuration the
//! service actually reads (no Docker engine runs in CI, so this is what can be checked).

use std::collections::BTreeSet;

use dangjian::config::ENV_VARS;
use serde_yaml::Value;

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn known_vars() -> BTreeSet<&'static str> {
    ENV_VARS.iter().map(|(name, _)| *name).collect()
}

#[test]
fn compose_file_parses_and_wires_the_service_to_postgres() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML");
    let services = &compose["services"];
    let db = &services["db"];
    let app = &services["app"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres"));
    assert!(db["healthcheck"]["test"].is_sequence(), "db has a health check");
    let volume = db["volumes"][0].as_str().expect("db has a volume");
    let volume_name = volume.split(':').next().unwrap();
    assert!(
        compose["volumes"].get(volume_name).is_some(),
        "named volume {volume_name} is declared"
    );
    assert_eq!(app["build"]["dockerfile"], "Dockerfile");
    assert_eq!(app["depends_on"]["db"]["condition"], "service_healthy");

    let env = app["environment"].as_mapping().expect("app environment");
    let known = known_vars();
    for key in env.keys() {
        let key = key.as_str().unwrap();
        assert!(
            known.contains(key),
            "compose sets {key}, which the service does not read"
        );
    }
    let url = env.get("DATABASE_URL").and_then(Value::as_str).expect("DATABASE_URL");
    let db_env = &db["environment"];
    let user = db_env["POSTGRES_USER"].as_str().unwrap();
    let name = db_env["POSTGRES_DB"].as_str().unwrap();
    assert!(url.starts_with(&format!("postgres://{user}:")), "{url}");
    assert!(url.ends_with(&format!("@db:5432/{name}")), "{url}");
    assert!(
        db_env["POSTGRES_PASSWORD"].as_str().unwrap().contains(":?"),
        "no default password"
    );

    let bind = env.get("DANGJIAN_BIND").and_then(Value::as_str).unwrap();
    let port = bind.rsplit(':').next().unwrap();
    assert!(
        app["ports"][0].as_str().unwrap().ends_with(&format!(":{port}")),
        "published port matches DANGJIAN_BIND"
    );
}

#[test]
fn dockerfile_is_multi_stage_non_root_and_uses_known_variables() {
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.lines().filter(|l| l.starts_with("FROM ")).count() >= 2,
        "multi-stage"
    );
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER set");
    assert!(user.trim() != "root" && user.trim() != "0", "runs as non-root");
    assert!(dockerfile.contains("ENTRYPOINT [\"dangjian\"]"));
    assert!(dockerfile.contains("--bin dangjian"));
    let known = known_vars();
    for word in dockerfile.split_whitespace() {
        if let Some((name, _)) = word.split_once('=')
            && name.starts_with("DANGJIAN_")
        {
            assert!(known.contains(name), "Dockerfile sets unknown {name}");
        }
    }
}

#[test]
fn readme_documents_every_variable_and_the_two_commands() {
    let readme = read("README.md");
    for (name, _) in ENV_VARS {
        assert!(readme.contains(&format!("`{name}`")), "README lists {name}");
    }
    assert!(readme.contains("cargo run --release"));
    assert!(readme.contains("cargo test"));
    assert!(readme.contains("cargo run -- openapi > openapi/openapi.json"));
}
