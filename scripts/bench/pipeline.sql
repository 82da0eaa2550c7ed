-- An admission pipeline for the forecast's benchmarks (docs/benchmarks.md, "The forecast"),
-- PostgreSQL only: the demos walk only decided admissions, so they have no open admission case
-- before the decision. This adds :per cases to every branch that exists today (psql variable,
-- `psql -v per=2 -f scripts/bench/pipeline.sql`), spread over the eleven stages by their
-- order, with the A10 decision deadline (days 1 to 60 after 1/12/2026) from the branch vote
-- on. Only what the forecast reads is written: the cases' unit, state and terminal flag and
-- their open `admission_decision` deadlines (an empty snapshot: these cases are not for
-- stepping). A database that has its forecast aggregates built must have them rebuilt after
-- it (`memberflow check --stats --repair`).
BEGIN;
CREATE TEMP TABLE pipeline AS
SELECT gen_random_uuid() AS id, u.id AS unit_id,
       (ARRAY['Candidate', 'AwarenessCourseDone', 'ApplicationFiled', 'HistoryDrafted',
              'VerificationInProgress', 'Verified', 'IntroducersRecorded', 'OpinionsCollected',
              'BranchVoted', 'GrassrootsReviewed', 'DecisionPending'])[1 + ((u.n * :per + k) % 11)] AS state,
       DATE '2026-12-01' + ((u.n * 7 + k * 13) % 60)::int AS due
FROM (SELECT id, row_number() OVER (ORDER BY code) AS n
      FROM unit WHERE kind IN ('BRANCH', 'GRASSROOTS_BRANCH') AND valid_to IS NULL) u,
     generate_series(1, :per) AS k;
INSERT INTO cases (id, definition_id, definition_version, unit_id, subject_member_id, title,
                   state, version, terminal, snapshot, next_due, created_at, updated_at)
SELECT id, 'admission', 1, unit_id, NULL, 'pipeline (benchmark)', state, 1, false, '{}'::json,
       CASE WHEN state IN ('BranchVoted', 'GrassrootsReviewed', 'DecisionPending') THEN due END,
       now(), now()
FROM pipeline;
INSERT INTO case_deadline (case_id, key, rule, due, status, created_at, scheduled_due,
                           extended_due, extended)
SELECT id, 'admission_decision', 'A10', due, 'OPEN', now(), due, NULL, false
FROM pipeline WHERE state IN ('BranchVoted', 'GrassrootsReviewed', 'DecisionPending');
SELECT COUNT(*) AS open_admission_cases FROM pipeline;
COMMIT;
ANALYZE cases;
ANALYZE case_deadline;
