//! What a member's discipline leaves on the registry after the case (C3): the days of their
//! removals from post (cách chức) that were not annulled, from the discipline register.

use chrono::NaiveDate;
use memberflow_workflow::engine::DisciplineStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Registry;
use crate::error::Result;
use crate::stats::entity::discipline_record;

impl Registry<'_> {
    /// The decision days of the member's removals from post (form `removal`) not annulled,
    /// oldest first (C3 bars election and appointment for a period from each).
    pub async fn removal_decisions(&self, member: Uuid) -> Result<Vec<NaiveDate>> {
        let mut days: Vec<NaiveDate> = discipline_record::Entity::find()
            .select_only()
            .column(discipline_record::Column::DecisionDate)
            .filter(discipline_record::Column::MemberId.eq(member))
            .filter(discipline_record::Column::Form.eq("removal"))
            .filter(discipline_record::Column::Status.ne(DisciplineStatus::Annulled.code()))
            .into_tuple()
            .all(self.db())
            .await?;
        days.sort();
        Ok(days)
    }
}
