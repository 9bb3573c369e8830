//! Two instances, one database (issue 10): started at the same moment on an empty PostgreSQL
//! database, both come up and serve, the migrations run once (under an advisory lock), and
//! the first administrator is created once.

mod common;

use common::TestDatabase;
use common::binary::{Server, TempDir};
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, Statement};

#[actix_web::test]
async fn two_instances_started_together_on_one_empty_database_both_serve() {
    let database = TestDatabase::create().await;
    if !database.is_postgres() {
        // Two processes on one SQLite file is not a supported deployment.
        return;
    }
    let secret = ("DANGJIAN_JWT_SECRET", common::TEST_JWT_SECRET);
    let data_key = ("DANGJIAN_DATA_KEY", common::TEST_DATA_KEY);
    let (dir_a, dir_b) = (TempDir::new("instance-a"), TempDir::new("instance-b"));
    let (url_a, url_b) = (database.url.clone(), database.url.clone());
    let (path_a, path_b) = (dir_a.0.clone(), dir_b.0.clone());
    let a = std::thread::spawn(move || Server::start(&url_a, &path_a, &[secret, data_key]));
    let b = std::thread::spawn(move || Server::start(&url_b, &path_b, &[secret, data_key]));
    let (a, b) = (
        a.join().expect("first instance starts"),
        b.join().expect("second instance starts"),
    );

    for server in [&a, &b] {
        let ready = server.request("GET", "/readyz", None, None);
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
        let board = server.request("GET", "/api/v1/dictionaries", None, None);
        assert!(board.starts_with("HTTP/1.1 200"), "{board}");
    }
    let printed = [a.output(), b.output()]
        .iter()
        .filter(|o| o.contains("password: "))
        .count();
    assert_eq!(printed, 1, "exactly one instance created the first administrator");

    let db = Database::connect(&database.url).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) - count(DISTINCT version) FROM seaql_migrations").await,
        0,
        "each migration recorded once"
    );
    assert_eq!(
        count("SELECT count(*) FROM seaql_migrations").await as usize,
        migration::Migrator::migrations().len(),
        "every migration ran"
    );
    assert_eq!(count("SELECT count(*) FROM users").await, 1, "one administrator");
    assert_eq!(
        count("SELECT count(*) FROM orgs WHERE parent_id IS NULL").await,
        1,
        "one root"
    );
    assert!(a.terminate().success());
    assert!(b.terminate().success());
}
