//! The bare reference page of `scripts/load`: what the same crates (actix-web, diesel,
//! askama) and the service's pool and SQLite settings (`vecinal::db::build_pool`) serve at
//! best on this machine. GET / runs one indexed query, the 50 newest open applications
//! read from the open-applications index, and renders them as a table. Keep-alive is off
//! as in the service, so both pay one connection per request.
//!
//! Run: `cargo bench --bench bare -- --database-url sqlite:/tmp/load.db --port 8099`

use actix_web::http::KeepAlive;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use askama::Template;
use chrono::NaiveDateTime;
use clap::Parser;
use diesel::prelude::*;
use vecinal::db::schema::applications;
use vecinal::db::{self, DatabaseUrl, Pool};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 8099)]
    port: u16,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Bare</title></head><body>
<table>
<thead><tr><th>Id</th><th>Group</th><th>Status</th><th>Submitted</th></tr></thead>
<tbody>
{% for (id, group, status, at) in rows %}<tr><td>{{ id }}</td><td>{{ group }}</td><td>{{ status }}</td><td>{{ at }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>"#
)]
struct Page {
    rows: Vec<(String, String, String, NaiveDateTime)>,
}

#[get("/")]
async fn index(pool: web::Data<Pool>) -> actix_web::Result<HttpResponse> {
    let pool = pool.get_ref().clone();
    let rows = web::block(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        // The open statuses as constants, as the service's queue writes them, so SQLite can
        // use the partial index.
        let rows = applications::table
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "applications.status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second')",
            ))
            .order((applications::submitted_at.desc(), applications::id.desc()))
            .select((applications::id, applications::group_id, applications::status, applications::submitted_at))
            .limit(50)
            .load(&mut conn)?;
        Ok(rows)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    let html = Page { rows }.render().map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database_url).map_err(anyhow::Error::msg)?;
    // The service's default pool size (VECINAL_DB_POOL_SIZE).
    let pool = db::build_pool(&url, 10)?;
    println!("bare reference page on http://127.0.0.1:{} ({})", args.port, url.redacted());
    HttpServer::new(move || App::new().app_data(web::Data::new(pool.clone())).service(index))
        .keep_alive(KeepAlive::Disabled)
        .bind(("127.0.0.1", args.port))?
        .run()
        .await?;
    Ok(())
}
