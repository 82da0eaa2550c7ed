//! Accounts for administrators: the list with its roles, a new account, a role granted or
//! revoked over a unit's subtree, an account disabled. The same operations as `memberflow
//! user`, for the console and other clients; all need the `admin` role (everywhere).

use async_graphql::{Context, ID, Object, SimpleObject};
use memberflow_store::{AccountRecord, RoleGrant};
use memberflow_workflow::access::Permission;
use memberflow_workflow::email::EmailAddress;

use crate::access::require_everywhere;
use crate::auth::RoleHeld;
use crate::error::{ApiError, OrGql};
use crate::scalars::to_id;
use crate::tree::{app, lang};

/// An account as administrators see it (never its password).
#[derive(SimpleObject)]
pub struct Account {
    /// Identifier.
    id: ID,
    /// Login name.
    username: String,
    /// The member the account belongs to.
    member_id: Option<ID>,
    /// Whether it is disabled (it may not log in).
    disabled: bool,
    /// Where reminders for its roles go.
    email: Option<String>,
    /// Its live roles.
    roles: Vec<RoleHeld>,
}

fn account(a: AccountRecord, roles: Vec<RoleGrant>) -> Account {
    Account {
        id: to_id(a.id),
        username: a.username,
        member_id: a.member_id.map(to_id),
        disabled: a.disabled,
        email: a.email,
        roles: roles
            .into_iter()
            .map(|r| RoleHeld {
                role: r.role,
                unit_id: r.unit_id.map(to_id),
            })
            .collect(),
    }
}

/// Reading accounts.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// Accounts in login-name order with their live roles, at most `first` (200 by default,
    /// at most 1,000). Administrators only.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Account>> {
        require_everywhere(ctx, Permission::Administer)?;
        let limit = u64::try_from(first.unwrap_or(200).clamp(1, 1_000)).unwrap_or(200);
        Ok(app(ctx)
            .store
            .accounts()
            .list(limit)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(|(a, r)| account(a, r))
            .collect())
    }
}

/// Changing accounts.
#[derive(Default)]
pub struct AccountMutation;

/// What is done with a role.
#[derive(Clone, Copy)]
enum Change {
    Grant,
    Revoke,
}

impl AccountMutation {
    async fn change_role(
        ctx: &Context<'_>,
        change: Change,
        username: String,
        role: String,
        unit_code: Option<String>,
    ) -> async_graphql::Result<Account> {
        require_everywhere(ctx, Permission::Administer)?;
        let l = lang(ctx);
        let unit = Self::unit_of(ctx, unit_code).await?;
        let a = app(ctx);
        let now = a.clock.now();
        match change {
            Change::Grant => a
                .store
                .accounts()
                .grant_role(&username, &role, unit, now)
                .await
                .map(drop),
            Change::Revoke => a
                .store
                .accounts()
                .revoke_role(&username, &role, unit, now)
                .await
                .map(drop),
        }
        .gql(l)?;
        Self::reread(ctx, &username).await
    }

    async fn reread(ctx: &Context<'_>, username: &str) -> async_graphql::Result<Account> {
        let l = lang(ctx);
        let all = app(ctx).store.accounts().list(u64::MAX >> 1).await.gql(l)?;
        all.into_iter()
            .find(|(a, _)| a.username == username)
            .map(|(a, r)| account(a, r))
            .ok_or_else(|| {
                ApiError::from(memberflow_store::StoreError::NotFound {
                    what: "account",
                    key: username.to_owned(),
                })
                .into_graphql(l)
            })
    }

    async fn unit_of(
        ctx: &Context<'_>,
        code: Option<String>,
    ) -> async_graphql::Result<Option<uuid::Uuid>> {
        match code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(c) => Ok(Some(
                app(ctx)
                    .store
                    .tree()
                    .unit_by_code(&c)
                    .await
                    .gql(lang(ctx))?
                    .id,
            )),
        }
    }
}

#[Object]
impl AccountMutation {
    /// Creates an account (administrators only). The password must be at least 12
    /// characters, as on the command line.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
        email: Option<String>,
    ) -> async_graphql::Result<Account> {
        require_everywhere(ctx, Permission::Administer)?;
        let l = lang(ctx);
        let a = app(ctx);
        let email = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => {
                Some(EmailAddress::parse(e).map_err(|t| ApiError::Validation(t).into_graphql(l))?)
            }
        };
        a.store
            .accounts()
            .create_account(username.trim(), &password, None, a.clock.now())
            .await
            .gql(l)?;
        if let Some(e) = &email {
            a.store
                .accounts()
                .set_account_email(username.trim(), Some(e))
                .await
                .gql(l)?;
        }
        Self::reread(ctx, username.trim()).await
    }

    /// Grants `role` to `username` at the unit `unitCode` and its subtree (everywhere when
    /// left out). Administrators only.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        username: String,
        role: String,
        unit_code: Option<String>,
    ) -> async_graphql::Result<Account> {
        Self::change_role(ctx, Change::Grant, username, role, unit_code).await
    }

    /// Revokes `username`'s grants of `role` at `unitCode` (everywhere when left out): their
    /// rights end with their next request. Administrators only.
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        username: String,
        role: String,
        unit_code: Option<String>,
    ) -> async_graphql::Result<Account> {
        Self::change_role(ctx, Change::Revoke, username, role, unit_code).await
    }

    /// Disables an account and ends its sessions. Administrators only.
    async fn disable_account(
        &self,
        ctx: &Context<'_>,
        username: String,
    ) -> async_graphql::Result<Account> {
        require_everywhere(ctx, Permission::Administer)?;
        let a = app(ctx);
        a.store
            .accounts()
            .disable_account(&username, a.clock.now())
            .await
            .gql(lang(ctx))?;
        Self::reread(ctx, &username).await
    }
}
