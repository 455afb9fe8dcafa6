//! `ferrobase_jobs`: the durable queue of background work (emails first). A job is written in
//! the transaction of the request that needs it and done by a worker after; it survives a crash
//! or a restart, is retried with exponential backoff, and is kept with its last error once it
//! has used up its attempts.

use crate::types::{SqlType, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_jobs"
    }
}

#[derive(DeriveIden)]
enum FerrobaseJobs {
    Table,
    Id,
    Kind,
    Payload,
    RunAt,
    Attempts,
    MaxAttempts,
    LockedUntil,
    LastError,
    FailedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        use FerrobaseJobs as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .col(column(J::Id, SqlType::Text, b).not_null().primary_key())
                    .col(column(J::Kind, SqlType::Text, b).not_null())
                    .col(column(J::Payload, SqlType::Json, b).not_null())
                    .col(column(J::RunAt, SqlType::DateTime, b).not_null())
                    .col(column(J::Attempts, SqlType::Integer, b).not_null().default(0))
                    .col(column(J::MaxAttempts, SqlType::Integer, b).not_null())
                    .col(column(J::LockedUntil, SqlType::DateTime, b).null())
                    .col(column(J::LastError, SqlType::Text, b).null())
                    .col(column(J::FailedAt, SqlType::DateTime, b).null())
                    .col(column(J::CreatedAt, SqlType::DateTime, b).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ferrobase_jobs_due")
                    .table(J::Table)
                    .col(J::FailedAt)
                    .col(J::RunAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FerrobaseJobs::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
