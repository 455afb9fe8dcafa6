//! `ferrobase_change_payloads`: committed changes too large for a PostgreSQL `NOTIFY` payload
//! (8,000 bytes), kept briefly so that other instances can read them by reference.

use crate::types::{SqlType, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_change_payloads"
    }
}

#[derive(DeriveIden)]
enum FerrobaseChangePayloads {
    Table,
    Id,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        use FerrobaseChangePayloads as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(column(P::Id, SqlType::Text, b).not_null().primary_key())
                    .col(column(P::Payload, SqlType::Text, b).not_null())
                    .col(column(P::CreatedAt, SqlType::DateTime, b).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FerrobaseChangePayloads::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
