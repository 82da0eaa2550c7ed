//! Accounts, sessions and role assignments.
//!
//! Passwords are hashed with Argon2id (the crate's default parameters, the PHC string stored);
//! a login creates a session whose bearer token is 32 random bytes, given to the client once
//! and stored only as its SHA-256, so a copy of the database yields no usable token. Sessions
//! expire and can be revoked; changing the password or disabling the account revokes them all.
//! The access log records who read what (the API writes it before a confidential read is
//! returned). `addresses.rs` finds who a mail to a role reaches: the holders of the role.

mod addresses;

pub use addresses::Addressees;

aggregate!(
    /// Accounts, sessions, role grants, the access log, and who a mail to a role reaches.
    Accounts,
    accounts
);

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use memberflow_workflow::access::{Grant, Role};
use memberflow_workflow::email::EmailAddress;
use memberflow_workflow::text::Text;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::changes::Topic;
use crate::entity::{access_log, account, member, role_assignment, session};
use crate::error::{Result, StoreError};

/// An account as the rest of the system sees it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Identifier.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// The member the account belongs to, if any.
    pub member_id: Option<Uuid>,
    /// Whether it may log in.
    pub disabled: bool,
    /// Where reminders for the roles it holds go.
    pub email: Option<String>,
}

impl From<account::Model> for AccountRecord {
    fn from(m: account::Model) -> Self {
        Self {
            id: m.id,
            username: m.username,
            member_id: m.member_id,
            disabled: m.disabled,
            email: m.email,
        }
    }
}

/// A role held by an account, scoped to a unit and its subtree (`None`: everywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// Role name (`secretary`, `auditor`, `admin`, ...).
    pub role: String,
    /// The unit at whose level the role is held.
    pub unit_id: Option<Uuid>,
}

/// An account as administrators list it: the account, the name of the member it belongs to,
/// its live roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountListing {
    /// The account.
    pub account: AccountRecord,
    /// The full name of the member it belongs to, if any.
    pub display_name: Option<String>,
    /// Its live roles, oldest grant first.
    pub roles: Vec<RoleGrant>,
}

/// Which accounts to list ([`Store::accounts_page`]).
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Part of a login name or of the member's name, in any case, with or without
    /// diacritics; every account when `None` or blank.
    pub search: Option<String>,
    /// Only login names after this one (the next page).
    pub after: Option<String>,
    /// Only login names before this one.
    pub before: Option<String>,
    /// The last `limit` of those that match (the previous page) instead of the first.
    pub backwards: bool,
    /// At most this many.
    pub limit: u64,
}

/// A page of accounts.
#[derive(Debug, Clone)]
pub struct AccountPage {
    /// The accounts, in login-name order.
    pub accounts: Vec<AccountListing>,
    /// Whether more match beyond the page, in the direction it was read.
    pub more: bool,
}

/// The ids of the accounts whose login key or member's name key contains `search`'s key:
/// `None` when there is nothing to search for.
fn account_matches(search: Option<&str>) -> Option<sea_orm::sea_query::SelectStatement> {
    let key: String = memberflow_workflow::text::search_key(search?)
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    if key.is_empty() {
        return None;
    }
    let pattern = format!("%{key}%");
    let mut by_login = Query::select()
        .column((account::Entity, account::Column::Id))
        .from(account::Entity)
        .and_where(Expr::col((account::Entity, account::Column::SearchName)).like(&pattern))
        .to_owned();
    // Only the accounts that belong to a member (partial index, migration 000034), each
    // joined to its member by key.
    let by_member = Query::select()
        .column((account::Entity, account::Column::Id))
        .from(account::Entity)
        .inner_join(
            member::Entity,
            Expr::col((member::Entity, member::Column::Id))
                .equals((account::Entity, account::Column::MemberId)),
        )
        .and_where(Expr::col((account::Entity, account::Column::MemberId)).is_not_null())
        .and_where(Expr::col((member::Entity, member::Column::SearchName)).like(&pattern))
        .to_owned();
    Some(
        by_login
            .union(sea_orm::sea_query::UnionType::Distinct, by_member)
            .to_owned(),
    )
}

/// A logged-in principal: the account and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account.
    pub account: AccountRecord,
    /// Its roles.
    pub roles: Vec<RoleGrant>,
}

impl Principal {
    /// The account's grants, typed for the access rules; a role name this version does not
    /// know (granted by a newer one) carries nothing.
    pub fn grants(&self) -> Vec<Grant<Uuid>> {
        self.roles
            .iter()
            .filter_map(|r| {
                Role::parse(&r.role).map(|role| Grant {
                    role,
                    unit: r.unit_id,
                })
            })
            .collect()
    }
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Who.
    pub account_id: Uuid,
    /// Their login name (empty if the account is gone).
    pub username: String,
    /// What was done (`read`).
    pub action: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A new session: the token to give the client (once) and when it expires.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The bearer token.
    pub token: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

const MIN_PASSWORD: usize = 12;

/// How long a principal read from the database is reused at most, revocations aside.
const PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Sessions kept at most; past it the cache starts again empty.
const PRINCIPAL_CACHE_MAX: usize = 10_000;

/// Principals of recent sessions by token hash, with what they were read under: an entry is
/// used only while that is still true (no revocation since, by any process), within
/// [`PRINCIPAL_TTL`] of its read and before the session expires.
#[derive(Debug, Default)]
pub(crate) struct PrincipalCache(Mutex<HashMap<String, CachedPrincipal>>);

/// What a cached principal was read under: the generation of revocations heard while this
/// process listens for them (`crate::changes`), else the revocation epoch read from the
/// database for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Heard(u64),
    Epoch(i64),
}

#[derive(Debug)]
struct CachedPrincipal {
    principal: Principal,
    expires_at: DateTime<Utc>,
    stamp: Stamp,
    read_at: Instant,
}

impl PrincipalCache {
    fn get(&self, hash: &str, stamp: Stamp, now: DateTime<Utc>) -> Option<Principal> {
        let m = self.0.lock().ok()?;
        let c = m.get(hash)?;
        (c.stamp == stamp && c.expires_at > now && c.read_at.elapsed() < PRINCIPAL_TTL)
            .then(|| c.principal.clone())
    }

    fn put(&self, hash: String, principal: Principal, expires_at: DateTime<Utc>, stamp: Stamp) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= PRINCIPAL_CACHE_MAX {
                m.clear();
            }
            m.insert(
                hash,
                CachedPrincipal {
                    principal,
                    expires_at,
                    stamp,
                    read_at: Instant::now(),
                },
            );
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

fn token_hash(token: &str) -> String {
    crate::hex(&Sha256::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(format!("no randomness: {e}"))))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(format!("salt: {e}"))))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(format!("hashing: {e}"))))
}

/// A hash no password matches, checked in place of a missing one so that every login takes
/// the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N1lHhbSNqaqcjE0cIIkhDvURp0+hLh7QdgLyw0pW1NY";

fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        // An account without a password (created by an import): nothing matches, after the
        // same work as a real check.
        Err(_) => {
            let _ = PasswordHash::new(DUMMY_HASH).map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            });
            false
        }
    }
}

fn check_password_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(StoreError::validation(
            format!("Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự."),
            format!("A password needs at least {MIN_PASSWORD} characters."),
        ));
    }
    Ok(())
}

fn bad_credentials() -> StoreError {
    StoreError::Unauthenticated(Text::new(
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    ))
}

impl Accounts<'_> {
    /// Creates an account.
    pub async fn create_account(
        &self,
        username: &str,
        password: &str,
        member_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<AccountRecord> {
        let username = username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
            return Err(StoreError::validation(
                "Tên đăng nhập phải có từ 1 đến 64 ký tự, không có khoảng trắng.",
                "A username must have 1 to 64 characters and no spaces.",
            ));
        }
        check_password_strength(password)?;
        let hash = hash_password(password)?;
        let txn = self.begin_write().await?;
        if account::Entity::find()
            .filter(account::Column::Username.eq(username))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                format!("Tên đăng nhập {username} đã được dùng."),
                format!("The username {username} is already taken."),
            ));
        }
        let m = account::ActiveModel {
            id: Set(Uuid::now_v7()),
            username: Set(username.to_owned()),
            password_hash: Set(hash),
            member_id: Set(member_id),
            disabled: Set(false),
            created_at: Set(now),
            password_changed_at: Set(now),
            email: Set(None),
            search_name: Set(Some(memberflow_workflow::text::search_key(username))),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        tracing::info!(account = %m.id, username = %m.username, "account created");
        Ok(m.into())
    }

    async fn account_by_username(&self, username: &str) -> Result<account::Model> {
        account::Entity::find()
            .filter(account::Column::Username.eq(username))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("account", username))
    }

    /// Checks the password and opens a session lasting `ttl`. A wrong username and a wrong
    /// password give the same error.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<(AccountRecord, NewSession)> {
        let Ok(acc) = self.account_by_username(username.trim()).await else {
            // Spend the same time as a real check, so timing does not tell which names exist.
            let _ = verify_password(password, DUMMY_HASH);
            return Err(bad_credentials());
        };
        // The password is checked for a disabled account too: the same work on every path,
        // so that the time of the answer does not tell that the account exists.
        let password_ok = verify_password(password, &acc.password_hash);
        if acc.disabled || !password_ok {
            return Err(bad_credentials());
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| {
            StoreError::Database(sea_orm::DbErr::Custom(format!("no randomness: {e}")))
        })?;
        let token = crate::hex(&raw);
        let expires_at = now + ttl;
        session::ActiveModel {
            account_id: Set(acc.id),
            token_hash: Set(token_hash(&token)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        tracing::info!(account = %acc.id, "login");
        Ok((acc.into(), NewSession { token, expires_at }))
    }

    /// The principal behind a bearer token, if the session is live. When the session was read
    /// recently: no read at all while this process hears revocations (PostgreSQL,
    /// [`crate::Store::hear_changes`]), else one small read (the revocation epoch). Otherwise
    /// one read of the session, its account and its live roles together.
    pub async fn principal(&self, token: &str, now: DateTime<Utc>) -> Result<Option<Principal>> {
        let hash = token_hash(token);
        let stamp = match self.store.changes.generation(Topic::Auth) {
            Some(g) => Stamp::Heard(g),
            None => Stamp::Epoch(self.auth_epoch().await?),
        };
        if let Some(p) = self.store.principals.get(&hash, stamp, now) {
            return Ok(Some(p));
        }
        let Some((principal, expires_at)) = self.read_principal(&hash).await? else {
            return Ok(None);
        };
        if expires_at <= now {
            return Ok(None);
        }
        self.store
            .principals
            .put(hash, principal.clone(), expires_at, stamp);
        Ok(Some(principal))
    }

    async fn auth_epoch(&self) -> Result<i64> {
        let q = Query::select()
            .column(Alias::new("epoch"))
            .from(Alias::new("auth_epoch"))
            .and_where(Expr::col(Alias::new("id")).eq(1))
            .to_owned();
        Ok(match self.db().query_one(&q).await? {
            Some(row) => row.try_get("", "epoch")?,
            None => 0,
        })
    }

    /// The live session of a token hash with its account (not disabled) and live roles, in
    /// one query; the session's expiry is compared by the caller.
    async fn read_principal(&self, hash: &str) -> Result<Option<(Principal, DateTime<Utc>)>> {
        let s = |c: session::Column| Expr::col((session::Entity, c));
        let a = |c: account::Column| Expr::col((account::Entity, c));
        let r = |c: role_assignment::Column| Expr::col((role_assignment::Entity, c));
        let q = Query::select()
            .expr_as(s(session::Column::ExpiresAt), Alias::new("expires_at"))
            .expr_as(
                s(session::Column::RevokedAt),
                Alias::new("session_revoked_at"),
            )
            .expr_as(a(account::Column::Id), Alias::new("account_id"))
            .expr_as(a(account::Column::Username), Alias::new("username"))
            .expr_as(a(account::Column::MemberId), Alias::new("member_id"))
            .expr_as(a(account::Column::Disabled), Alias::new("disabled"))
            .expr_as(a(account::Column::Email), Alias::new("email"))
            .expr_as(r(role_assignment::Column::Role), Alias::new("role"))
            .expr_as(
                r(role_assignment::Column::UnitId),
                Alias::new("role_unit_id"),
            )
            .from(session::Entity)
            .inner_join(
                account::Entity,
                a(account::Column::Id).equals((session::Entity, session::Column::AccountId)),
            )
            .left_join(
                role_assignment::Entity,
                Condition::all()
                    .add(
                        r(role_assignment::Column::AccountId)
                            .equals((account::Entity, account::Column::Id)),
                    )
                    .add(r(role_assignment::Column::RevokedAt).is_null()),
            )
            .and_where(s(session::Column::TokenHash).eq(hash))
            .order_by(
                (role_assignment::Entity, role_assignment::Column::Id),
                Order::Asc,
            )
            .to_owned();
        let rows = self.db().query_all(&q).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let revoked: Option<DateTime<Utc>> = first.try_get("", "session_revoked_at")?;
        let disabled: bool = first.try_get("", "disabled")?;
        if revoked.is_some() || disabled {
            return Ok(None);
        }
        let expires_at: DateTime<Utc> = first.try_get("", "expires_at")?;
        let account = AccountRecord {
            id: first.try_get("", "account_id")?,
            username: first.try_get("", "username")?,
            member_id: first.try_get("", "member_id")?,
            disabled,
            email: first.try_get("", "email")?,
        };
        let mut roles = Vec::new();
        for row in &rows {
            if let Some(role) = row.try_get::<Option<String>>("", "role")? {
                roles.push(RoleGrant {
                    role,
                    unit_id: row.try_get("", "role_unit_id")?,
                });
            }
        }
        Ok(Some((Principal { account, roles }, expires_at)))
    }

    /// Raises the revocation epoch in the caller's transaction and tells the listening
    /// processes at its commit: every cached principal, in every process, is read again on
    /// its next request.
    pub(crate) async fn bump_auth_epoch(&self, c: &impl sea_orm::ConnectionTrait) -> Result<()> {
        let q = Query::update()
            .table(Alias::new("auth_epoch"))
            .value(Alias::new("epoch"), Expr::col(Alias::new("epoch")).add(1))
            .and_where(Expr::col(Alias::new("id")).eq(1))
            .to_owned();
        c.execute(&q).await?;
        crate::changes::notify(c, Topic::Auth).await?;
        // Here at once (the notification comes back after the commit too): what a request
        // reads meanwhile, before the commit, is kept under a generation that is over.
        self.store.changes.changed(Topic::Auth);
        self.store.principals.clear();
        Ok(())
    }

    /// Revokes the session of `token`.
    pub async fn logout(&self, token: &str, now: DateTime<Utc>) -> Result<()> {
        let txn = self.begin_write().await?;
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
            .filter(session::Column::TokenHash.eq(token_hash(token)))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        self.bump_auth_epoch(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn revoke_all(
        &self,
        c: &impl sea_orm::ConnectionTrait,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
            .filter(session::Column::AccountId.eq(account_id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(c)
            .await?;
        self.bump_auth_epoch(c).await
    }

    /// Changes a password after checking the old one; every session of the account is
    /// revoked, so a stolen token dies with the old password.
    pub async fn change_password(
        &self,
        account_id: Uuid,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        check_password_strength(new)?;
        let txn = self.begin_write().await?;
        let acc = account::Entity::find_by_id(account_id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("account", account_id))?;
        if !verify_password(old, &acc.password_hash) {
            return Err(bad_credentials());
        }
        let mut am: account::ActiveModel = acc.into();
        am.password_hash = Set(hash_password(new)?);
        am.password_changed_at = Set(now);
        am.update(&txn).await?;
        self.revoke_all(&txn, account_id, now).await?;
        txn.commit().await?;
        tracing::info!(account = %account_id, "password changed");
        Ok(())
    }

    /// Disables an account and revokes its sessions.
    pub async fn disable_account(
        &self,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<AccountRecord> {
        let txn = self.begin_write().await?;
        let acc = account::Entity::find()
            .filter(account::Column::Username.eq(username))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("account", username))?;
        let id = acc.id;
        let mut am: account::ActiveModel = acc.into();
        am.disabled = Set(true);
        let m = am.update(&txn).await?;
        self.revoke_all(&txn, id, now).await?;
        txn.commit().await?;
        tracing::info!(account = %id, "account disabled");
        Ok(m.into())
    }

    /// Grants `role` to an account, at `unit` and its subtree (everywhere when `None`).
    pub async fn grant_role(
        &self,
        username: &str,
        role: &str,
        unit: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<RoleGrant> {
        let acc = self.account_by_username(username).await?;
        let parsed = Role::parse(role).ok_or_else(|| {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            StoreError::validation(
                format!(
                    "Không có vai trò `{role}`; các vai trò: {}.",
                    known.join(", ")
                ),
                format!(
                    "There is no role `{role}`; the roles are {}.",
                    known.join(", ")
                ),
            )
        })?;
        if let Some(u) = unit {
            let unit = self.store.tree().unit(u).await?;
            parsed
                .check_unit(unit.kind)
                .map_err(|t| StoreError::Validation(vec![t]))?;
        }
        let txn = self.begin_write().await?;
        role_assignment::ActiveModel {
            account_id: Set(acc.id),
            role: Set(role.to_owned()),
            unit_id: Set(unit),
            created_at: Set(now),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.bump_auth_epoch(&txn).await?;
        txn.commit().await?;
        tracing::info!(account = %acc.id, role, unit = ?unit, "role granted");
        Ok(RoleGrant {
            role: role.to_owned(),
            unit_id: unit,
        })
    }

    /// The live roles of an account.
    pub async fn roles_of(&self, account_id: Uuid) -> Result<Vec<RoleGrant>> {
        Ok(role_assignment::Entity::find()
            .filter(role_assignment::Column::AccountId.eq(account_id))
            .filter(role_assignment::Column::RevokedAt.is_null())
            .order_by_asc(role_assignment::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| RoleGrant {
                role: r.role,
                unit_id: r.unit_id,
            })
            .collect())
    }

    /// Records that `account` did `action` (`read`) on `subject` (`case:<id>`), at `at`.
    pub async fn log_access(
        &self,
        account: Uuid,
        subject: &str,
        action: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        access_log::ActiveModel {
            account_id: Set(account),
            subject: Set(subject.to_owned()),
            action: Set(action.to_owned()),
            at: Set(at),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The access log of `subject`, newest first, at most `limit` lines.
    pub async fn access_log(&self, subject: &str, limit: u64) -> Result<Vec<AccessRecord>> {
        let rows = access_log::Entity::find()
            .filter(access_log::Column::Subject.eq(subject))
            .order_by_desc(access_log::Column::At)
            .order_by_desc(access_log::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.account_id).collect();
        let names: std::collections::HashMap<Uuid, String> = account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|a| (a.id, a.username))
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| AccessRecord {
                username: names.get(&r.account_id).cloned().unwrap_or_default(),
                account_id: r.account_id,
                action: r.action,
                at: r.at,
            })
            .collect())
    }

    /// A page of accounts in login-name order with their live roles and the name of the
    /// member each belongs to: those whose login name or member's name contains `q.search`
    /// (ignoring case and Vietnamese diacritics), after `q.after` or before `q.before` (login
    /// names), at most `q.limit`. Two queries whatever the page: the accounts (read along the
    /// unique index of login names; a search reads the trigram index of login keys on
    /// PostgreSQL and, by name, only the accounts that belong to a member, through the
    /// members' indexed name keys) and their roles.
    pub async fn page(&self, q: &AccountQuery) -> Result<AccountPage> {
        let backwards = q.backwards;
        let a = |c: account::Column| Expr::col((account::Entity, c));
        let mut sel = Query::select()
            .columns([
                (account::Entity, account::Column::Id),
                (account::Entity, account::Column::Username),
                (account::Entity, account::Column::MemberId),
                (account::Entity, account::Column::Disabled),
                (account::Entity, account::Column::Email),
            ])
            .expr_as(
                Expr::col((member::Entity, member::Column::FullName)),
                Alias::new("display_name"),
            )
            .from(account::Entity)
            .left_join(
                member::Entity,
                Expr::col((member::Entity, member::Column::Id))
                    .equals((account::Entity, account::Column::MemberId)),
            )
            .to_owned();
        if let Some(m) = account_matches(q.search.as_deref()) {
            sel.and_where(a(account::Column::Id).in_subquery(m));
        }
        if let Some(after) = &q.after {
            sel.and_where(a(account::Column::Username).gt(after.as_str()));
        }
        if let Some(before) = &q.before {
            sel.and_where(a(account::Column::Username).lt(before.as_str()));
        }
        sel.order_by(
            (account::Entity, account::Column::Username),
            if backwards { Order::Desc } else { Order::Asc },
        )
        .limit(q.limit.saturating_add(1));
        let rows = self.db().query_all(&sel).await?;
        let more = rows.len() as u64 > q.limit;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows
            .iter()
            .take(usize::try_from(q.limit).unwrap_or(usize::MAX))
        {
            found.push((
                AccountRecord {
                    id: row.try_get("", "id")?,
                    username: row.try_get("", "username")?,
                    member_id: row.try_get("", "member_id")?,
                    disabled: row.try_get("", "disabled")?,
                    email: row.try_get("", "email")?,
                },
                row.try_get::<Option<String>>("", "display_name")?,
            ));
        }
        if backwards {
            found.reverse();
        }
        let ids: Vec<Uuid> = found.iter().map(|(a, _)| a.id).collect();
        let mut roles: HashMap<Uuid, Vec<RoleGrant>> = HashMap::new();
        if !ids.is_empty() {
            for g in role_assignment::Entity::find()
                .filter(role_assignment::Column::AccountId.is_in(ids))
                .filter(role_assignment::Column::RevokedAt.is_null())
                .order_by_asc(role_assignment::Column::Id)
                .all(self.db())
                .await?
            {
                roles.entry(g.account_id).or_default().push(RoleGrant {
                    role: g.role,
                    unit_id: g.unit_id,
                });
            }
        }
        Ok(AccountPage {
            accounts: found
                .into_iter()
                .map(|(account, display_name)| AccountListing {
                    roles: roles.remove(&account.id).unwrap_or_default(),
                    account,
                    display_name,
                })
                .collect(),
            more,
        })
    }

    /// How many accounts match `search` (all when `None`), as [`Accounts::page`] does.
    pub async fn count(&self, search: Option<&str>) -> Result<u64> {
        let mut sel = Query::select()
            .expr_as(
                Expr::col((account::Entity, account::Column::Id)).count(),
                Alias::new("n"),
            )
            .from(account::Entity)
            .to_owned();
        if let Some(m) = account_matches(search) {
            sel.and_where(Expr::col((account::Entity, account::Column::Id)).in_subquery(m));
        }
        let n: i64 = match self.db().query_one(&sel).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The account `username` with its live roles, as [`Accounts::page`] lists it.
    pub async fn listing(&self, username: &str) -> Result<AccountListing> {
        let acc = self.account_by_username(username).await?;
        let display_name = match acc.member_id {
            Some(m) => member::Entity::find_by_id(m)
                .one(self.db())
                .await?
                .map(|m| m.full_name),
            None => None,
        };
        let roles = self.roles_of(acc.id).await?;
        Ok(AccountListing {
            account: acc.into(),
            display_name,
            roles,
        })
    }

    /// Sets `username`'s password, as an administrator does (an account an import created
    /// has none); the account's sessions end.
    pub async fn set_password(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<AccountRecord> {
        check_password_strength(password)?;
        let hash = hash_password(password)?;
        let acc = self.account_by_username(username).await?;
        let id = acc.id;
        let mut m: account::ActiveModel = acc.into();
        m.password_hash = Set(hash);
        m.password_changed_at = Set(now);
        let txn = self.begin_write().await?;
        let m = m.update(&txn).await?;
        self.revoke_all(&txn, id, now).await?;
        txn.commit().await?;
        tracing::info!(account = %id, "password set");
        Ok(m.into())
    }

    /// Sets (or clears) the address reminders for `username`'s roles go to.
    pub async fn set_account_email(
        &self,
        username: &str,
        email: Option<&EmailAddress>,
    ) -> Result<AccountRecord> {
        let acc = self.account_by_username(username).await?;
        let mut m: account::ActiveModel = acc.into();
        m.email = Set(email.map(ToString::to_string));
        let txn = self.begin_write().await?;
        let m = m.update(&txn).await?;
        self.bump_auth_epoch(&txn).await?;
        txn.commit().await?;
        Ok(m.into())
    }

    /// Revokes `username`'s grants of `role` at `unit` (everywhere when `None`); returns how
    /// many were live. Their sessions stay, their rights end at once (the revocation epoch
    /// rises, so no process trusts a principal read before).
    pub async fn revoke_role(
        &self,
        username: &str,
        role: &str,
        unit: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let acc = self.account_by_username(username).await?;
        let mut q = role_assignment::Entity::update_many()
            .col_expr(role_assignment::Column::RevokedAt, Expr::value(now))
            .filter(role_assignment::Column::AccountId.eq(acc.id))
            .filter(role_assignment::Column::Role.eq(role))
            .filter(role_assignment::Column::RevokedAt.is_null());
        q = match unit {
            Some(u) => q.filter(role_assignment::Column::UnitId.eq(u)),
            None => q.filter(role_assignment::Column::UnitId.is_null()),
        };
        let txn = self.begin_write().await?;
        let n = q.exec(&txn).await?.rows_affected;
        self.bump_auth_epoch(&txn).await?;
        txn.commit().await?;
        tracing::info!(account = %acc.id, role, unit = ?unit, revoked = n, "role revoked");
        Ok(n)
    }
}
