//! Who receives a mail addressed to a role.
//!
//! Until user accounts carry e-mail addresses, addresses come from configuration
//! (`[mail.recipients]`): a key is a role at a level (`secretary@branch`), a role at any level
//! (`secretary`) or `default`, looked up in that order. A mail whose role has no address is a
//! dead letter with a message naming the role, visible through the API, and can be requeued
//! once the configuration has it.

use std::collections::BTreeMap;

use lettre::message::Mailbox;
use memberflow_workflow::engine::RoleRef;

/// The addresses of roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    by_key: BTreeMap<String, Mailbox>,
}

impl Recipients {
    /// Parses `key = address` pairs, reporting every bad address at once.
    pub fn new<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<String>> {
        let mut by_key = BTreeMap::new();
        let mut problems = Vec::new();
        for (key, addr) in pairs {
            match addr.trim().parse::<Mailbox>() {
                Ok(m) => {
                    by_key.insert(key.trim().to_owned(), m);
                }
                Err(e) => problems.push(format!(
                    "mail.recipients.{key}: `{addr}` is not an e-mail address ({e})"
                )),
            }
        }
        if problems.is_empty() {
            Ok(Self { by_key })
        } else {
            Err(problems)
        }
    }

    /// The address for `to`: `role@level`, then `role`, then `default`.
    pub fn resolve(&self, to: &RoleRef) -> Option<&Mailbox> {
        self.by_key
            .get(&to.to_string())
            .or_else(|| self.by_key.get(&to.role))
            .or_else(|| self.by_key.get("default"))
    }

    /// Whether no address is configured at all.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use memberflow_workflow::vocab::RoleLevel;

    use super::*;

    #[test]
    fn the_most_specific_key_wins() {
        let r = Recipients::new([
            ("secretary@branch", "cb@example.vn"),
            ("secretary", "bt@example.vn"),
            ("default", "vp@example.vn"),
        ])
        .unwrap();
        let addr = |role: RoleRef| r.resolve(&role).unwrap().email.to_string();
        assert_eq!(
            addr(RoleRef::at("secretary", RoleLevel::Branch)),
            "cb@example.vn"
        );
        assert_eq!(
            addr(RoleRef::at("secretary", RoleLevel::Grassroots)),
            "bt@example.vn"
        );
        assert_eq!(addr(RoleRef::anywhere("chair")), "vp@example.vn");
        assert!(
            Recipients::default()
                .resolve(&RoleRef::anywhere("x"))
                .is_none()
        );
    }

    #[test]
    fn bad_addresses_are_all_reported() {
        let e = Recipients::new([("a", "nope"), ("b", "ok@example.vn"), ("c", "@@")]).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("mail.recipients.a"), "{e:?}");
    }
}
