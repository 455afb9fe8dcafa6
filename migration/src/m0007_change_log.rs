//! `ferrobase_change_log`: every committed change an instance sends to the others, numbered,
//! kept for a few minutes so that an instance whose `LISTEN` connection was lost catches up on
//! what it missed (and reads changes too large for a `NOTIFY` payload). It replaces
//! `ferrobase_change_payloads`, which held only the large ones (its rows lived minutes, so none
//! are carried over).

use crate::types::{SqlType, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_change_log"
    }
}

#[derive(DeriveIden)]
enum FerrobaseChangeLog {
    Table,
    Seq,
    Instance,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FerrobaseChangePayloads {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        use FerrobaseChangeLog as L;
        manager.drop_table(Table::drop().table(FerrobaseChangePayloads::Table).if_exists().to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Seq).big_integer().not_null().auto_increment().primary_key())
                    .col(column(L::Instance, SqlType::Text, b).not_null())
                    .col(column(L::Payload, SqlType::Text, b).not_null())
                    .col(column(L::CreatedAt, SqlType::DateTime, b).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ferrobase_change_log_created_at").table(L::Table).col(L::CreatedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FerrobaseChangeLog::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
