//! Discipline in figures and its reference data: the statistics of discipline by form over the
//! cases recorded (the discipline register the cases write), and the catalogue of violations
//! with the circumstances an inspection may record (D39–D42), from the rule set in force.

use async_graphql::{Context, ID, Object, SimpleObject};
use memberflow_workflow::access::Permission;
use memberflow_workflow::text::{Lang, Text};
use memberflow_workflow::violations::{self, FORMS};

use crate::access::{caller, require, require_everywhere};
use crate::error::{ApiError, OrGql};
use crate::scalars::{Date, parse_id};
use crate::tree::{Unit, app, lang, on_or_today};

/// Discipline figures.
#[derive(Default)]
pub struct DisciplineQuery;

/// Decisions of one form.
#[derive(SimpleObject)]
pub struct FormCount {
    /// `reprimand`, `warning`, `removal` or `expulsion`.
    form: String,
    /// Its name (khiển trách, cảnh cáo, cách chức, khai trừ).
    label: String,
    /// Decisions.
    count: u64,
}

/// Members disciplined, struck off and expelled over a period, in a subtree.
#[derive(SimpleObject)]
pub struct DisciplineStatistics {
    /// The unit (none: the whole organization).
    unit: Option<Unit>,
    /// First day.
    from: Date,
    /// Last day.
    to: Date,
    /// Decisions by form, most lenient first, with the form in force after any appeal; an
    /// annulled decision (P6) does not count.
    by_form: Vec<FormCount>,
    /// All decisions.
    disciplined: u64,
    /// Members struck off (xóa tên, D4) whose strike-off took effect in the period.
    struck_off: u64,
    /// Members whose expulsion took effect in the period.
    expelled: u64,
}

/// A violation of the catalogue (D42).
#[derive(SimpleObject)]
pub struct Violation {
    /// Code, for `conclude_inspection`'s `violation_code`.
    code: String,
    /// The article that describes it.
    article: String,
    /// The form the article sets for it.
    default_form: String,
    /// What it is.
    label: String,
}

/// The catalogue of violations and the circumstances of the rule set in force on a day.
#[derive(SimpleObject)]
pub struct ViolationCatalogue {
    /// The rule set.
    rule_set: String,
    /// The violations (D42).
    violations: Vec<Violation>,
    /// Aggravating circumstances' codes (D41), for `aggravating_factors`.
    aggravating: Vec<String>,
    /// Mitigating circumstances' codes (D41), for `mitigating_factors`.
    mitigating: Vec<String>,
}

fn text(t: &Text, l: Lang) -> String {
    t.get(l).to_owned()
}

#[Object]
impl DisciplineQuery {
    /// Members disciplined by form, struck off and expelled between `from` and `to` (both
    /// included) in the subtree of `unitId` as it stood on `to` (the whole organization
    /// without it), counted from the discipline cases recorded. Needs the right to read reports
    /// over the unit.
    async fn discipline_statistics(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<DisciplineStatistics> {
        let l = lang(ctx);
        let a = app(ctx);
        let unit = match unit_id {
            Some(id) => {
                let u = a
                    .store
                    .tree()
                    .unit(parse_id(&id, "unit").gql(l)?)
                    .await
                    .gql(l)?;
                require(ctx, Permission::ReadReports, u.id).await?;
                Some(u)
            }
            None => {
                require_everywhere(ctx, Permission::ReadReports)?;
                None
            }
        };
        if from.0 > to.0 {
            return Err(ApiError::Validation(Text::new(
                "Ngày bắt đầu phải trước ngày kết thúc.",
                "`from` must not be after `to`.",
            ))
            .into_graphql(l));
        }
        crate::tree::ahead(ctx, "to", to)?;
        let counts = a
            .store
            .stats()
            .discipline_counts(unit.as_ref().map(|u| u.id), from.0, to.0)
            .await
            .gql(l)?;
        let mut by_form: Vec<FormCount> = counts
            .by_form
            .iter()
            .map(|(f, n)| FormCount {
                form: f.clone(),
                label: text(&violations::form_label(f), l),
                count: *n,
            })
            .collect();
        by_form.sort_by_key(|c| {
            FORMS
                .iter()
                .position(|f| *f == c.form)
                .unwrap_or(FORMS.len())
        });
        Ok(DisciplineStatistics {
            unit: unit.map(Unit),
            from,
            to,
            disciplined: by_form.iter().map(|c| c.count).sum(),
            by_form,
            struck_off: counts.struck_off,
            expelled: counts.expelled,
        })
    }

    /// The catalogue of violations (D42) and the aggravating and mitigating circumstances
    /// (D41) of the rule set in force on `on` (today by default). Any logged-in account.
    async fn violation_catalogue(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<ViolationCatalogue> {
        caller(ctx)?;
        let l = lang(ctx);
        let d = on_or_today(ctx, on);
        let rs = app(ctx).catalog.rules.for_date(d).ok_or_else(|| {
            ApiError::Validation(Text::new(
                format!(
                    "Không có bộ quy tắc nào có hiệu lực vào ngày {}.",
                    d.format("%d/%m/%Y")
                ),
                format!("No rule set is in force on {d}."),
            ))
            .into_graphql(l)
        })?;
        let invalid = |e: String| {
            crate::error::graphql_error(
                crate::error::Code::Internal,
                &[Text::new(
                    format!("Lỗi cấu hình: {e}."),
                    format!("Configuration error: {e}."),
                )],
                l,
            )
        };
        let catalogue = violations::catalogue(rs).map_err(|e| invalid(e.to_string()))?;
        let (aggravating, mitigating) =
            violations::circumstances(rs).map_err(|e| invalid(e.to_string()))?;
        Ok(ViolationCatalogue {
            rule_set: rs.id.clone(),
            violations: catalogue
                .into_iter()
                .map(|v| Violation {
                    label: match l {
                        Lang::Vi => v.label_vi,
                        Lang::En => v.label_en,
                    },
                    code: v.code,
                    article: v.article,
                    default_form: v.default_form,
                })
                .collect(),
            aggravating,
            mitigating,
        })
    }
}
