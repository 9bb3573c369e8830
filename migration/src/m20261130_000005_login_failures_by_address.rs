//! Sign-in lockout per account *and* client address, so that a stranger elsewhere cannot lock
//! a user out. Failed sign-ins are kept for a day at most, so the table is recreated empty.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Username,
    ClientIp,
    FailedAt,
}

fn create_table(with_address: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(LoginFailures::Table)
        .col(ColumnDef::new(LoginFailures::Id).uuid().not_null().primary_key())
        .col(ColumnDef::new(LoginFailures::Username).string_len(64).not_null());
    if with_address {
        table.col(ColumnDef::new(LoginFailures::ClientIp).string_len(64).not_null());
    }
    table
        .col(
            ColumnDef::new(LoginFailures::FailedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .to_owned()
}

fn create_index(with_address: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.table(LoginFailures::Table).col(LoginFailures::Username);
    if with_address {
        index
            .name("idx_login_failures_username_ip")
            .col(LoginFailures::ClientIp);
    } else {
        index.name("idx_login_failures_username");
    }
    index.col(LoginFailures::FailedAt).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await?;
        m.create_table(create_table(true)).await?;
        m.create_index(create_index(true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await?;
        m.create_table(create_table(false)).await?;
        m.create_index(create_index(false)).await
    }
}
