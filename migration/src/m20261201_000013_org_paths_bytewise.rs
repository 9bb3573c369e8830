//! Organisation paths compare byte by byte on PostgreSQL too (`COLLATE "C"`, as SQLite always
//! does), so that a subtree is the range `prefix <= path < prefix'` of the path index under
//! any database collation (see `orgs::queries::path_under`). The `text_pattern_ops` index,
//! kept only for `LIKE`, is then redundant: the unique path index serves both.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(r#"ALTER TABLE orgs ALTER COLUMN path TYPE varchar(1024) COLLATE "C""#)
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_orgs_path_prefix")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(r#"ALTER TABLE orgs ALTER COLUMN path TYPE varchar(1024) COLLATE "default""#)
            .await?;
        db.execute_unprepared("CREATE INDEX idx_orgs_path_prefix ON orgs (path text_pattern_ops)")
            .await?;
        Ok(())
    }
}
