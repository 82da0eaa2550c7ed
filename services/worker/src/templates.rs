//! Mail templates: one per name that the workflow definitions use (`template = "..."` in
//! `schemas/workflows/*.toml`), plus the periodic jobs' own, each in Vietnamese (the default)
//! and English.
//!
//! A template is a subject and a body with `{placeholders}`; [`render`] fills them from
//! [`Vars`]. The placeholders a template may use are listed in [`PLACEHOLDERS`]; a test checks
//! every template against that list and every definition's template names against
//! [`template_names`], which `memberflow check` can pass to the core as its list of known
//! templates.

use std::collections::BTreeMap;

use memberflow_workflow::text::Lang;

/// A subject and a body in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Subject line.
    pub subject: &'static str,
    /// Body (plain text).
    pub body: &'static str,
}

/// A template in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Its name, as definitions write it (`admission.decision_due_soon`).
    pub name: &'static str,
    /// Vietnamese.
    pub vi: Part,
    /// English.
    pub en: Part,
}

/// A rendered mail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Body, with the footer.
    pub body: String,
}

/// The values of the placeholders.
pub type Vars = BTreeMap<&'static str, String>;

/// The placeholders templates may use:
/// `case` (title), `unit` (name and code), `state`, `due` (the case's earliest deadline, or
/// the deadline concerned), `date` (the day of the reminder), `rule` (rule id), `items` (a
/// digest's lines), `count`, `week`, `month`, `year`, `members`, `admitted`, `target_low`,
/// `target_high`, `on`, `period` (a quarter `2026-Q2` or a year), `decision` (the discipline a
/// case decided, as its member is told it: form, number, date, body, receipt, lapse and the
/// appeal rights, one per line).
pub const PLACEHOLDERS: &[&str] = &[
    "decision",
    "period",
    "case",
    "unit",
    "state",
    "due",
    "date",
    "rule",
    "items",
    "count",
    "week",
    "month",
    "year",
    "members",
    "admitted",
    "target_low",
    "target_high",
    "on",
];

const FOOTER_VI: &str =
    "\n\n--\nThư tự động của hệ thống memberflow. Vui lòng không trả lời thư này.\n";
const FOOTER_EN: &str = "\n\n--\nAn automatic message from memberflow. Please do not reply.\n";

/// A template from its four texts.
const fn t(
    name: &'static str,
    vi_subject: &'static str,
    vi_body: &'static str,
    en_subject: &'static str,
    en_body: &'static str,
) -> Template {
    Template {
        name,
        vi: Part {
            subject: vi_subject,
            body: vi_body,
        },
        en: Part {
            subject: en_subject,
            body: en_body,
        },
    }
}

/// Every template.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "admission.certificate_expiring",
        vi: Part {
            subject: "Giấy chứng nhận bồi dưỡng nhận thức về Đảng sắp hết hạn: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng trong hồ sơ “{case}” \
                   sắp hết giá trị (A2: 60 tháng kể từ ngày cấp). Nếu chưa kịp xét kết nạp, \
                   cần cử quần chúng học lại để được cấp giấy chứng nhận mới.\n\n\
                   Hạn gần nhất của hồ sơ: {due}.",
        },
        en: Part {
            subject: "Party awareness course certificate about to expire: {case}",
            body: "To the secretary of {unit},\n\n\
                   The party awareness course certificate in case “{case}” is about to \
                   expire (A2: valid for 60 months from issue). If the admission cannot be \
                   decided in time, the applicant must take the course again.\n\n\
                   Nearest deadline of the case: {due}.",
        },
    },
    Template {
        name: "admission.certificate_expired",
        vi: Part {
            subject: "Giấy chứng nhận bồi dưỡng nhận thức về Đảng đã hết hạn: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng trong hồ sơ “{case}” \
                   đã hết giá trị (A2). Hồ sơ không thể tiếp tục cho đến khi quần chúng học \
                   lại và được cấp giấy chứng nhận mới.",
        },
        en: Part {
            subject: "Party awareness course certificate expired: {case}",
            body: "To the secretary of {unit},\n\n\
                   The party awareness course certificate in case “{case}” has expired (A2). \
                   The case cannot go on until the applicant takes the course again and \
                   receives a new certificate.",
        },
    },
    Template {
        name: "admission.verification_pending",
        vi: Part {
            subject: "Nhắc việc: hồ sơ {case} đang chờ thẩm tra lý lịch",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Hồ sơ “{case}” vẫn đang chờ kết quả thẩm tra, xác minh lý lịch của người \
                   vào Đảng (trạng thái: {state}). Đề nghị đồng chí đôn đốc hoàn thành việc \
                   thẩm tra.",
        },
        en: Part {
            subject: "Reminder: case {case} is waiting for background verification",
            body: "To the secretary of {unit},\n\n\
                   Case “{case}” is still waiting for the verification of the applicant's \
                   personal history (state: {state}). Please follow the verification up.",
        },
    },
    Template {
        name: "admission.decision_due_soon",
        vi: Part {
            subject: "Sắp đến hạn ra quyết định kết nạp: {case}",
            body: "Kính gửi Ban Thường vụ cấp ủy,\n\n\
                   Hồ sơ “{case}” của {unit} sắp đến hạn ra quyết định kết nạp đảng viên \
                   (A10: 60 ngày làm việc kể từ khi nhận đủ hồ sơ). Hạn cuối: {due}.",
        },
        en: Part {
            subject: "Admission decision due soon: {case}",
            body: "To the standing committee,\n\n\
                   Case “{case}” of {unit} is nearing its deadline for the admission decision \
                   (A10: 60 working days from a complete file). Last day: {due}.",
        },
    },
    Template {
        name: "admission.decision_overdue",
        vi: Part {
            subject: "Quá hạn ra quyết định kết nạp: {case}",
            body: "Kính gửi Ban Thường vụ cấp ủy,\n\n\
                   Đã quá hạn ra quyết định kết nạp đối với hồ sơ “{case}” của {unit} \
                   (A10; hạn cuối {due}). Cấp ủy có thẩm quyền phải báo cáo, giải trình với \
                   cấp ủy cấp trên về việc chậm ra quyết định.",
        },
        en: Part {
            subject: "Admission decision overdue: {case}",
            body: "To the standing committee,\n\n\
                   The admission decision on case “{case}” of {unit} is overdue (A10; last \
                   day {due}). The competent committee must explain the delay to the \
                   committee above it.",
        },
    },
    Template {
        name: "admission.decision_issued",
        vi: Part {
            subject: "Đã có quyết định kết nạp: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Cấp ủy có thẩm quyền đã ra quyết định kết nạp đảng viên trong hồ sơ \
                   “{case}”. Chi bộ cần tổ chức lễ kết nạp trong thời hạn 30 ngày làm việc \
                   kể từ ngày nhận quyết định (A11).",
        },
        en: Part {
            subject: "Admission decision issued: {case}",
            body: "To the secretary of {unit},\n\n\
                   The competent committee has issued the admission decision in case \
                   “{case}”. The branch must hold the admission ceremony within 30 working \
                   days of receiving it (A11).",
        },
    },
    Template {
        name: "admission.ceremony_due_soon",
        vi: Part {
            subject: "Sắp đến hạn tổ chức lễ kết nạp: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Lễ kết nạp đảng viên trong hồ sơ “{case}” phải được tổ chức chậm nhất \
                   ngày {due} (A11: 30 ngày làm việc kể từ ngày nhận quyết định).",
        },
        en: Part {
            subject: "Admission ceremony due soon: {case}",
            body: "To the secretary of {unit},\n\n\
                   The admission ceremony in case “{case}” must be held by {due} (A11: 30 \
                   working days from receiving the decision).",
        },
    },
    Template {
        name: "admission.ceremony_overdue",
        vi: Part {
            subject: "Quá hạn tổ chức lễ kết nạp: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Đã quá hạn tổ chức lễ kết nạp đảng viên trong hồ sơ “{case}” (A11; hạn \
                   cuối {due}). Chi bộ cần báo cáo lý do với cấp ủy cấp trên.",
        },
        en: Part {
            subject: "Admission ceremony overdue: {case}",
            body: "To the secretary of {unit},\n\n\
                   The admission ceremony in case “{case}” is overdue (A11; last day {due}). \
                   The branch must report the reason to the committee above it.",
        },
    },
    Template {
        name: "admission.member_history_overdue",
        vi: Part {
            subject: "Quá hạn hoàn thành lý lịch đảng viên: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Lý lịch đảng viên trong hồ sơ “{case}” chưa được hoàn thành trong 30 ngày \
                   làm việc sau lễ kết nạp (A12; hạn cuối {due}).",
        },
        en: Part {
            subject: "Member's personal-history file overdue: {case}",
            body: "To the secretary of {unit},\n\n\
                   The member's personal-history file in case “{case}” was not completed \
                   within 30 working days of the ceremony (A12; last day {due}).",
        },
    },
    Template {
        name: "admission.probation_ended",
        vi: Part {
            subject: "Hết thời gian dự bị: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Đảng viên trong hồ sơ “{case}” đã hết 12 tháng dự bị (A13). Chi bộ cần \
                   xét, đề nghị công nhận đảng viên chính thức trong thời hạn 30 ngày làm \
                   việc (A14; hạn cuối {due}).",
        },
        en: Part {
            subject: "Probation ended: {case}",
            body: "To the secretary of {unit},\n\n\
                   The member in case “{case}” has completed 12 months of probation (A13). \
                   The branch must vote on recognition as an official member within 30 \
                   working days (A14; last day {due}).",
        },
    },
    Template {
        name: "admission.recognition_vote_overdue",
        vi: Part {
            subject: "Quá hạn chi bộ xét công nhận đảng viên chính thức: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Chi bộ chưa xét công nhận đảng viên chính thức cho hồ sơ “{case}” trong \
                   thời hạn 30 ngày làm việc sau khi hết dự bị (A14; hạn cuối {due}).",
        },
        en: Part {
            subject: "Branch vote on recognition overdue: {case}",
            body: "To the secretary of {unit},\n\n\
                   The branch has not voted on recognition as an official member in case \
                   “{case}” within 30 working days of the end of probation (A14; last day \
                   {due}).",
        },
    },
    Template {
        name: "admission.recognition_decision_overdue",
        vi: Part {
            subject: "Quá hạn ra quyết định công nhận đảng viên chính thức: {case}",
            body: "Kính gửi Ban Thường vụ cấp ủy,\n\n\
                   Đã quá hạn ra quyết định công nhận đảng viên chính thức trong hồ sơ \
                   “{case}” của {unit} (A14, A10; hạn cuối {due}).",
        },
        en: Part {
            subject: "Recognition decision overdue: {case}",
            body: "To the standing committee,\n\n\
                   The decision recognising the member in case “{case}” of {unit} as an \
                   official member is overdue (A14, A10; last day {due}).",
        },
    },
    Template {
        name: "admission.recognised",
        vi: Part {
            subject: "Đã công nhận đảng viên chính thức: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Đảng viên trong hồ sơ “{case}” đã được công nhận là đảng viên chính thức. \
                   Tuổi đảng được tính từ ngày ghi trong quyết định kết nạp (A15).",
        },
        en: Part {
            subject: "Recognised as an official member: {case}",
            body: "To the secretary of {unit},\n\n\
                   The member in case “{case}” has been recognised as an official member. \
                   Party age counts from the date of the admission decision (A15).",
        },
    },
    Template {
        name: "admission.refused",
        vi: Part {
            subject: "Không chấp thuận kết nạp: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Hồ sơ “{case}” không được chấp thuận (trạng thái: {state}). Chi bộ cần \
                   thông báo cho quần chúng và tiếp tục bồi dưỡng, giúp đỡ.",
        },
        en: Part {
            subject: "Admission refused: {case}",
            body: "To the secretary of {unit},\n\n\
                   Case “{case}” was not approved (state: {state}). The branch should tell \
                   the applicant and keep helping them prepare.",
        },
    },
    Template {
        name: "admission.struck_off",
        vi: Part {
            subject: "Xóa tên trong danh sách đảng viên dự bị: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Đảng viên dự bị trong hồ sơ “{case}” đã bị xóa tên (A14). Chi bộ cần \
                   thông báo cho người có liên quan và hoàn thiện hồ sơ lưu trữ.",
        },
        en: Part {
            subject: "Struck off the list of probationary members: {case}",
            body: "To the secretary of {unit},\n\n\
                   The probationary member in case “{case}” has been struck off (A14). The \
                   branch should inform those concerned and complete the file for the \
                   archive.",
        },
    },
    // Discipline of members and organisations (rules D1–D38, P1–P6, C1–C5).
    t(
        "discipline.inspection_pending",
        "Nhắc việc: hồ sơ {case} đang trong giai đoạn kiểm tra",
        "Việc kiểm tra, xác minh dấu hiệu vi phạm trong hồ sơ “{case}” ({unit}) chưa kết thúc \
         (D21, D22). Đề nghị hoàn thành việc kiểm tra và báo cáo kết luận.",
        "Reminder: case {case} is still under inspection",
        "The inspection of the signs of a violation in case “{case}” ({unit}) is not finished \
         (D21, D22). Please complete it and report the conclusion.",
    ),
    t(
        "discipline.self_criticism_pending",
        "Nhắc việc: chờ bản tự kiểm điểm trong hồ sơ {case}",
        "Hồ sơ “{case}” ({unit}) đang chờ bản tự kiểm điểm (D26, D27). Hạn gần nhất của hồ \
         sơ: {due}.",
        "Reminder: self-criticism awaited in case {case}",
        "Case “{case}” ({unit}) is waiting for the written self-criticism (D26, D27). Nearest \
         deadline of the case: {due}.",
    ),
    t(
        "discipline.deferral_review",
        "Xem xét lại việc tạm hoãn xem xét kỷ luật: {case}",
        "Hồ sơ “{case}” ({unit}) đang tạm hoãn xem xét kỷ luật (D29). Đề nghị kiểm tra xem lý \
         do tạm hoãn còn hay không.",
        "Review the deferral of case {case}",
        "Case “{case}” ({unit}) is deferred (D29). Please check whether the ground for the \
         deferral still holds.",
    ),
    t(
        "discipline.deferral_ending",
        "Sắp hết thời gian tạm hoãn xem xét kỷ luật: {case}",
        "Thời gian tạm hoãn xem xét kỷ luật trong hồ sơ “{case}” ({unit}) sẽ hết vào ngày \
         {due} (D29). Cần chuẩn bị tiếp tục xem xét, xử lý.",
        "Deferral ending soon: {case}",
        "The deferral of case “{case}” ({unit}) ends on {due} (D29). Prepare to resume the \
         proceedings.",
    ),
    t(
        "discipline.deferral_ended",
        "Hết thời gian tạm hoãn xem xét kỷ luật: {case}",
        "Thời gian tạm hoãn xem xét kỷ luật trong hồ sơ “{case}” ({unit}) đã hết ngày {due} \
         (D29). Cần tiếp tục xem xét, xử lý kỷ luật.",
        "Deferral ended: {case}",
        "The deferral of case “{case}” ({unit}) ended on {due} (D29). The proceedings must \
         resume.",
    ),
    t(
        "discipline.proposal_pending",
        "Chờ cấp có thẩm quyền quyết định kỷ luật: {case}",
        "Đề nghị thi hành kỷ luật trong hồ sơ “{case}” ({unit}) đang chờ cấp có thẩm quyền xem \
         xét, quyết định (D14, D18, D31, D36).",
        "Disciplinary proposal awaiting a decision: {case}",
        "The disciplinary proposal in case “{case}” ({unit}) is waiting for the competent body \
         to decide (D14, D18, D31, D36).",
    ),
    t(
        "discipline.written_decision_pending",
        "Chờ ban hành quyết định kỷ luật bằng văn bản: {case}",
        "Đã biểu quyết kỷ luật trong hồ sơ “{case}” ({unit}) nhưng chưa ban hành quyết định \
         bằng văn bản và thông báo (D36, D37).",
        "Written disciplinary decision pending: {case}",
        "A disciplinary measure was voted in case “{case}” ({unit}) but the written decision \
         has not been issued and notified yet (D36, D37).",
    ),
    t(
        "discipline.decided",
        "Đã quyết định kỷ luật: {case}",
        "Cấp có thẩm quyền đã quyết định kỷ luật trong hồ sơ “{case}” ({unit}). Quyết định phải \
         được thông báo cho đối tượng bị kỷ luật (D37, D38).",
        "Disciplinary decision taken: {case}",
        "The competent body has decided a disciplinary measure in case “{case}” ({unit}). The \
         decision must be notified to those concerned (D37, D38).",
    ),
    t(
        "discipline.proposed",
        "Đề nghị thi hành kỷ luật: {case}",
        "Hồ sơ “{case}” ({unit}) được đề nghị lên cấp có thẩm quyền xem xét, quyết định kỷ luật \
         (D31, D36).",
        "Disciplinary measure proposed: {case}",
        "Case “{case}” ({unit}) is proposed to the competent body for a disciplinary decision \
         (D31, D36).",
    ),
    t(
        "discipline.not_disciplined",
        "Biểu quyết không thi hành kỷ luật: {case}",
        "Kết quả biểu quyết trong hồ sơ “{case}” ({unit}) là không thi hành kỷ luật (D30–D33).",
        "Vote against a disciplinary measure: {case}",
        "The vote in case “{case}” ({unit}) did not impose a disciplinary measure (D30–D33).",
    ),
    t(
        "discipline.time_barred",
        "Hết thời hiệu xử lý kỷ luật: {case}",
        "Vi phạm trong hồ sơ “{case}” ({unit}) đã hết thời hiệu xử lý kỷ luật (D6–D12); hồ sơ \
         được khép lại.",
        "Limitation period expired: {case}",
        "The violation in case “{case}” ({unit}) can no longer be disciplined: the limitation \
         period has expired (D6–D12). The case is closed.",
    ),
    t(
        "discipline.notified",
        "Thông báo quyết định kỷ luật: {case}",
        "Quyết định kỷ luật trong hồ sơ “{case}” ({unit}) đã được thông báo:\n\n{decision}",
        "Disciplinary decision notified: {case}",
        "The disciplinary decision in case “{case}” ({unit}) has been notified:\n\n{decision}",
    ),
    t(
        "discipline.expulsion_notified",
        "Thông báo quyết định khai trừ ra khỏi Đảng: {case}",
        "Quyết định khai trừ ra khỏi Đảng trong hồ sơ “{case}” ({unit}) đã được thông báo:\n\n\
         {decision}",
        "Expulsion notified: {case}",
        "The decision to expel in case “{case}” ({unit}) has been notified:\n\n{decision}",
    ),
    t(
        "discipline.dissolution_notified",
        "Thông báo quyết định giải tán tổ chức đảng: {case}",
        "Quyết định giải tán tổ chức đảng trong hồ sơ “{case}” ({unit}) đã được thông báo (D1, \
         D20). Có quyền khiếu nại trong thời hạn một tháng kể từ ngày nhận quyết định (P1).",
        "Dissolution notified: {case}",
        "The decision to dissolve the party organisation in case “{case}” ({unit}) has been \
         notified (D1, D20). An appeal may be filed within one month of receiving it (P1).",
    ),
    t(
        "discipline.appeal_filed",
        "Đã nhận khiếu nại kỷ luật: {case}",
        "Có khiếu nại đối với quyết định kỷ luật trong hồ sơ “{case}” ({unit}). Cần giải quyết \
         trong thời hạn quy định (P2, P3, P5).",
        "Disciplinary appeal received: {case}",
        "An appeal was filed against the disciplinary decision in case “{case}” ({unit}). It \
         must be ruled on within the prescribed time (P2, P3, P5).",
    ),
    t(
        "discipline.appeal_disputed",
        "Khiếu nại cần xem xét điều kiện thụ lý: {case}",
        "Khiếu nại trong hồ sơ “{case}” ({unit}) có thể quá hạn hoặc gửi không đúng cấp; cần \
         quyết định có thụ lý hay không (P1, P4).",
        "Appeal admissibility to be decided: {case}",
        "The appeal in case “{case}” ({unit}) may be late or sent to the wrong body; decide \
         whether it is admissible (P1, P4).",
    ),
    t(
        "discipline.disputed_appeal_pending",
        "Nhắc việc: chưa quyết định thụ lý khiếu nại: {case}",
        "Việc xác định khiếu nại trong hồ sơ “{case}” ({unit}) có được thụ lý hay không vẫn \
         chưa xong (P1, P4).",
        "Reminder: appeal admissibility still undecided: {case}",
        "Whether the appeal in case “{case}” ({unit}) is admissible is still undecided (P1, \
         P4).",
    ),
    t(
        "discipline.appeal_pending",
        "Khiếu nại kỷ luật đang chờ giải quyết: {case}",
        "Khiếu nại trong hồ sơ “{case}” ({unit}) đang chờ giải quyết (P2, P3, P5). Hạn gần \
         nhất: {due}.",
        "Disciplinary appeal pending: {case}",
        "The appeal in case “{case}” ({unit}) is waiting for a ruling (P2, P3, P5). Nearest \
         deadline: {due}.",
    ),
    t(
        "discipline.appeal_overdue",
        "Quá hạn giải quyết khiếu nại kỷ luật: {case}",
        "Khiếu nại trong hồ sơ “{case}” ({unit}) chưa được giải quyết trong thời hạn (P5; hạn \
         cuối {due}).",
        "Disciplinary appeal overdue: {case}",
        "The appeal in case “{case}” ({unit}) was not ruled on in time (P5; last day {due}).",
    ),
    t(
        "discipline.appeal_ruled",
        "Kết quả giải quyết khiếu nại kỷ luật: {case}",
        "Khiếu nại trong hồ sơ “{case}” ({unit}) đã được giải quyết (P2, P3). Quyết định sau khi \
         giải quyết:\n\n{decision}",
        "Disciplinary appeal ruled on: {case}",
        "The appeal in case “{case}” ({unit}) has been ruled on (P2, P3). The decision after the \
         ruling:\n\n{decision}",
    ),
    t(
        "discipline.annulled",
        "Hủy bỏ quyết định kỷ luật: {case}",
        "Quyết định kỷ luật trong hồ sơ “{case}” ({unit}) đã bị hủy bỏ; các quyền lợi liên quan \
         được khôi phục (P6).",
        "Disciplinary decision annulled: {case}",
        "The disciplinary decision in case “{case}” ({unit}) has been annulled; the rights it \
         affected are restored (P6).",
    ),
    t(
        "discipline.lapsed",
        "Quyết định kỷ luật hết hiệu lực: {case}",
        "Quyết định kỷ luật trong hồ sơ “{case}” ({unit}) đã hết hiệu lực sau 12 tháng kể từ \
         ngày có hiệu lực mà không có vi phạm mới (C1).",
        "Disciplinary decision lapsed: {case}",
        "The disciplinary decision in case “{case}” ({unit}) has lapsed, 12 months after it took \
         effect without a new violation (C1).",
    ),
    // Striking a name off (D4, D5).
    t(
        "removal.proposal_pending",
        "Chờ xét đề nghị xóa tên: {case}",
        "Đề nghị xóa tên đảng viên trong hồ sơ “{case}” ({unit}) đang chờ cấp ủy có thẩm quyền \
         xem xét (D5).",
        "Proposal to strike a name off awaiting a decision: {case}",
        "The proposal to strike the member's name off in case “{case}” ({unit}) is waiting for \
         the competent committee (D5).",
    ),
    t(
        "removal.written_decision_pending",
        "Chờ ban hành quyết định xóa tên: {case}",
        "Việc xóa tên trong hồ sơ “{case}” ({unit}) đã được quyết định nhưng chưa ban hành văn \
         bản và thông báo (D4, D38).",
        "Written decision to strike off pending: {case}",
        "Striking the name off in case “{case}” ({unit}) was decided but the written decision \
         has not been issued and notified yet (D4, D38).",
    ),
    t(
        "removal.decided",
        "Đã quyết định xóa tên: {case}",
        "Cấp ủy có thẩm quyền đã quyết định xóa tên trong danh sách đảng viên đối với hồ sơ \
         “{case}” ({unit}) (D4, D5). Quyết định phải được thông báo cho đảng viên (D38).",
        "Decision to strike the name off: {case}",
        "The competent committee has decided to strike the member's name off in case “{case}” \
         ({unit}) (D4, D5). The member must be notified (D38).",
    ),
    t(
        "removal.declined",
        "Không chấp nhận đề nghị xóa tên: {case}",
        "Cấp ủy có thẩm quyền không chấp nhận đề nghị xóa tên trong hồ sơ “{case}” ({unit}) \
         (D5).",
        "Proposal to strike off declined: {case}",
        "The competent committee declined the proposal to strike the name off in case \
         “{case}” ({unit}) (D5).",
    ),
    t(
        "removal.notified",
        "Thông báo quyết định xóa tên: {case}",
        "Quyết định xóa tên trong hồ sơ “{case}” ({unit}) đã được thông báo (D38). Nếu không \
         đồng ý, có quyền khiếu nại trong thời hạn một tháng kể từ ngày nhận quyết định.",
        "Decision to strike off notified: {case}",
        "The decision to strike the name off in case “{case}” ({unit}) has been notified (D38). \
         An appeal may be filed within one month of receiving it.",
    ),
    t(
        "removal.appeal_filed",
        "Đã nhận khiếu nại về việc xóa tên: {case}",
        "Có khiếu nại đối với quyết định xóa tên trong hồ sơ “{case}” ({unit}); cần giải quyết \
         trong thời hạn quy định (P3, D4).",
        "Appeal against striking off received: {case}",
        "An appeal was filed against striking the name off in case “{case}” ({unit}); it must \
         be ruled on within the prescribed time (P3, D4).",
    ),
    t(
        "removal.disputed_appeal_pending",
        "Nhắc việc: chưa quyết định thụ lý khiếu nại về xóa tên: {case}",
        "Việc xác định khiếu nại về xóa tên trong hồ sơ “{case}” ({unit}) có được thụ lý hay \
         không vẫn chưa xong (P1, P4).",
        "Reminder: admissibility of the appeal against striking off undecided: {case}",
        "Whether the appeal against striking the name off in case “{case}” ({unit}) is \
         admissible is still undecided (P1, P4).",
    ),
    t(
        "removal.appeal_pending",
        "Khiếu nại về xóa tên đang chờ giải quyết: {case}",
        "Khiếu nại về xóa tên trong hồ sơ “{case}” ({unit}) đang chờ giải quyết (P2, P3). Hạn \
         gần nhất: {due}.",
        "Appeal against striking off pending: {case}",
        "The appeal against striking the name off in case “{case}” ({unit}) is waiting for a \
         ruling (P2, P3). Nearest deadline: {due}.",
    ),
    t(
        "removal.appeal_ruled",
        "Giữ nguyên quyết định xóa tên: {case}",
        "Khiếu nại về xóa tên trong hồ sơ “{case}” ({unit}) đã được giải quyết: giữ nguyên \
         quyết định xóa tên (P3, D4).",
        "Striking off upheld: {case}",
        "The appeal in case “{case}” ({unit}) has been ruled on: the name stays struck off (P3, \
         D4).",
    ),
    t(
        "removal.annulled",
        "Hủy bỏ quyết định xóa tên: {case}",
        "Quyết định xóa tên trong hồ sơ “{case}” ({unit}) đã bị hủy bỏ; tư cách đảng viên được \
         khôi phục (P6).",
        "Decision to strike off annulled: {case}",
        "The decision to strike the name off in case “{case}” ({unit}) has been annulled; \
         membership is restored (P6).",
    ),
    Template {
        name: "digest.weekly",
        vi: Part {
            subject: "Tổng hợp công việc đến hạn tuần {week}: {unit}",
            body: "Kính gửi đồng chí phụ trách {unit},\n\n\
                   Các thời hạn đã quá hoặc đến hạn trong 7 ngày tới (tính đến {date}), \
                   {count} việc:\n\n{items}",
        },
        en: Part {
            subject: "Weekly digest of deadlines, week {week}: {unit}",
            body: "To the person in charge at {unit},\n\n\
                   Deadlines passed or due within the next 7 days (as of {date}), {count} \
                   in all:\n\n{items}",
        },
    },
    Template {
        name: "meeting.monthly",
        vi: Part {
            subject: "Nhắc lịch sinh hoạt chi bộ tháng {month}: {unit}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Chi bộ, chi ủy họp thường lệ mỗi tháng một lần (Điều lệ Đảng, Điều 24; \
                   S1). Đề nghị đồng chí chuẩn bị nội dung và tổ chức sinh hoạt chi bộ tháng \
                   {month}.",
        },
        en: Part {
            subject: "Monthly branch meeting, {month}: {unit}",
            body: "To the secretary of {unit},\n\n\
                   The branch and its committee meet once a month (Party Statute, Article \
                   24; S1). Please prepare and hold the branch meeting for {month}.",
        },
    },
    Template {
        name: "transfer.due_soon",
        vi: Part {
            subject: "Sắp hết thời hạn chuyển sinh hoạt đảng: {case}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Thủ tục chuyển sinh hoạt đảng chính thức của đồng chí {case} phải hoàn \
                   thành trước ngày {due} (60 ngày làm việc kể từ ngày quyết định có hiệu lực \
                   hoặc ngày chuyển nơi cư trú; S12). Đề nghị chi bộ hoàn tất hồ sơ và giấy \
                   giới thiệu sinh hoạt đảng.",
        },
        en: Part {
            subject: "Membership transfer due soon: {case}",
            body: "To the secretary of {unit},\n\n\
                   The official transfer of {case}'s membership must be completed by {due} \
                   (60 working days from the decision taking effect or the move; S12). Please \
                   complete the file and the letter of introduction.",
        },
    },
    Template {
        name: "transfer.overdue",
        vi: Part {
            subject: "Quá hạn chuyển sinh hoạt đảng: {case}",
            body: "Kính gửi Ban Thường vụ,\n\n\
                   Thủ tục chuyển sinh hoạt đảng chính thức của đồng chí {case} ({unit}) đã \
                   quá thời hạn ngày {due} ({rule}). Đề nghị đôn đốc chi bộ hoàn thành.",
        },
        en: Part {
            subject: "Membership transfer overdue: {case}",
            body: "To the standing committee,\n\n\
                   The official transfer of {case}'s membership ({unit}) passed its deadline \
                   of {due} ({rule}). Please see that the branch completes it.",
        },
    },
    Template {
        name: "meeting.thematic",
        vi: Part {
            subject: "Nhắc sinh hoạt chuyên đề quý {period}: {unit}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Chi bộ sinh hoạt chuyên đề ít nhất mỗi quý một lần (S3). Đề nghị đồng chí \
                   chọn chuyên đề, chuẩn bị nội dung và tổ chức sinh hoạt chuyên đề quý \
                   {period}.",
        },
        en: Part {
            subject: "Thematic meeting, quarter {period}: {unit}",
            body: "To the secretary of {unit},\n\n\
                   The branch holds a thematic meeting at least once a quarter (S3). Please \
                   choose the theme, prepare it and hold the thematic meeting of {period}.",
        },
    },
    Template {
        name: "rating.annual",
        vi: Part {
            subject: "Kiểm điểm, đánh giá, xếp loại chất lượng năm {period}: {unit}",
            body: "Kính gửi đồng chí Bí thư {unit},\n\n\
                   Đã đến kỳ kiểm điểm, đánh giá, xếp loại chất lượng tổ chức đảng và đảng \
                   viên năm {period} (Quy định 124-QĐ/TW, Điều 12; S5): đảng viên tự kiểm \
                   điểm và tự xếp loại; chi bộ nhận xét, đề xuất mức xếp loại; cấp có thẩm \
                   quyền quyết định. Bốn mức: Hoàn thành xuất sắc nhiệm vụ, Hoàn thành tốt \
                   nhiệm vụ, Hoàn thành nhiệm vụ, Không hoàn thành nhiệm vụ.",
        },
        en: Part {
            subject: "Annual quality rating {period}: {unit}",
            body: "To the secretary of {unit},\n\n\
                   The annual review and quality rating of party organizations and members \
                   for {period} is due (Regulation 124-QĐ/TW, Article 12; S5): members assess \
                   and rate themselves; the branch reviews and proposes a level; the competent \
                   body decides. Four levels: outstanding, good, completed, not completed.",
        },
    },
    Template {
        name: "report.admission_target",
        vi: Part {
            subject: "Báo cáo chỉ tiêu kết nạp đảng viên năm {year}: {unit}",
            body: "Kính gửi Ban Tổ chức {unit},\n\n\
                   Tình hình kết nạp đảng viên năm {year}, tính đến ngày {on}:\n\
                   - Số đảng viên ngày 31/12 năm trước: {members}\n\
                   - Chỉ tiêu 3–4% (Nghị quyết 21-NQ/TW; S20): {target_low}–{target_high} \
                   đảng viên\n\
                   - Đã kết nạp: {admitted}\n\n\
                   Các tổ chức cơ sở đảng chậm nhất so với mức 3% (số đảng viên còn phải kết \
                   nạp):\n{items}",
        },
        en: Part {
            subject: "Admission target report {year}: {unit}",
            body: "To the organisation committee of {unit},\n\n\
                   Admissions in {year}, as of {on}:\n\
                   - Members on 31/12 of the previous year: {members}\n\
                   - Target of 3–4% (Resolution 21-NQ/TW; S20): {target_low}–{target_high} \
                   members\n\
                   - Admitted so far: {admitted}\n\n\
                   The grassroots organizations furthest behind the 3% floor (admissions still \
                   missing):\n{items}",
        },
    },
];

/// The names of every template, sorted: what `memberflow check` passes to the core as the
/// templates the shell has.
pub fn template_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TEMPLATES.iter().map(|t| t.name).collect();
    v.sort_unstable();
    v
}

/// The template `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// Renders `name` in `lang`, `None` for an unknown template. A placeholder without a value
/// becomes `–`.
pub fn render(name: &str, lang: Lang, vars: &Vars) -> Option<Rendered> {
    let t = template(name)?;
    let (part, footer) = match lang {
        Lang::Vi => (t.vi, FOOTER_VI),
        Lang::En => (t.en, FOOTER_EN),
    };
    Some(Rendered {
        subject: fill(part.subject, vars).replace(['\r', '\n'], " "),
        body: format!("{}{footer}", fill(part.body, vars)),
    })
}

fn fill(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if after[..close]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
                    && close > 0 =>
            {
                let key = &after[..close];
                match vars.get(key) {
                    Some(v) => out.push_str(v),
                    None => out.push('–'),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a text uses.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_template_name_of_the_workflow_definitions_has_a_template() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/workflows");
        let names = template_names();
        let mut missing = BTreeSet::new();
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("template = \"") {
                let rest = &text[i + "template = \"".len()..];
                let name = &rest[..rest.find('"').unwrap()];
                seen += 1;
                if !names.contains(&name) {
                    missing.insert(format!("{name} ({})", path.display()));
                }
            }
        }
        assert!(seen > 0, "no template names found under {}", dir.display());
        assert!(missing.is_empty(), "templates missing: {missing:?}");
    }

    #[test]
    fn templates_use_only_known_placeholders_and_have_both_languages() {
        let mut names = BTreeSet::new();
        for t in TEMPLATES {
            assert!(names.insert(t.name), "{} twice", t.name);
            for text in [t.vi.subject, t.vi.body, t.en.subject, t.en.body] {
                assert!(!text.trim().is_empty(), "{}: empty text", t.name);
                for p in placeholders(text) {
                    assert!(PLACEHOLDERS.contains(&p), "{}: unknown {{{p}}}", t.name);
                }
            }
            assert_ne!(t.vi.subject, t.en.subject, "{}", t.name);
        }
    }

    #[test]
    fn vietnamese_is_the_default_and_english_is_available() {
        let mut vars = Vars::new();
        vars.insert("case", "Nguyễn Văn A".into());
        vars.insert("unit", "Chi bộ ấp 1 (CB1)".into());
        vars.insert("due", "30/11/2026".into());
        let vi = render("admission.decision_due_soon", Lang::default(), &vars).unwrap();
        assert!(
            vi.subject.starts_with("Sắp đến hạn ra quyết định kết nạp"),
            "{vi:?}"
        );
        assert!(vi.body.contains("Hạn cuối: 30/11/2026"), "{vi:?}");
        assert!(vi.body.contains("Vui lòng không trả lời"), "{vi:?}");
        let en = render("admission.decision_due_soon", Lang::En, &vars).unwrap();
        assert!(
            en.subject.starts_with("Admission decision due soon"),
            "{en:?}"
        );
        assert!(en.body.contains("Last day: 30/11/2026"), "{en:?}");
        assert!(render("no.such", Lang::Vi, &vars).is_none());
    }

    #[test]
    fn a_missing_value_is_a_dash_and_braces_that_are_not_placeholders_stay() {
        let vars = Vars::new();
        assert_eq!(fill("a {case} b", &vars), "a – b");
        assert_eq!(fill("{x y} {", &vars), "{x y} {");
    }

    /// The fixture values: every placeholder, with characters a template engine might
    /// mangle (markup, braces, a line break in the subject).
    fn fixture_full() -> Vars {
        let mut v = Vars::new();
        for (k, val) in [
            ("case", "Hồ sơ <Nguyễn Văn An> & “Bình”\n2026"),
            ("unit", "Chi bộ ấp 1 (CB1)"),
            ("state", "BranchVote {case} {{ unit }}"),
            ("due", "30/11/2026"),
            ("date", "25/11/2026"),
            ("rule", "S12"),
            (
                "items",
                "- 30/11/2026 [A10] Hồ sơ A (admission, Review)\n- 01/12/2026 [A11] Hồ sơ B \
                 (admission, Ceremony) (QUÁ HẠN)",
            ),
            ("count", "2"),
            ("week", "2026-W48"),
            ("month", "2026-11"),
            ("year", "2026"),
            ("members", "1234"),
            ("admitted", "17"),
            ("target_low", "38"),
            ("target_high", "50"),
            ("on", "24/11/2026"),
            ("period", "2026-Q4"),
            (
                "decision",
                "Hình thức: khiển trách\nSố: 12-QĐ/ĐU, ngày 20/11/2026\nCơ quan: Đảng ủy xã",
            ),
        ] {
            v.insert(k, val.to_owned());
        }
        v
    }

    /// The kinds the workflow definitions name (their mails are about a case).
    fn definition_kinds() -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/workflows");
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("template = \"") {
                let rest = &text[i + "template = \"".len()..];
                out.insert(rest[..rest.find('"').unwrap()].to_owned());
            }
        }
        out
    }

    fn section(out: &mut String, set: &str, name: &str, lang: Lang, r: &Rendered) {
        let l = match lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        };
        out.push_str(&format!(
            "=== {set} {name} {l}\nSubject: {}\n{}",
            r.subject, r.body
        ));
    }

    /// Generated once from the mail texts as Rust constants (before they became files):
    /// `MEMBERFLOW_WRITE_MAIL_FIXTURE=1 cargo test -p memberflow-worker write_mail_fixture`.
    #[test]
    fn write_mail_fixture() {
        if std::env::var_os("MEMBERFLOW_WRITE_MAIL_FIXTURE").is_none() {
            return;
        }
        let mut out = String::new();
        let full = fixture_full();
        for name in template_names() {
            for lang in [Lang::Vi, Lang::En] {
                section(
                    &mut out,
                    "full",
                    name,
                    lang,
                    &render(name, lang, &full).unwrap(),
                );
            }
        }
        // A mail about a case without unit, deadline or decision: those values are dashes.
        let mut sparse = Vars::new();
        for k in ["case", "state", "date", "rule"] {
            sparse.insert(k, full[k].clone());
        }
        for name in definition_kinds() {
            for lang in [Lang::Vi, Lang::En] {
                section(
                    &mut out,
                    "sparse",
                    &name,
                    lang,
                    &render(&name, lang, &sparse).unwrap(),
                );
            }
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mails.txt");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, out).unwrap();
    }
}
