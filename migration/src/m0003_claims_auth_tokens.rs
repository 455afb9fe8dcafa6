//! `users.claims` (custom claims carried in access tokens) and `auth_tokens` (one-time tokens
//! for password reset and email verification, stored as hashes).

use crate::types::{SqlType, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_claims_auth_tokens"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Claims,
}

#[derive(DeriveIden)]
enum AuthTokens {
    Table,
    Id,
    UserId,
    Kind,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(column(Users::Claims, SqlType::Json, b).not_null().default(Expr::cust("'{}'")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthTokens::Table)
                    .col(column(AuthTokens::Id, SqlType::Text, b).not_null().primary_key())
                    .col(column(AuthTokens::UserId, SqlType::Text, b).not_null())
                    .col(column(AuthTokens::Kind, SqlType::Text, b).not_null())
                    .col(column(AuthTokens::TokenHash, SqlType::Text, b).not_null())
                    .col(column(AuthTokens::CreatedAt, SqlType::DateTime, b).not_null())
                    .col(column(AuthTokens::ExpiresAt, SqlType::DateTime, b).not_null())
                    .col(column(AuthTokens::UsedAt, SqlType::DateTime, b).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_auth_tokens_user_id")
                            .from(AuthTokens::Table, AuthTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_auth_tokens_token_hash")
                    .table(AuthTokens::Table)
                    .col(AuthTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuthTokens::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::Claims).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
