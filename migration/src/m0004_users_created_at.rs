//! An index on `users.created_at`: listing users newest first (or oldest) reads the index, as
//! every model table's `created_at` index does for its rows.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_users_created_at"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    CreatedAt,
}

const INDEX: &str = "idx_users_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name(INDEX).table(Users::Table).col(Users::CreatedAt).if_not_exists().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Users::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
