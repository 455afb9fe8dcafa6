//! Writes to user rows (sign-up, the admin operations, password and email flows, the CLI) in
//! one transaction that records each touched row's change for the change pipeline: the row as
//! it was when first touched and as it is at commit, one change per row.

use super::users::NewUser;
use crate::changes::{Actor, ChangeOp, ChangeSet, Pipeline, RowImage};
use crate::error::{ApiError, ApiResult};
use crate::model::Model;
use crate::sql::rows::read_image;
use crate::sql::values::{datetime, now};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};

/// A write transaction on user rows.
pub struct AccountTx<'a> {
    pub txn: DatabaseTransaction,
    user: &'a Model,
    pipeline: &'a Pipeline,
    actor: Actor,
    /// Rows touched so far: id, what happened, the row before the first write.
    touched: Vec<(String, ChangeOp, Option<RowImage>)>,
}

impl<'a> AccountTx<'a> {
    /// Starts a write transaction (`user` is the built-in User model).
    pub async fn begin(
        db: &DatabaseConnection,
        user: &'a Model,
        pipeline: &'a Pipeline,
        actor: Actor,
    ) -> ApiResult<Self> {
        let txn = crate::db::begin_write(db).await?;
        Ok(AccountTx { txn, user, pipeline, actor, touched: Vec::new() })
    }

    /// Inserts a new user with `roles`; returns its id (CONFLICT when the email is taken).
    pub async fn insert(&mut self, new: NewUser, roles: &[String]) -> ApiResult<String> {
        let id = new.insert(&self.txn, roles).await?;
        self.touched.push((id.clone(), ChangeOp::Create, None));
        Ok(id)
    }

    /// Marks user `id` as about to be updated by a write of the caller's own (reads the row as it
    /// was, once per transaction).
    pub async fn touch(&mut self, id: &str) -> ApiResult<()> {
        if self.touched.iter().any(|(t, _, _)| t == id) {
            return Ok(());
        }
        let before = read_image(&self.txn, self.user, id).await?;
        self.touched.push((id.to_string(), ChangeOp::Update, before));
        Ok(())
    }

    /// Sets system columns of one user (`roles`, `claims`, `disabled`, `password_hash`,
    /// `email_verified`); `false` when there is no such user.
    pub async fn set_account_fields(
        &mut self,
        id: &str,
        fields: &[(&str, sea_orm::sea_query::Value)],
    ) -> ApiResult<bool> {
        self.touch(id).await?;
        let mut q = Query::update();
        q.table("users");
        for (col, v) in fields {
            q.value(sea_orm::sea_query::Alias::new(*col), v.clone());
        }
        let backend = self.txn.get_database_backend();
        q.value("updated_at", datetime(now(), backend)).and_where(Expr::col("id").eq(id.to_string()));
        Ok(self.txn.execute(&q).await?.rows_affected() > 0)
    }

    /// Records every touched row's change, runs the pipeline's in-transaction work, commits, and
    /// publishes the changes.
    pub async fn commit(self) -> ApiResult<()> {
        let mut set = ChangeSet::new(self.actor);
        for (id, op, before) in self.touched {
            let after = read_image(&self.txn, self.user, &id).await?;
            if before.is_none() && after.is_none() {
                continue; // a row that does not exist was not changed
            }
            set.record(&self.user.name, op, &id, before, after);
        }
        self.pipeline.commit_orm(self.txn, set).await.map_err(ApiError::from)
    }
}

/// Creates a user with a password and roles in its own transaction (the CLI); returns its id.
pub async fn create_user(
    db: &DatabaseConnection,
    user: &Model,
    pipeline: &Pipeline,
    email: &str,
    pass: &str,
    roles: &[String],
) -> ApiResult<String> {
    let new = NewUser::prepare(email, pass).await?;
    let mut tx = AccountTx::begin(db, user, pipeline, Actor::system("cli")).await?;
    let id = tx.insert(new, roles).await?;
    tx.commit().await?;
    Ok(id)
}
