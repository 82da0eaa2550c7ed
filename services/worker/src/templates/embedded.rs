//! The mail templates built into the binary: a deployment without a `schemas/` directory (or
//! with one that has no `mail/`) still has the committed texts. A test checks that this list
//! matches `schemas/mail/`.

/// A template kind's two files, Vietnamese then English.
macro_rules! kind {
    ($k:literal) => {
        (
            concat!("mail/", $k, ".vi.txt"),
            include_str!(concat!("../../../../schemas/mail/", $k, ".vi.txt")),
            concat!("mail/", $k, ".en.txt"),
            include_str!(concat!("../../../../schemas/mail/", $k, ".en.txt")),
        )
    };
}

/// Every kind's files: (Vietnamese name, text, English name, text). The footer is a kind of
/// its own, `footer`.
const KINDS: &[(&str, &str, &str, &str)] = &[
    kind!("footer"),
    kind!("card.collect"),
    kind!("discipline.consequences"),
    kind!("admission.ceremony_due_soon"),
    kind!("admission.ceremony_overdue"),
    kind!("admission.certificate_expired"),
    kind!("admission.certificate_expiring"),
    kind!("admission.decision_due_soon"),
    kind!("admission.decision_issued"),
    kind!("admission.decision_overdue"),
    kind!("admission.member_history_overdue"),
    kind!("admission.probation_ended"),
    kind!("admission.recognised"),
    kind!("admission.recognition_decision_overdue"),
    kind!("admission.recognition_vote_overdue"),
    kind!("admission.refused"),
    kind!("admission.struck_off"),
    kind!("admission.verification_pending"),
    kind!("digest.weekly"),
    kind!("discipline.annulled"),
    kind!("discipline.appeal_disputed"),
    kind!("discipline.appeal_filed"),
    kind!("discipline.appeal_overdue"),
    kind!("discipline.appeal_pending"),
    kind!("discipline.appeal_ruled"),
    kind!("discipline.decided"),
    kind!("discipline.deferral_ended"),
    kind!("discipline.deferral_ending"),
    kind!("discipline.deferral_review"),
    kind!("discipline.disputed_appeal_pending"),
    kind!("discipline.dissolution_notified"),
    kind!("discipline.expulsion_notified"),
    kind!("discipline.inspection_pending"),
    kind!("discipline.lapsed"),
    kind!("discipline.not_disciplined"),
    kind!("discipline.notified"),
    kind!("discipline.proposal_pending"),
    kind!("discipline.proposed"),
    kind!("discipline.self_criticism_pending"),
    kind!("discipline.time_barred"),
    kind!("discipline.written_decision_pending"),
    kind!("meeting.monthly"),
    kind!("meeting.thematic"),
    kind!("rating.annual"),
    kind!("removal.annulled"),
    kind!("removal.appeal_filed"),
    kind!("removal.appeal_pending"),
    kind!("removal.appeal_ruled"),
    kind!("removal.decided"),
    kind!("removal.declined"),
    kind!("removal.disputed_appeal_pending"),
    kind!("removal.notified"),
    kind!("removal.proposal_pending"),
    kind!("removal.written_decision_pending"),
    kind!("report.admission_target"),
    kind!("transfer.due_soon"),
    kind!("transfer.overdue"),
];

/// The files, by name relative to the schemas directory (`mail/digest.weekly.vi.txt`), with
/// their text.
pub fn files() -> Vec<(String, String)> {
    KINDS
        .iter()
        .flat_map(|(vn, vt, en, et)| [(*vn, *vt), (*en, *et)])
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect()
}
