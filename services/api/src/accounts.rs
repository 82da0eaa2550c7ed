//! Accounts for administrators: the list with its roles, a new account, a role granted or
//! revoked over a unit's subtree, an account disabled. The same operations as `memberflow
//! user`, for the console and other clients; all need the `admin` role (everywhere).

use std::collections::HashMap;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use memberflow_store::{AccountListing, AccountQuery as AccountQuery_, UnitRecord};
use memberflow_workflow::access::Permission;
use memberflow_workflow::email::EmailAddress;
use memberflow_workflow::text::Text;
use uuid::Uuid;

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
    /// The full name of the member the account belongs to (null for an account of no
    /// member).
    display_name: Option<String>,
    /// Whether it is disabled (it may not log in).
    disabled: bool,
    /// Where reminders for its roles go.
    email: Option<String>,
    /// Its live roles.
    roles: Vec<RoleHeld>,
}

fn account(a: AccountListing, units: &HashMap<Uuid, UnitRecord>) -> Account {
    Account {
        id: to_id(a.account.id),
        username: a.account.username,
        member_id: a.account.member_id.map(to_id),
        display_name: a.display_name,
        disabled: a.account.disabled,
        email: a.account.email,
        roles: a
            .roles
            .into_iter()
            .map(|r| RoleHeld {
                role: r.role,
                preloaded: r.unit_id.and_then(|u| units.get(&u).cloned()),
                unit_id: r.unit_id.map(to_id),
            })
            .collect(),
    }
}

/// The units of the roles of `list`, read at once when the query asks for them.
async fn units_of(
    ctx: &Context<'_>,
    list: &[AccountListing],
    asked: bool,
) -> async_graphql::Result<HashMap<Uuid, UnitRecord>> {
    let ids: Vec<Uuid> = list
        .iter()
        .flat_map(|a| a.roles.iter().filter_map(|r| r.unit_id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !asked || ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(app(ctx)
        .store
        .tree()
        .units(&ids)
        .await
        .gql(lang(ctx))?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The opaque cursor of an account: its login name (unique, the order of the list).
fn encode_account_cursor(username: &str) -> String {
    URL_SAFE_NO_PAD.encode(username.as_bytes())
}

fn decode_account_cursor(c: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError::Validation(Text::new(
                format!("Con trỏ phân trang không hợp lệ: {c}."),
                format!("Malformed pagination cursor: {c}."),
            ))
        })
}

/// Extra fields of an account connection.
#[derive(SimpleObject)]
pub struct AccountConnectionFields {
    /// How many accounts match, over all pages (counted only when asked for).
    total_count: u64,
}

/// A page of accounts.
pub type AccountConnection = Connection<String, Account, AccountConnectionFields>;

/// Reading accounts.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// Accounts in login-name order with their live roles, at most `first` (200 by default,
    /// at most 1,000); only those whose login name or member's name contains `search`
    /// (ignoring case and Vietnamese diacritics) when given. Administrators only. For pages
    /// use `accountsConnection`.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        search: Option<String>,
    ) -> async_graphql::Result<Vec<Account>> {
        require_everywhere(ctx, Permission::Administer)?;
        let limit = u64::try_from(first.unwrap_or(200).clamp(1, 1_000)).unwrap_or(200);
        let page = app(ctx)
            .store
            .accounts()
            .page(&AccountQuery_ {
                search,
                limit,
                ..Default::default()
            })
            .await
            .gql(lang(ctx))?;
        let asked = ctx.look_ahead().field("roles").field("unit").exists();
        let units = units_of(ctx, &page.accounts, asked).await?;
        Ok(page
            .accounts
            .into_iter()
            .map(|a| account(a, &units))
            .collect())
    }

    /// Accounts a page at a time, in login-name order, with their live roles: those whose
    /// login name or member's name contains `search` (ignoring case and Vietnamese
    /// diacritics; every account when left out or blank). Forwards with `first` (50 by
    /// default, at most 200) and `after`, or backwards with `last` and `before` (the
    /// previous page; `last` is read only without `first`). `totalCount` is counted only
    /// when asked for. Administrators only.
    async fn accounts_connection(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<AccountConnection> {
        require_everywhere(ctx, Permission::Administer)?;
        let l = lang(ctx);
        let size = |n: Option<i32>, name: &str| -> async_graphql::Result<u64> {
            let n = n.unwrap_or(ACCOUNT_PAGE);
            u64::try_from(n)
                .ok()
                .filter(|_| n <= MAX_ACCOUNT_PAGE)
                .ok_or_else(|| {
                    ApiError::Validation(Text::new(
                        format!("{name} phải từ 0 đến {MAX_ACCOUNT_PAGE}."),
                        format!("{name} must be between 0 and {MAX_ACCOUNT_PAGE}."),
                    ))
                    .into_graphql(l)
                })
        };
        let after = after
            .as_deref()
            .map(decode_account_cursor)
            .transpose()
            .gql(l)?;
        let before = before
            .as_deref()
            .map(decode_account_cursor)
            .transpose()
            .gql(l)?;
        let backwards = first.is_none() && (before.is_some() || last.is_some());
        let limit = if backwards {
            size(last, "last")?
        } else {
            size(first, "first")?
        };
        let search = search.filter(|s| !s.trim().is_empty());
        let store = &app(ctx).store;
        let page = store
            .accounts()
            .page(&AccountQuery_ {
                search: search.clone(),
                after: after.clone(),
                before: before.clone(),
                backwards,
                limit,
            })
            .await
            .gql(l)?;
        let look = ctx.look_ahead();
        let total = if look.field("totalCount").exists() {
            store.accounts().count(search.as_deref()).await.gql(l)?
        } else {
            0
        };
        let asked = look.field("nodes").field("roles").field("unit").exists()
            || look
                .field("edges")
                .field("node")
                .field("roles")
                .field("unit")
                .exists();
        let units = units_of(ctx, &page.accounts, asked).await?;
        // Forwards: a previous page exists when reading after a cursor; backwards: a next
        // page exists when reading before one (as the Relay specification allows, these two
        // are not counted).
        let (has_previous, has_next) = if backwards {
            (page.more, before.is_some())
        } else {
            (after.is_some(), page.more)
        };
        let mut conn = Connection::with_additional_fields(
            has_previous,
            has_next,
            AccountConnectionFields { total_count: total },
        );
        conn.edges.extend(page.accounts.into_iter().map(|a| {
            Edge::new(
                encode_account_cursor(&a.account.username),
                account(a, &units),
            )
        }));
        Ok(conn)
    }
}

/// Accounts on a page by default.
const ACCOUNT_PAGE: i32 = 50;
/// Accounts on a page at most.
const MAX_ACCOUNT_PAGE: i32 = 200;

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
        let a = app(ctx).store.accounts().listing(username).await.gql(l)?;
        let units = units_of(ctx, std::slice::from_ref(&a), true).await?;
        Ok(account(a, &units))
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
