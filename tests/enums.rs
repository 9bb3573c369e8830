//! Domain enums: the database refuses values the code does not know, and a stored value the
//! code does not know is an error (500, logged), never silently read as a default.

mod common;

use common::{TestApp, spawn_app, world};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

async fn exec(app: &TestApp, sql: &str) -> Result<(), sea_orm::DbErr> {
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .map(|_| ())
}

/// Runs `sql` with `id` bound to its one placeholder (written `$1`); returns the rows changed.
async fn exec_on(app: &TestApp, sql: &str, id: &str) -> Result<u64, sea_orm::DbErr> {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?"),
    };
    let id: uuid::Uuid = id.parse().expect("an id");
    app.db
        .execute_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .map(|r| r.rows_affected())
}

#[test]
fn the_database_checks_agree_with_the_code() {
    let dictionaries = dangjian::dictionaries::all();
    for (table, column, values) in migration::ENUM_CHECKS.iter().flat_map(|c| c.iter()) {
        if (*table, *column) == ("pledge_events", "kind") {
            continue; // internal: a timeline entry is a state change or a progress report
        }
        let mut checked: Vec<&str> = values.to_vec();
        checked.sort();
        let agrees = dictionaries.iter().any(|d| {
            let mut code: Vec<&str> = d.entries.iter().map(|e| e.value).collect();
            code.sort();
            code == checked
        });
        assert!(
            agrees,
            "{table}.{column} allows {values:?}, which no enum of the code has: add a migration"
        );
    }
}

#[actix_web::test]
async fn the_database_refuses_an_unknown_enum_value() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    for sql in [
        "UPDATE orgs SET kind = 'planet' WHERE id = $1",
        "UPDATE grants SET role = 'emperor' WHERE org_id = $1",
    ] {
        let refused = exec_on(&app, sql, &w.branch_a).await;
        assert!(refused.is_err(), "{sql} was accepted: {refused:?}");
        assert!(format!("{refused:?}").contains("ck_"), "{refused:?}");
    }
    // Known values still pass.
    let changed = exec_on(&app, "UPDATE orgs SET kind = 'branch' WHERE id = $1", &w.branch_a)
        .await
        .expect("a known value");
    assert_eq!(changed, 1);
}

#[actix_web::test]
async fn a_stored_value_the_code_does_not_know_is_an_error_not_a_default() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    // Behind the API's back, with the check removed: as if an older or newer version wrote it.
    let drop_check = match app.db.get_database_backend() {
        DatabaseBackend::Postgres => vec![r#"ALTER TABLE "orgs" DROP CONSTRAINT "ck_orgs_kind""#.to_owned()],
        _ => vec![
            r#"DROP TRIGGER "ck_orgs_kind_insert""#.to_owned(),
            r#"DROP TRIGGER "ck_orgs_kind_update""#.to_owned(),
        ],
    };
    for sql in drop_check {
        exec(&app, &sql).await.expect("drop the check");
    }
    let changed = exec_on(&app, "UPDATE orgs SET kind = 'planet' WHERE id = $1", &w.group_b)
        .await
        .expect("stored");
    assert_eq!(changed, 1);
    let reply = world::get(&app, w.token("admin"), &format!("/api/v1/orgs/{}", w.group_b)).await;
    let problem = reply.assert_problem(500, "internal_error");
    assert!(!problem.to_string().contains("planet"), "internals shown: {problem}");
    // Other organisations still read as they are.
    let fine = world::get(&app, w.token("admin"), &format!("/api/v1/orgs/{}", w.branch_a)).await;
    assert_eq!(fine.status, 200, "{}", fine.text());
    assert_eq!(fine.json()["kind"], "branch");
}
