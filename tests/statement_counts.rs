//! Counting the SQL (issue 10, part 4): a read of one record or of one list page sends at most
//! a few statements, and the number does not grow with the page size (no N+1). Counted with
//! the service's own `db_statements_total`, not timed.

mod common;

use common::world::{
    self, World, create_member, create_pledge, get, id_number, member_body, pledge_body, pledge_members,
};
use common::{Reply, TestApp, spawn_app};

/// The statements one GET sends, with the caller's principal already cached.
async fn statements(app: &TestApp, w: &World, who: &str, path: &str) -> (u64, Reply) {
    // Warm the caller's cached principal, so the measured request finds it there.
    get(app, w.token(who), "/api/v1/me").await;
    let before = app.state.metrics.db_statements.get();
    let reply = get(app, w.token(who), path).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    (app.state.metrics.db_statements.get() - before, reply)
}

/// A world with five members and five pledges in branch A.
async fn populated() -> (TestApp, World, Vec<String>, Vec<String>) {
    let app = spawn_app().await;
    let mut w = world::build(&app).await;
    pledge_members(&app, &mut w).await;
    let mut members = Vec::new();
    for n in 0..5 {
        let id = id_number("340822", "19800101", &format!("{:03}", 100 + n));
        let body = member_body(&format!("党员{n}"), &w.branch_a, &id);
        members.push(
            create_member(&app, w.token("sec_a"), body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut pledges = Vec::new();
    for n in 0..5 {
        let p = create_pledge(&app, w.token("member_a"), pledge_body(&format!("承诺{n}"))).await;
        pledges.push(p["id"].as_str().unwrap().to_owned());
    }
    (app, w, members, pledges)
}

#[actix_web::test]
async fn reading_one_record_takes_at_most_three_statements() {
    let (app, w, members, pledges) = populated().await;
    let records = [
        format!("/api/v1/orgs/{}", w.branch_a),
        format!("/api/v1/members/{}", members[0]),
        format!("/api/v1/pledges/{}", pledges[0]),
        format!("/api/v1/users/{}", w.user("sec_a")),
    ];
    for path in records {
        let (n, _) = statements(&app, &w, "admin", &path).await;
        assert!(n <= 3, "GET {path} as the town administrator sent {n} statements");
        let (n, _) = statements(&app, &w, "sec_a", &path).await;
        assert!(n <= 3, "GET {path} as the branch secretary sent {n} statements");
    }
}

#[actix_web::test]
async fn a_list_page_costs_the_same_statements_for_any_page_size() {
    let (app, w, _, _) = populated().await;
    // Each list with a page size it can fill.
    let lists = [
        ("/api/v1/orgs", 4),
        ("/api/v1/members", 4),
        (&format!("/api/v1/members?org_id={}", w.branch_a), 4),
        ("/api/v1/pledges", 4),
        ("/api/v1/users", 4),
        ("/api/v1/audit-events", 4),
        (&format!("/api/v1/orgs/{}/children", w.root), 2),
    ];
    for (list, many) in lists {
        let sep = if list.contains('?') { '&' } else { '?' };
        let (one, reply) = statements(&app, &w, "admin", &format!("{list}{sep}limit=1")).await;
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), 1, "{list}: one item");
        let (more, reply) = statements(&app, &w, "admin", &format!("{list}{sep}limit={many}")).await;
        assert_eq!(
            reply.json()["items"].as_array().unwrap().len(),
            many,
            "{list}: {many} items"
        );
        assert_eq!(one, more, "{list}: {one} statements for 1 item, {more} for {many}");
        assert!(more <= 3, "{list}: {more} statements for a page");
    }
}

#[actix_web::test]
async fn the_public_board_sends_a_fixed_number_of_statements() {
    let (app, w, _, pledges) = populated().await;
    for id in &pledges {
        world::advance(&app, id, "approved", w.token("member_a"), w.token("sec_a")).await;
    }
    // Each board is a cache miss (another organisation or year); an empty one and one with
    // five pledges send the same statements.
    let mut counts = Vec::new();
    for (org, year) in [(&w.root, 2018), (&w.branch_a, 2017), (&w.root, 2017)] {
        let before = app.state.metrics.db_statements.get();
        let reply = common::send(app.server.get(format!("/api/v1/public/orgs/{org}/board?year={year}"))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        counts.push(app.state.metrics.db_statements.get() - before);
    }
    assert!(counts.iter().all(|&n| n <= 10), "board statements: {counts:?}");
    assert_eq!(counts[1], counts[2], "the same for a branch and the town: {counts:?}");
}
