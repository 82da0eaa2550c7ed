//! The statistics tables' entities (migration `m20261125_000005_stats`). Like every entity
//! they stay inside the store.

pub mod stat_counter {
    //! A counter kept (`admissions`, `membership@MM-DD`): whether it is built, and for
    //! membership the last year its rows reach.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_counter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub counter: String,
        pub built: bool,
        pub horizon: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_membership {
    //! Party members of a unit on the anchor day of a year.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_membership")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub anchor: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub members: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_admission {
    //! Admissions counted for a unit in a year.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_admission")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub admitted: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_admission_day {
    //! Admissions counted for a unit on a day (migration `m20261205_000120_admission_days`).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_admission_day")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        pub admitted: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_rollup {
    //! A unit's target figures with everything below it, on the tree of the year's last day
    //! (migration `m20261203_000030_stat_rollup`).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_rollup")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub anchor: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub base: i64,
        pub admitted: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod discipline_record {
    //! A discipline decision against a member, by form (the source report's register).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "discipline_record")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub member_id: Uuid,
        pub unit_id: Uuid,
        pub form: String,
        pub decision_date: Date,
        pub created_at: DateTimeUtc,
        /// The case the decision was recorded from (none: imported without its case).
        pub case_id: Option<Uuid>,
        /// `IN_FORCE`, `LAPSED` (C1) or `ANNULLED` (P6).
        pub status: String,
        /// The day the status began (the lapse, the annulment).
        pub status_date: Option<Date>,
        /// The decision's number (none: not known).
        pub decision_number: Option<String>,
        /// The kind of the body that decided (`vocab::BodyKind`'s code; none: not known).
        pub body_kind: Option<String>,
        /// The level of that body (`vocab::Level`'s code).
        pub body_level: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod badge_award {
    //! A party membership badge (Huy hiệu Đảng) awarded to a member.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "badge_award")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub member_id: Uuid,
        pub years: i32,
        pub award_date: Date,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_open_admission {
    //! The admission cases not decided yet of a unit itself, by stage and running decision
    //! deadline (migration `m20261205_000080_stat_forecast`).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_open_admission")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub stage: String,
        /// The decision deadline's last day (`YYYY-MM-DD`), empty while none runs.
        #[sea_orm(primary_key, auto_increment = false)]
        pub due: String,
        pub cases: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stat_open_rollup {
    //! The admission cases not decided yet of a unit with everything below it, on the tree as
    //! it stands after its last dated change (migration `m20261205_000080_stat_forecast`).

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stat_open_rollup")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub stage: String,
        /// The decision deadline's last day (`YYYY-MM-DD`), empty while none runs.
        #[sea_orm(primary_key, auto_increment = false)]
        pub due: String,
        pub cases: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
