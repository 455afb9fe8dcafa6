//! `users` (the built-in `User`) and `sessions` (refresh-token families, used by auth).

use crate::types::{SqlType, bool_literal, column};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_users_sessions"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    EmailVerified,
    Roles,
    PasswordHash,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    FamilyId,
    RefreshTokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RotatedAt,
    ReplacedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(column(Users::Id, SqlType::Text, b).not_null().primary_key())
                    .col(column(Users::Email, SqlType::Text, b).not_null())
                    .col(
                        column(Users::EmailVerified, SqlType::Boolean, b)
                            .not_null()
                            .default(Expr::cust(bool_literal(b, false))),
                    )
                    .col(column(Users::Roles, SqlType::Json, b).not_null().default(Expr::cust("'[]'")))
                    .col(column(Users::PasswordHash, SqlType::Text, b).null())
                    .col(
                        column(Users::Disabled, SqlType::Boolean, b)
                            .not_null()
                            .default(Expr::cust(bool_literal(b, false))),
                    )
                    .col(column(Users::CreatedAt, SqlType::DateTime, b).not_null())
                    .col(column(Users::UpdatedAt, SqlType::DateTime, b).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("uq_users_email").table(Users::Table).col(Users::Email).unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(column(Sessions::Id, SqlType::Text, b).not_null().primary_key())
                    .col(column(Sessions::UserId, SqlType::Text, b).not_null())
                    .col(column(Sessions::FamilyId, SqlType::Text, b).not_null())
                    .col(column(Sessions::RefreshTokenHash, SqlType::Text, b).not_null())
                    .col(column(Sessions::CreatedAt, SqlType::DateTime, b).not_null())
                    .col(column(Sessions::ExpiresAt, SqlType::DateTime, b).not_null())
                    .col(column(Sessions::RevokedAt, SqlType::DateTime, b).null())
                    .col(column(Sessions::RotatedAt, SqlType::DateTime, b).null())
                    .col(column(Sessions::ReplacedBy, SqlType::Text, b).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user_id")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col, unique) in [
            ("uq_sessions_refresh_token_hash", Sessions::RefreshTokenHash, true),
            ("idx_sessions_user_id", Sessions::UserId, false),
            ("idx_sessions_family_id", Sessions::FamilyId, false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Sessions::Table).col(col);
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
