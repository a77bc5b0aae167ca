//! Scratch PostgreSQL databases for the benchmarks that also run on PostgreSQL.

/// Create (or, after the figures are taken, drop) database `name` on the server `admin` names.
pub async fn scratch_postgres(admin: &str, name: &str, create: bool) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(admin)
        .await
        .expect("connect to PostgreSQL");
    let sql = if create {
        format!("CREATE DATABASE \"{name}\"")
    } else {
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
    };
    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await;
    match done {
        Ok(_) => {}
        Err(e) if create => panic!("cannot create scratch database {name}: {e}"),
        // The figures are already taken; a leftover database is worth a note, not a failure.
        Err(e) => eprintln!("warning: scratch database {name} not dropped: {e}"),
    }
    let _ = conn.close().await;
}

/// `postgres://…/db?opts` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let cut = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    format!("{}/{name}{query}", &base[..cut])
}
