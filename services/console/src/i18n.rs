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
    if value == "strike_off" {
        // The committee's other outcome beside recognition: the vocabulary's status.
        return heading(lang, &MemberStatus::StruckOff.label());
    }
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
        _ => match more_choice(value) {
            Some(pair) => pair,
            None => return value.replace('_', " "),
        },
    };
    t(lang, vi, en).to_owned()
}

/// The labels of the other values the definitions' enumerated inputs take (subjects, grounds,
/// sources, reasons, categories, conclusions, outcomes of a proposal).
fn more_choice(value: &str) -> Option<(&'static str, &'static str)> {
    Some(match value {
        "member" => ("Đảng viên", "Member"),
        "organisation" => ("Tổ chức đảng", "Party organisation"),
        "pregnant" => ("Đang mang thai", "Pregnant"),
        "hospitalised" => ("Ốm nặng đang điều trị nội trú", "Seriously ill in hospital"),
        "nursing_infant" => (
            "Đang nuôi con dưới 12 tháng tuổi",
            "Raising a child under 12 months",
        ),
        "supervision" => ("Giám sát", "Supervision"),
        "inspection" => ("Kiểm tra", "Inspection"),
        "complaint" => ("Khiếu nại", "Complaint"),
        "denunciation" => ("Tố cáo", "Denunciation"),
        "state_notice" => ("Thông báo của cơ quan nhà nước", "Notice from a state body"),
        "abandoned_activities" => ("Bỏ sinh hoạt đảng", "Abandoned party activities"),
        "applied_to_leave" => ("Xin ra khỏi Đảng", "Applied to leave the Party"),
        "internal_disunity" => ("Gây mất đoàn kết nội bộ", "Caused internal disunity"),
        "corruption_conviction" => ("Bị kết án về tội tham nhũng", "Convicted of corruption"),
        "serious_crime_conviction" => (
            "Bị kết án về tội nghiêm trọng",
            "Convicted of a serious crime",
        ),
        "struck_off_other" => ("Bị xóa tên vì lý do khác", "Struck off for another reason"),
        "expelled_other" => ("Bị khai trừ vì lý do khác", "Expelled for another reason"),
        "other" => ("Lý do khác", "Other"),
        "meets_standard" => ("Đủ tiêu chuẩn", "Meets the standard"),
        "does_not_meet" => ("Không đủ tiêu chuẩn", "Does not meet the standard"),
        "youth_union" => (
            "Đoàn Thanh niên Cộng sản Hồ Chí Minh",
            "Ho Chi Minh Communist Youth Union",
        ),
        "trade_union" => ("Công đoàn", "Trade union"),
        "recognise" => (
            "Công nhận đảng viên chính thức",
            "Recognise as an official member",
        ),
        "skipped_meetings" => (
            "Bỏ sinh hoạt đảng không có lý do chính đáng",
            "Skipped party meetings without good reason",
        ),
        "unpaid_dues" => ("Không đóng đảng phí", "Party dues unpaid"),
        "ordinary" => ("Thông thường", "Ordinary"),
        "internal_political_security" => ("Bảo vệ chính trị nội bộ", "Internal political security"),
        "defence_security_foreign_affairs" => (
            "Quốc phòng, an ninh, đối ngoại",
            "Defence, security and foreign affairs",
        ),
        "unlawful_diplomas" => (
            "Sử dụng văn bằng, chứng chỉ không hợp pháp",
            "Unlawful diplomas or certificates",
        ),
        "pending_or_decided_higher" => (
            "Cấp trên đang hoặc đã giải quyết",
            "Before or settled by a higher level",
        ),
        "court_sentence" => (
            "Đã bị tòa án tuyên phạt từ cải tạo không giam giữ trở lên",
            "Sentenced by a court (non-custodial or heavier)",
        ),
        "on_behalf" => ("Khiếu nại hộ người khác", "Filed on someone else's behalf"),
        "before_written_decision" => (
            "Khiếu nại khi chưa nhận quyết định bằng văn bản",
            "Filed before the written decision was received",
        ),
        "refused_to_receive" => (
            "Không nhận quyết định kỷ luật",
            "Refused to receive the decision",
        ),
        "transferred_out" => (
            "Đã chuyển sinh hoạt ra khỏi tổ chức đảng trước khi khiếu nại",
            "Transferred out before appealing",
        ),
        "suspended" => ("Đình chỉ", "Suspended"),
        "disciplined" => ("Kỷ luật", "Disciplined"),
        "transfer_decision" => (
            "Có quyết định điều động, chuyển công tác",
            "Transfer decision",
        ),
        "retirement" => ("Nghỉ hưu", "Retirement"),
        "incapacity" => ("Nghỉ mất sức", "Incapacity"),
        "left_job" => ("Thôi việc", "Left the job"),
        "demobilised" => ("Xuất ngũ, phục viên", "Demobilised"),
        "moved_residence" => ("Thay đổi nơi cư trú", "Moved residence"),
        _ => return None,
    })
}

/// What a deadline or reminder of the definitions is, in the reader's language, from its key
/// (`admission_decision`) or the key of its reminder's row (`reminder:<case>:<key>:<day>`,
/// `recurring:<case>:<key>`); a key the console does not know is shown with spaces.
pub(crate) fn deadline(lang: Lang, key: &str) -> String {
    let parts: Vec<&str> = key.split(':').collect();
    let key = match parts.as_slice() {
        ["reminder", _, k, _] | ["recurring", _, k] => k,
        _ => key,
    };
    let (vi, en) = match key {
        "admission_decision" => ("Hạn ra quyết định kết nạp", "Admission decision due"),
        "admission_decision_soon" => (
            "Sắp đến hạn ra quyết định kết nạp",
            "Admission decision due soon",
        ),
        "appeal_pending" => ("Khiếu nại đang chờ giải quyết", "Appeal awaiting a ruling"),
        "appeal_resolution" => ("Hạn giải quyết khiếu nại", "Appeal ruling due"),
        "appeal_window" => ("Hạn khiếu nại", "Appeal window"),
        "awareness_certificate" => (
            "Hạn của giấy chứng nhận bồi dưỡng nhận thức về Đảng",
            "Awareness course certificate valid until",
        ),
        "awareness_certificate_warning" => (
            "Giấy chứng nhận bồi dưỡng nhận thức về Đảng sắp hết hạn",
            "Awareness course certificate expiring",
        ),
        "ceremony" => ("Hạn tổ chức lễ kết nạp", "Admission ceremony due"),
        "ceremony_soon" => (
            "Sắp đến hạn tổ chức lễ kết nạp",
            "Admission ceremony due soon",
        ),
        "deferral_end" => (
            "Hết thời gian tạm hoãn xem xét kỷ luật",
            "End of the deferral",
        ),
        "deferral_end_soon" => (
            "Sắp hết thời gian tạm hoãn xem xét kỷ luật",
            "Deferral ending soon",
        ),
        "deferral_review" => (
            "Xem xét lại việc tạm hoãn xem xét kỷ luật",
            "Deferral review",
        ),
        "disputed_appeal_pending" => (
            "Chưa quyết định thụ lý khiếu nại",
            "Admissibility of the appeal not yet decided",
        ),
        "dissolution_appeal_window" => (
            "Hạn khiếu nại quyết định giải tán",
            "Appeal window against the dissolution",
        ),
        "expulsion_appeal_window" => (
            "Hạn khiếu nại quyết định khai trừ",
            "Appeal window against the expulsion",
        ),
        "inspection_pending" => (
            "Hồ sơ đang trong giai đoạn kiểm tra",
            "Inspection under way",
        ),
        "lapse" => ("Quyết định kỷ luật hết hiệu lực", "The discipline lapses"),
        "member_history" => ("Hạn hoàn thành lý lịch đảng viên", "Member's history due"),
        "probation" => ("Hết thời kỳ dự bị", "End of probation"),
        "proposal_pending" => (
            "Chờ cấp có thẩm quyền quyết định kỷ luật",
            "Awaiting the competent body's decision",
        ),
        "recognition_decision" => (
            "Hạn ra quyết định công nhận đảng viên chính thức",
            "Recognition decision due",
        ),
        "recognition_vote" => (
            "Hạn chi bộ xét công nhận đảng viên chính thức",
            "Branch recognition vote due",
        ),
        "removal_proposal_pending" => (
            "Chờ xét đề nghị xóa tên",
            "Removal proposal awaiting a decision",
        ),
        "self_criticism_pending" => ("Chờ bản tự kiểm điểm", "Awaiting the self-criticism"),
        "transfer" => ("Hạn chuyển sinh hoạt đảng chính thức", "Transfer due"),
        "transfer_due_soon" => (
            "Sắp hết thời hạn chuyển sinh hoạt đảng",
            "Transfer due soon",
        ),
        "verification_pending" => (
            "Hồ sơ đang chờ thẩm tra lý lịch",
            "Background verification pending",
        ),
        "written_decision_pending" => (
            "Chờ ban hành quyết định bằng văn bản",
            "Written decision pending",
        ),
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

    /// The definitions' files, by name.
    fn definitions() -> [(&'static str, &'static str); 5] {
        [
            (
                "admission",
                include_str!("../../../schemas/workflows/admission.toml"),
            ),
            (
                "transfer",
                include_str!("../../../schemas/workflows/transfer.toml"),
            ),
            (
                "discipline_member",
                include_str!("../../../schemas/workflows/discipline_member.toml"),
            ),
            (
                "discipline_organization",
                include_str!("../../../schemas/workflows/discipline_organization.toml"),
            ),
            (
                "removal",
                include_str!("../../../schemas/workflows/removal.toml"),
            ),
        ]
    }

    /// Every value of every enumerated input of the definitions, as each TOML file spells it.
    fn enum_values() -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (file, text) in definitions() {
            for line in text.lines().filter(|l| l.contains("type = \"enum\"")) {
                let values = line
                    .split("values = [")
                    .nth(1)
                    .unwrap()
                    .split(']')
                    .next()
                    .unwrap();
                for v in values.split(',') {
                    out.push((file, v.trim().trim_matches('"').to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn every_choice_of_the_definitions_is_named_in_both_languages() {
        let values = enum_values();
        assert!(values.len() > 100, "{values:?}");
        let mut raw = Vec::new();
        for (file, v) in &values {
            let (vi, en) = (choice(Lang::Vi, v), choice(Lang::En, v));
            // A value shown as its code (underscores as spaces) is English in a Vietnamese page.
            if vi == v.replace('_', " ") || en == v.replace('_', " ") || vi.is_empty() {
                raw.push(format!("{file}: {v}"));
            }
        }
        raw.sort();
        raw.dedup();
        assert!(raw.is_empty(), "choices shown as their code: {raw:#?}");
        assert_eq!(
            choice(Lang::Vi, "youth_union"),
            "Đoàn Thanh niên Cộng sản Hồ Chí Minh"
        );
        assert_eq!(choice(Lang::Vi, "reprimand"), "Khiển trách");
        assert_eq!(choice(Lang::Vi, "not_a_value"), "not a value");
    }

    #[test]
    fn every_deadline_and_reminder_of_the_definitions_is_named_in_both_languages() {
        let mut keys = Vec::new();
        for (file, text) in definitions() {
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                if line == "[[state.deadline]]" || line == "[[state.reminder]]" {
                    let next = lines.next().unwrap();
                    let key = next.strip_prefix("key = ").unwrap().trim_matches('"');
                    keys.push((file, key.to_owned()));
                }
            }
        }
        assert!(keys.len() > 40, "{keys:?}");
        let mut raw: Vec<String> = keys
            .iter()
            .filter(|(_, k)| {
                deadline(Lang::Vi, k) == k.replace('_', " ")
                    || deadline(Lang::En, k) == k.replace('_', " ")
            })
            .map(|(f, k)| format!("{f}: {k}"))
            .collect();
        raw.dedup();
        assert!(raw.is_empty(), "deadlines shown as their key: {raw:#?}");
        // A reminder's row is named by the reminder, never by its case id or ISO day.
        assert_eq!(
            deadline(
                Lang::Vi,
                "reminder:01a24269-e9d3-7764-add8-a202116f0be5:admission_decision_soon:2025-12-05"
            ),
            "Sắp đến hạn ra quyết định kết nạp"
        );
        assert_eq!(
            deadline(
                Lang::En,
                "recurring:01a24269-e9d3-7764-add8-a202116f0be5:deferral_review"
            ),
            "Deferral review"
        );
        assert_eq!(
            deadline(Lang::Vi, "admission_decision"),
            "Hạn ra quyết định kết nạp"
        );
    }

    #[test]
    fn working_days_are_named_as_such() {
        assert_eq!(working_days(Lang::Vi, 12), "còn 12 ngày làm việc");
        assert_eq!(working_days(Lang::Vi, -3), "quá hạn 3 ngày làm việc");
        assert_eq!(working_days(Lang::En, 1), "1 working day left");
        assert_eq!(percent(Lang::Vi, 3.45), "3,45%");
    }
}
