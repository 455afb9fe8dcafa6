//! `ferrobase_schema_migrations`: one row per applied migration of the model tables.

use crate::types::{SqlType, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_schema_history"
    }
}

#[derive(DeriveIden)]
enum FerrobaseSchemaMigrations {
    Table,
    Id,
    AppliedAt,
    SdlHash,
    Plan,
    Snapshot,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(FerrobaseSchemaMigrations::Table)
                    .col(
                        ColumnDef::new(FerrobaseSchemaMigrations::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(column(FerrobaseSchemaMigrations::AppliedAt, SqlType::DateTime, b).not_null())
                    .col(column(FerrobaseSchemaMigrations::SdlHash, SqlType::Text, b).not_null())
                    .col(column(FerrobaseSchemaMigrations::Plan, SqlType::Text, b).not_null())
                    .col(column(FerrobaseSchemaMigrations::Snapshot, SqlType::Text, b).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FerrobaseSchemaMigrations::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
