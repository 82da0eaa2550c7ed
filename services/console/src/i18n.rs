//! The console's words in both languages, and the formats people read (dd/mm/yyyy).

use chrono::NaiveDate;
use memberflow_api::Lang;
use memberflow_workflow::text::Text;
use memberflow_workflow::vocab::{BodyKind, DisciplineForm, MemberStatus, capitalised};

/// `vi` or `en` as the reader's language asks.
pub(crate) fn t(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A date as people read it here: dd/mm/yyyy. Anything that is not an ISO date is shown as
/// it came.
pub(crate) fn date(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}

/// A date typed by a person: dd/mm/yyyy (also d/m/yyyy, with `-` or `.`), or yyyy-mm-dd.
pub(crate) fn parse_date(typed: &str) -> Option<NaiveDate> {
    let s = typed.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// "còn N ngày làm việc" / "quá hạn N ngày làm việc".
pub(crate) fn working_days(lang: Lang, left: i64) -> String {
    match (lang, left) {
        (Lang::Vi, 0) => "hạn hôm nay".into(),
        (Lang::En, 0) => "due today".into(),
        (Lang::Vi, n) if n > 0 => format!("còn {n} ngày làm việc"),
        (Lang::En, 1) => "1 working day left".into(),
        (Lang::En, n) if n > 0 => format!("{n} working days left"),
        (Lang::Vi, n) => format!("quá hạn {} ngày làm việc", -n),
        (Lang::En, -1) => "1 working day overdue".into(),
        (Lang::En, n) => format!("{} working days overdue", -n),
    }
}

/// A percentage (given in percent) with a decimal comma in Vietnamese ("3,45%"), a point in
/// English.
pub(crate) fn percent(lang: Lang, percent: f64) -> String {
    let s = format!("{percent:.2}%");
    match lang {
        Lang::Vi => s.replace('.', ","),
        Lang::En => s,
    }
}

/// The label of a value of an enumerated input, for the choices the definitions use most
/// (forms, bodies, levels, outcomes); other values are shown with spaces for underscores.
pub(crate) fn choice(lang: Lang, value: &str) -> String {
    if let Some(form) = DisciplineForm::parse(value) {
        return heading(lang, &form.heading());
    }
    if let Some(kind) = BodyKind::parse(value) {
        return kind.label().get(lang).to_owned();
    }
    let membership = match value {
        "official" => Some(MemberStatus::Official),
        "probationary" => Some(MemberStatus::Probationary),
        _ => None,
    };
    if let Some(status) = membership {
        return heading(lang, &status.label());
    }
    let (vi, en) = match value {
        "none" => ("Không", "None"),
        "grassroots" => ("Cơ sở", "Grassroots"),
        "superior" => ("Cấp trên trực tiếp", "Direct superior"),
        "province" => ("Tỉnh", "Province"),
        "central" => ("Trung ương", "Central"),
        "upheld" => ("Giữ nguyên", "Upheld"),
        "reduced" => ("Giảm hình thức", "Reduced"),
        "increased" => ("Tăng hình thức", "Increased"),
        "annulled" => ("Xóa kỷ luật", "Annulled"),
        "primary" => ("Tiểu học", "Primary"),
        "lower_secondary" => ("Trung học cơ sở", "Lower secondary"),
        "upper_secondary" => ("Trung học phổ thông", "Upper secondary"),
        "vocational" => ("Trung cấp, nghề", "Vocational"),
        "university" => ("Đại học", "University"),
        "postgraduate" => ("Sau đại học", "Postgraduate"),
        other => return other.replace('_', " "),
    };
    t(lang, vi, en).to_owned()
}

/// A label of the vocabulary as a heading shows it: capitalised.
fn heading(lang: Lang, label: &Text) -> String {
    capitalised(label.get(lang))
}

/// A member status (the API's enum) for people.
pub(crate) fn status(lang: Lang, s: &str) -> String {
    match MemberStatus::parse(s) {
        Some(status) => heading(lang, &status.label()),
        None => t(lang, "Không rõ", "Unknown").to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_and_shown_day_first() {
        assert_eq!(date("2023-06-30"), "30/06/2023");
        let d = NaiveDate::from_ymd_opt(2023, 6, 3);
        assert_eq!(parse_date("03/06/2023"), d);
        assert_eq!(parse_date("3/6/2023"), d);
        assert_eq!(parse_date("2023-06-03"), d);
        assert_eq!(parse_date("31/02/2023"), None);
        assert_eq!(parse_date("03/06/23"), None);
        assert_eq!(parse_date("hôm qua"), None);
    }

    #[test]
    fn working_days_are_named_as_such() {
        assert_eq!(working_days(Lang::Vi, 12), "còn 12 ngày làm việc");
        assert_eq!(working_days(Lang::Vi, -3), "quá hạn 3 ngày làm việc");
        assert_eq!(working_days(Lang::En, 1), "1 working day left");
        assert_eq!(percent(Lang::Vi, 3.45), "3,45%");
    }
}
