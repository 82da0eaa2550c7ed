//! E-mail addresses, parsed at the edge: what the registry and accounts store is an address a
//! mail server will accept in form (one `@`, a local part, a domain with a dot, no spaces), so
//! a typo is refused when it is entered rather than found when a reminder bounces.

use std::fmt;

use crate::text::Text;

/// A syntactically valid e-mail address, trimmed, domain in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses `s`, or says (in both languages) why it is not an address.
    pub fn parse(s: &str) -> Result<Self, Text> {
        let s = s.trim();
        let bad = || {
            Text::new(
                format!("`{s}` không phải là địa chỉ thư điện tử."),
                format!("`{s}` is not an e-mail address."),
            )
        };
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_at_the_edge() {
        assert_eq!(
            EmailAddress::parse(" Lan.Nguyen@HauGiang.Dcs.VN ")
                .unwrap()
                .as_str(),
            "Lan.Nguyen@haugiang.dcs.vn"
        );
        for bad in [
            "",
            "lan",
            "lan@",
            "@x.vn",
            "lan@vn",
            "lan @x.vn",
            "a@b@c.vn",
            "lan@x..vn",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
