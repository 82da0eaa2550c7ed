//! How long the core takes to decide: `fire` and `available` on the toy machine and on the
//! admission pipeline's branch vote (guards E1, E4, A2, A6, A8). Prints figures; asserts
//! nothing about time. Run: `cargo bench -p memberflow-workflow --bench fire`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::engine::{
    Actor, Definition, Event, RoleRef, RuleBook, Values, available, fire, open,
};
use memberflow_workflow::vocab::RoleLevel;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn time(label: &str, iterations: u32, mut f: impl FnMut()) {
    // Warm up, then measure.
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per = start.elapsed() / iterations;
    println!(
        "{label:<55} {:>9.2} µs/op  ({iterations} iterations)",
        per.as_secs_f64() * 1e6
    );
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).unwrap();
    let book = RuleBook::from_toml_strs(
        ["R2016", "R2021", "R2025a", "R2025a2", "R2025a3", "R2025b"]
            .iter()
            .map(|id| (id.to_string(), read(&format!("schemas/rulesets/{id}.toml"))))
            .collect::<Vec<_>>()
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str())),
    )
    .unwrap();
    let calendar = WorkingCalendar::vietnamese();
    let toy = Definition::from_toml_str(&read("services/workflow/tests/data/toy.toml")).unwrap();
    let author = Actor::new("a", vec![RoleRef::at("author", RoleLevel::Branch)]);
    let today = d("2026-11-25");
    let opened = open(
        &toy,
        &book,
        &calendar,
        &Event::new("open", author.clone())
            .with("title", "x")
            .with("owner", "m1"),
        today,
    )
    .unwrap()
    .case;
    let submit = Event::new("submit", author.clone())
        .with("votes_for", 9i64)
        .with("official_members", 12i64);
    let refused = Event::new("submit", author.clone())
        .with("votes_for", 2i64)
        .with("official_members", 12i64);

    println!("memberflow core: fire / available (one thread)");
    time(
        "toy: fire `submit` (A8 guard, deadline, reminder)",
        200_000,
        || {
            black_box(fire(&toy, &book, &calendar, &opened, &submit, today).unwrap());
        },
    );
    time("toy: fire `submit`, refused (A8)", 200_000, || {
        black_box(fire(&toy, &book, &calendar, &opened, &refused, today).unwrap_err());
    });
    time("toy: available transitions", 200_000, || {
        black_box(available(
            &toy,
            &book,
            &calendar,
            &opened,
            &author,
            &Values::new(),
            today,
        ));
    });
    let admission = Definition::from_toml_str(&read("schemas/workflows/admission.toml")).unwrap();
    time(
        "admission: parse and validate the definition",
        2_000,
        || {
            black_box(
                Definition::from_toml_str(&read("schemas/workflows/admission.toml")).unwrap(),
            );
        },
    );
    let secretary = Actor::new("s", vec![RoleRef::at("secretary", RoleLevel::Branch)]);
    let candidate = open(
        &admission,
        &book,
        &calendar,
        &Event::new("open", secretary.clone())
            .with("person_id", "p1")
            .with("full_name", "Nguyễn Văn A")
            .with("date_of_birth", d("1995-05-05"))
            .with("unit", "b1")
            .with("education_level", "upper_secondary")
            .with("helper_member", "m1"),
        today,
    );
    match candidate {
        Ok(dec) => time(
            "admission: available transitions from Candidate",
            100_000,
            || {
                black_box(available(
                    &admission,
                    &book,
                    &calendar,
                    &dec.case,
                    &secretary,
                    &Values::new(),
                    today,
                ));
            },
        ),
        Err(r) => println!("admission open refused: {r:?}"),
    }
    time("calendar: add 60 working days", 1_000_000, || {
        black_box(calendar.add_working_days(black_box(today), 60));
    });
}
