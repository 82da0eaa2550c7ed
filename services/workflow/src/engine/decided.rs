//! What a discipline case decided, as the member concerned is told it (D38) and may appeal
//! against it (P1–P4): the form, the decision's number and date, the body that decided, the
//! day the member received it, the last day to appeal and the lapse date — never the votes nor
//! what the bodies recorded. Pure: read from the case's facts and deadlines; the API shows it
//! (`Case.decision`) and the worker's mail states it (placeholder `decision`).

use chrono::NaiveDate;

use super::case::CaseSnapshot;
use super::period::fmt_date;
use super::value::Value;
use crate::text::{Lang, Text};

/// The deadlines that are a decision's appeal window (P1).
const APPEAL_WINDOWS: [&str; 2] = ["appeal_window", "expulsion_appeal_window"];

/// A discipline decided, as its subject reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionSummary {
    /// The form (`reprimand`, `warning`, `removal`, `expulsion`, `dissolution`).
    pub form: String,
    /// The decision's number.
    pub number: Option<String>,
    /// The day it was decided (or ruled on appeal).
    pub decided_on: Option<NaiveDate>,
    /// The deciding body: kind and level (`branch`, `branch`; `standing_committee`, `superior`).
    pub body: Option<(String, String)>,
    /// The day the member received it (the appeal window counts from it, P1).
    pub received_on: Option<NaiveDate>,
    /// The last day to appeal, while the window is open (P1).
    pub appeal_due_by: Option<NaiveDate>,
    /// The day it lapses (C1), once known.
    pub lapses_on: Option<NaiveDate>,
    /// After a removal from post, the first day the member may again be elected to a
    /// committee or appointed to an equivalent or higher post (C3, `election_bar_end`).
    pub election_barred_until: Option<NaiveDate>,
}

impl DecisionSummary {
    /// The decision of a case, once there is one: a form voted but not yet decided (no number,
    /// no date) is nothing the member is told yet.
    pub fn of(case: &CaseSnapshot) -> Option<Self> {
        let text = |k: &str| match case.facts.get(k) {
            Some(Value::Text(t)) if !t.is_empty() => Some(t.clone()),
            _ => None,
        };
        let date = |k: &str| case.facts.get(k).and_then(Value::as_date);
        let form = text("discipline_form")?;
        let number = text("decision_number");
        let decided_on = date("decision_date").or_else(|| date("appeal_ruling_date"));
        if number.is_none() && decided_on.is_none() {
            return None;
        }
        Some(DecisionSummary {
            number,
            decided_on,
            body: text("voting_body").zip(text("voting_level")),
            received_on: date("decision_received_date"),
            appeal_due_by: APPEAL_WINDOWS
                .iter()
                .find_map(|k| case.deadlines.get(*k))
                .map(super::case::DeadlineRecord::effective_due),
            lapses_on: date("lapse_date"),
            election_barred_until: if form == "removal" {
                date("election_bar_end")
            } else {
                None
            },
            form,
        })
    }

    /// The form, in words.
    pub fn form_label(&self) -> Text {
        crate::violations::form_label(&self.form)
    }

    /// The deciding body, in words.
    pub fn body_label(&self) -> Option<Text> {
        self.body
            .as_ref()
            .map(|(kind, level)| crate::vocab::body_label(kind, level))
    }

    /// The member's appeal rights (P1, P2, P4): to whom, within when, and that the decision
    /// stays in force meanwhile.
    pub fn appeal_rights(&self) -> Text {
        let (due_vi, due_en) = match self.appeal_due_by {
            Some(d) => (
                format!(" (hạn cuối: {})", fmt_date(d)),
                format!(" (last day: {})", fmt_date(d)),
            ),
            None => (String::new(), String::new()),
        };
        Text::new(
            format!(
                "Nếu không đồng ý, đồng chí có quyền khiếu nại lên tổ chức đảng cấp trên trong thời hạn một tháng kể từ ngày nhận quyết định{due_vi} (P1); đơn do chính đồng chí ký (P4). Trong thời gian chờ giải quyết, quyết định vẫn có hiệu lực và phải được chấp hành (P2)."
            ),
            format!(
                "If you disagree, you may appeal to the superior party organisation within one month of receiving the decision{due_en} (P1); the appeal is signed by you yourself (P4). While it is pending the decision stays in force and must be complied with (P2)."
            ),
        )
    }

    /// The decision as lines of text in `lang`, for a mail.
    pub fn describe(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let mut lines = vec![format!(
            "{}: {}",
            if vi {
                "Hình thức kỷ luật"
            } else {
                "Form"
            },
            self.form_label().get(lang)
        )];
        if let Some(n) = &self.number {
            lines.push(format!(
                "{}: {n}",
                if vi {
                    "Số quyết định"
                } else {
                    "Decision number"
                }
            ));
        }
        if let Some(d) = self.decided_on {
            lines.push(format!(
                "{}: {}",
                if vi {
                    "Ngày quyết định"
                } else {
                    "Decided on"
                },
                fmt_date(d)
            ));
        }
        if let Some(b) = self.body_label() {
            lines.push(format!(
                "{}: {}",
                if vi {
                    "Cấp quyết định"
                } else {
                    "Decided by"
                },
                b.get(lang)
            ));
        }
        if let Some(d) = self.received_on {
            lines.push(format!(
                "{}: {}",
                if vi {
                    "Ngày nhận quyết định"
                } else {
                    "Received on"
                },
                fmt_date(d)
            ));
        }
        if let Some(d) = self.election_barred_until {
            lines.push(if vi {
                format!(
                    "Không được bầu vào cấp ủy, không được bổ nhiệm chức vụ tương đương và cao hơn trước ngày {} (C3)",
                    fmt_date(d)
                )
            } else {
                format!(
                    "Not elected to a committee nor appointed to an equivalent or higher post before {} (C3)",
                    fmt_date(d)
                )
            });
        }
        if let Some(d) = self.lapses_on {
            lines.push(format!(
                "{}: {}",
                if vi {
                    "Tự động hết hiệu lực từ"
                } else {
                    "Lapses on"
                },
                fmt_date(d)
            ));
        }
        lines.push(self.appeal_rights().get(lang).to_owned());
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> DecisionSummary {
        DecisionSummary {
            form: "warning".into(),
            number: Some("05-QĐ/HU".into()),
            decided_on: NaiveDate::from_ymd_opt(2026, 3, 8),
            body: Some(("standing_committee".into(), "superior".into())),
            received_on: NaiveDate::from_ymd_opt(2026, 3, 9),
            appeal_due_by: NaiveDate::from_ymd_opt(2026, 4, 22),
            lapses_on: NaiveDate::from_ymd_opt(2027, 3, 8),
            election_barred_until: None,
        }
    }

    #[test]
    fn d38_p1_the_decision_is_stated_in_vietnamese_by_default_and_in_english() {
        let vi = decision().describe(Lang::Vi);
        assert!(vi.contains("Hình thức kỷ luật: Cảnh cáo"), "{vi}");
        assert!(vi.contains("Số quyết định: 05-QĐ/HU"), "{vi}");
        assert!(vi.contains("Ngày quyết định: 08/03/2026"), "{vi}");
        assert!(vi.contains("hạn cuối: 22/04/2026"), "{vi}");
        let en = decision().describe(Lang::En);
        assert!(en.contains("Form: warning"), "{en}");
        assert!(en.contains("Decision number: 05-QĐ/HU"), "{en}");
        assert!(
            en.contains("Decided by: the standing committee at superior level"),
            "{en}"
        );
        assert!(en.contains("last day: 22/04/2026"), "{en}");
    }
}
