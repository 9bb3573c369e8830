//! `GET /members/{id}` and `GET /members?org_id=…&limit=…`, straight from PostgreSQL to JSON.
//! Environment: DATABASE_URL, BIND (127.0.0.1:18081), POOL (10 connections, as dangjian's).

use actix_web::{App, HttpResponse, HttpServer, get, web};
use deadpool_postgres::{Manager, Pool};
use serde::{Deserialize, Serialize};
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

const COLUMNS: &str = "id, org_id, group_id, name, gender, birth_date, ethnicity, education, \
     id_number_enc, phone_enc, address, joined_on, status, rural, specialty, note, active, version";

#[derive(Serialize)]
struct Member {
    id: Uuid,
    org_id: Uuid,
    group_id: Option<Uuid>,
    name: String,
    gender: String,
    birth_date: chrono::NaiveDate,
    ethnicity: Option<String>,
    education: Option<String>,
    id_number: String,
    phone: Option<String>,
    address: Option<String>,
    joined_on: chrono::NaiveDate,
    status: String,
    rural: bool,
    specialty: Option<String>,
    note: Option<String>,
    active: bool,
    version: i64,
}

impl From<&Row> for Member {
    fn from(r: &Row) -> Member {
        Member {
            id: r.get(0),
            org_id: r.get(1),
            group_id: r.get(2),
            name: r.get(3),
            gender: r.get(4),
            birth_date: r.get(5),
            ethnicity: r.get(6),
            education: r.get(7),
            id_number: r.get(8),
            phone: r.get(9),
            address: r.get(10),
            joined_on: r.get(11),
            status: r.get(12),
            rural: r.get(13),
            specialty: r.get(14),
            note: r.get(15),
            active: r.get(16),
            version: r.get(17),
        }
    }
}

fn failed(e: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::InternalServerError().body(e.to_string())
}

#[get("/members/{id}")]
async fn member(pool: web::Data<Pool>, id: web::Path<Uuid>) -> HttpResponse {
    let client = match pool.get().await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let sql = format!("SELECT {COLUMNS} FROM members WHERE id = $1");
    let statement = match client.prepare_cached(&sql).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match client.query_opt(&statement, &[&*id]).await {
        Ok(Some(row)) => HttpResponse::Ok().json(Member::from(&row)),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
struct ListParams {
    org_id: Uuid,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct Page {
    items: Vec<Member>,
}

#[get("/members")]
async fn members(pool: web::Data<Pool>, q: web::Query<ListParams>) -> HttpResponse {
    let client = match pool.get().await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let sql = format!("SELECT {COLUMNS} FROM members WHERE org_id = $1 ORDER BY name, id LIMIT $2");
    let statement = match client.prepare_cached(&sql).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let limit = q.limit.unwrap_or(20).clamp(1, 100) + 1;
    match client.query(&statement, &[&q.org_id, &limit]).await {
        Ok(rows) => HttpResponse::Ok().json(Page {
            items: rows.iter().take(rows.len().min(limit as usize - 1)).map(Member::from).collect(),
        }),
        Err(e) => failed(e),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let config: tokio_postgres::Config = url.parse().expect("a postgres:// URL");
    let size = std::env::var("POOL").ok().and_then(|p| p.parse().ok()).unwrap_or(10);
    let pool = Pool::builder(Manager::new(config, NoTls))
        .max_size(size)
        .build()
        .expect("a pool");
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:18081".into());
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(pool.clone()))
            .service(member)
            .service(members)
    })
    .bind(bind)?
    .run()
    .await
}
