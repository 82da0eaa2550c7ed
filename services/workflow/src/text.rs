//! Bilingual user-facing text: Vietnamese by default, English available.

use serde::{Deserialize, Serialize};

/// A message for people, in Vietnamese (the default) and English.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    /// Vietnamese, with its diacritics.
    pub vi: String,
    /// English.
    pub en: String,
}

/// The language a user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Picks the language from an HTTP `Accept-Language` value: English when English comes
    /// before Vietnamese, Vietnamese otherwise.
    pub fn from_accept_language(header: &str) -> Self {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("vi") {
                return Lang::Vi;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Vi
    }
}

impl Text {
    /// A text from its two languages.
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            vi: vi.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// The key a name is searched by: lower case, without Vietnamese diacritics (`đ` is `d`),
/// single spaces. "Nguyễn Văn A" and "nguyen van a" have the same key, so a search typed
/// without diacritics, or in other case, finds the name.
pub fn search_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(fold_letter(c));
        }
    }
    out
}

/// A Vietnamese letter without its marks (tone and vowel marks, `đ`).
fn fold_letter(c: char) -> char {
    const FOLDS: &[(char, &str)] = &[
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    if c.is_ascii() {
        return c;
    }
    FOLDS
        .iter()
        .find(|(_, marked)| marked.contains(c))
        .map_or(c, |(plain, _)| *plain)
}

#[cfg(test)]
mod search_key_tests {
    use super::search_key;

    #[test]
    fn vietnamese_names_fold_to_plain_lower_case() {
        assert_eq!(search_key("Nguyễn Văn  A"), "nguyen van a");
        assert_eq!(search_key("ĐẶNG THỊ Ửng"), "dang thi ung");
        assert_eq!(search_key("Trần Quốc Toản"), search_key("tran quoc toan"));
        assert_eq!(search_key("Lê Hữu Đức"), "le huu duc");
    }
}
