//! Service metrics from the event log: a scripted day with known timings,
//! every figure checked against the value worked out by hand below; rolls
//! that stop and resume, and several rollers at once, give the same
//! buckets; the CSV download has exactly the table's cells; `/metrics`
//! speaks Prometheus.

mod common;

use std::time::Duration;

use app::conversation::roles::Role as ParticipantRole;
use app::engine::events::{About, Event, TransferStage};
use app::engine::line::{self, Left, NewRequest};
use app::metrics::{report, roll, Figures, MetricsSettings, Report, ReportQuery, TableKind};
use app::model::Role;
use app::queue::{Channel, RoutingMode};
use app::states::{AgentId, AgentState, HelpSessionId, QueueId};
use sqlx::PgPool;
use uuid::Uuid;

/// The scripted day is Tuesday 2026-03-10 (UTC); one session runs past its
/// midnight.
const DAY: &str = "2026-03-10";
const NEXT_DAY: &str = "2026-03-11";

struct Day {
    sales: QueueId,
    support: QueueId,
    alice: AgentId,
    bob: AgentId,
    carol: AgentId,
}

async fn queue(pool: &PgPool, name: &str, service_level_seconds: i32) -> QueueId {
    sqlx::query_scalar("INSERT INTO queues (name, service_level_seconds) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(service_level_seconds)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn rep(pool: &PgPool, name: &str) -> AgentId {
    sqlx::query_scalar(
        "INSERT INTO representatives (email, display_name, role, password_hash) VALUES ($1, $2, 'agent', 'x') RETURNING id",
    )
    .bind(format!("{}@example.com", name.to_lowercase()))
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// One event of the log at `day time` (UTC), written as the engine writes
/// it (`Event::columns`), at a time of the script's choosing.
async fn event(pool: &PgPool, day: &str, time: &str, about: About, event: Event) {
    let (kind, detail) = event.columns();
    sqlx::query(
        "INSERT INTO events (at, kind, help_session_id, queue_id, representative_id, detail)
         VALUES (($1 || ' ' || $2 || '+00')::timestamptz, $3, $4, $5, $6, $7)",
    )
    .bind(day)
    .bind(time)
    .bind(kind)
    .bind(about.help_session)
    .bind(about.queue)
    .bind(about.agent)
    .bind(detail)
    .execute(pool)
    .await
    .unwrap();
}

/// The representatives' states through the day.
async fn agents_day(pool: &PgPool, d: &Day) {
    let state = |state, reason: Option<&str>| Event::AgentState { state, reason: reason.map(str::to_owned) };
    let (alice, bob, carol) = (About::agent(d.alice), About::agent(d.bob), About::agent(d.carol));
    // Alice: READY 09:00–17:00, except 5 minutes NOT_READY after a missed offer.
    event(pool, DAY, "09:00:00", alice, state(AgentState::Ready, None)).await;
    event(pool, DAY, "10:00:16", alice, state(AgentState::NotReady, Some("Missed offer"))).await;
    event(pool, DAY, "10:05:16", alice, state(AgentState::Ready, None)).await;
    event(pool, DAY, "17:00:00", alice, state(AgentState::LoggedOut, Some("Signed out"))).await;
    // Bob: READY from 09:00 until 00:30 the next day.
    event(pool, DAY, "09:00:00", bob, state(AgentState::Ready, None)).await;
    event(pool, NEXT_DAY, "00:30:00", bob, state(AgentState::LoggedOut, Some("Signed out"))).await;
    // Carol: signed in but NOT_READY all day.
    event(pool, DAY, "08:00:00", carol, state(AgentState::NotReady, Some("Training"))).await;
    event(pool, DAY, "18:00:00", carol, state(AgentState::LoggedOut, Some("Signed out"))).await;
}

/// The customers of the day, in the order of their first event.
async fn sessions_day(pool: &PgPool, d: &Day) {
    let new = || HelpSessionId(Uuid::new_v4());
    let (s1, s2, s3, s4, s5, s6, s7) = (new(), new(), new(), new(), new(), new(), new());
    let (sales, support, alice, bob) = (d.sales, d.support, d.alice, d.bob);
    let enter = || Event::EnterQueue { channel: Channel::Video, priority: 0 };
    let push = || Event::Connect { mode: RoutingMode::Push };
    let done = || Event::WrapUpDone { disposition: "resolved".into() };
    // S1, Sales: answered by Alice after 10 s; a minute on hold; 660 s handled; rated 5.
    let s1_sales = About::help_session(s1, sales);
    event(pool, DAY, "09:10:00", s1_sales, enter()).await;
    event(pool, DAY, "09:10:02", s1_sales.by(alice), Event::Offer {}).await;
    event(pool, DAY, "09:10:10", s1_sales.by(alice), push()).await;
    event(pool, DAY, "09:12:00", s1_sales.by(alice), Event::Hold { switched_to: None }).await;
    event(pool, DAY, "09:13:00", s1_sales.by(alice), Event::Resume {}).await;
    event(pool, DAY, "09:20:10", s1_sales.by(alice), Event::EndByAgent {}).await;
    event(pool, DAY, "09:21:10", s1_sales.by(alice), done()).await;
    event(pool, DAY, "09:21:30", s1_sales.by(alice), Event::Rated { rating: 5 }).await;
    // S2, Sales: leaves after 3 s, a short abandon.
    event(pool, DAY, "09:30:00", About::help_session(s2, sales), enter()).await;
    event(pool, DAY, "09:30:03", About::help_session(s2, sales), Event::Cancel {}).await;
    // S3, Sales: gone after 60 s, abandoned after the 20 s threshold.
    event(pool, DAY, "09:40:00", About::help_session(s3, sales), enter()).await;
    event(pool, DAY, "09:41:00", About::help_session(s3, sales), Event::Abandon {}).await;
    // S4, Sales: Alice misses the offer; Bob answers after 30 s; 330 s handled; rated 3.
    let s4_sales = About::help_session(s4, sales);
    event(pool, DAY, "10:00:00", s4_sales, enter()).await;
    event(pool, DAY, "10:00:01", s4_sales.by(alice), Event::Offer {}).await;
    event(pool, DAY, "10:00:16", s4_sales.by(alice), Event::Rona {}).await;
    event(pool, DAY, "10:00:17", s4_sales.by(bob), Event::Offer {}).await;
    event(pool, DAY, "10:00:30", s4_sales.by(bob), push()).await;
    event(pool, DAY, "10:05:30", s4_sales.by(bob), Event::EndByCustomer {}).await;
    event(pool, DAY, "10:06:00", s4_sales.by(bob), done()).await;
    event(pool, DAY, "10:06:10", s4_sales.by(bob), Event::Rated { rating: 3 }).await;
    // S5: Sales, answered by Alice after 5 s, transferred to Support after
    // 180 s; Support answers (Bob) 20 s later; Alice wraps her part up while
    // Bob talks (which ends nothing of his); Bob handles 480 s.
    let (s5_sales, s5_support) = (About::help_session(s5, sales), About::help_session(s5, support));
    event(pool, DAY, "11:00:00", s5_sales, enter()).await;
    event(pool, DAY, "11:00:05", s5_sales.by(alice), Event::Connect { mode: RoutingMode::Pull }).await;
    let transfer =
        Event::Transfer { stage: TransferStage::Requested, warm: false, to_queue: support, to_agent: None, reason: None };
    event(pool, DAY, "11:03:05", s5_support.by(alice), transfer).await;
    event(pool, DAY, "11:03:25", s5_support.by(bob), push()).await;
    event(pool, DAY, "11:04:00", s5_sales.by(alice), done()).await;
    event(pool, DAY, "11:10:25", s5_support.by(bob), Event::EndByAgent {}).await;
    event(pool, DAY, "11:11:25", s5_support.by(bob), done()).await;
    // S7, Support: gone after 20 s: abandoned, but within Support's 30 s.
    event(pool, DAY, "12:00:00", About::help_session(s7, support), enter()).await;
    event(pool, DAY, "12:00:20", About::help_session(s7, support), Event::Abandon {}).await;
    // S6, Support, across midnight: answered by Bob after 60 s at 23:56,
    // ended 00:10 and wrapped up 00:11 the next day: 900 s handled.
    let s6_support = About::help_session(s6, support);
    event(pool, DAY, "23:55:00", s6_support, enter()).await;
    event(pool, DAY, "23:56:00", s6_support.by(bob), push()).await;
    event(pool, NEXT_DAY, "00:10:00", s6_support.by(bob), Event::EndByCustomer {}).await;
    event(pool, NEXT_DAY, "00:11:00", s6_support.by(bob), done()).await;
}

async fn script(pool: &PgPool) -> Day {
    let day = Day {
        sales: queue(pool, "Sales", 20).await,
        support: queue(pool, "Support", 30).await,
        alice: rep(pool, "Alice").await,
        bob: rep(pool, "Bob").await,
        carol: rep(pool, "Carol").await,
    };
    agents_day(pool, &day).await;
    sessions_day(pool, &day).await;
    day
}

fn settings(time_zone: &str) -> MetricsSettings {
    MetricsSettings { time_zone: time_zone.into(), short_abandon_seconds: 5.0 }
}

async fn read(pool: &PgPool, time_zone: &str, from: &str, to: &str, queue: Option<QueueId>) -> Report {
    let query =
        ReportQuery { span: "custom".into(), from: Some(from.into()), to: Some(to.into()), queue: queue.map(QueueId::uuid) };
    report::report(pool, &settings(time_zone), &query).await.unwrap()
}

fn line<'a>(lines: &'a [app::metrics::Line], label: &str) -> &'a Figures {
    &lines.iter().find(|line| line.label == label).unwrap_or_else(|| panic!("no line {label}")).figures
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a figure");
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_scripted_day_gives_the_figures_worked_out_by_hand(pool: PgPool) {
    let d = script(&pool).await;
    roll::roll(&pool, 5.0).await.unwrap();
    let day = read(&pool, "UTC", DAY, DAY, None).await;

    // Sales: S1–S5 offered; S1 (10 s), S4 (30 s), S5 (5 s) answered, two
    // within 20 s; S3 abandoned after 60 s; S2 a short abandon.
    let sales = line(&day.by_queue, "Sales");
    assert_eq!((sales.offered, sales.answered, sales.abandoned, sales.short_abandoned), (5, 3, 1, 1));
    close(sales.service_level(), 2.0 / 4.0);
    close(sales.asa(), 45.0 / 3.0);
    close(sales.abandonment_rate(), 1.0 / 4.0);
    // Handled: S1 by Alice 660 s, S4 by Bob 330 s, S5 by Alice until the transfer 180 s.
    assert_eq!(sales.handled, 3);
    close(sales.aht(), (660.0 + 330.0 + 180.0) / 3.0);
    close(sales.csat(), 4.0);
    close(sales.response_rate(), 2.0 / 3.0);
    assert_eq!(sales.rona, 1);

    // Support: S5 (transferred in, answered in 20 s), S6 (60 s, past 30 s), S7 abandoned at 20 s.
    let support = line(&day.by_queue, "Support");
    assert_eq!((support.offered, support.answered, support.abandoned, support.short_abandoned), (3, 2, 1, 0));
    close(support.service_level(), 1.0 / 2.0);
    close(support.asa(), 80.0 / 2.0);
    close(support.abandonment_rate(), 1.0 / 3.0);
    // S6 crossed midnight and counts, whole, on the day it entered.
    assert_eq!(support.handled, 2);
    close(support.aht(), (480.0 + 900.0) / 2.0);
    assert_eq!(support.csat(), None);
    close(support.response_rate(), 0.0);

    // The whole service.
    let all = &day.total;
    assert_eq!((all.offered, all.answered, all.abandoned, all.short_abandoned, all.handled), (8, 5, 2, 1, 5));
    close(all.service_level(), 3.0 / 6.0);
    close(all.asa(), 125.0 / 5.0);
    close(all.aht(), 2550.0 / 5.0);
    close(all.abandonment_rate(), 2.0 / 7.0);
    close(all.csat(), 4.0);
    close(all.response_rate(), 2.0 / 5.0);
    // Occupancy: Alice handled 840 s of 8 h less 5 min NOT_READY; Bob
    // handled 330 + 480 + 240 (S6 until midnight) of his 15 h that day.
    // Carol, NOT_READY all day, counts for neither.
    close(all.occupancy(), (840.0 + 1050.0) / (28_500.0 + 54_000.0));

    let alice = line(&day.by_representative, "Alice");
    assert_eq!((alice.answered, alice.handled, alice.rona), (2, 2, 1));
    close(alice.aht(), 420.0);
    close(alice.occupancy(), 840.0 / 28_500.0);
    close(alice.csat(), 5.0);
    close(alice.response_rate(), 0.5);
    let bob = line(&day.by_representative, "Bob");
    assert_eq!((bob.answered, bob.handled, bob.rona), (3, 3, 0));
    close(bob.aht(), 1710.0 / 3.0);
    close(bob.occupancy(), 1050.0 / 54_000.0);
    close(bob.csat(), 3.0);
    // Carol, NOT_READY 08:00–18:00: ten hours not ready, no occupancy.
    let carol = line(&day.by_representative, "Carol");
    assert_eq!((carol.answered, carol.handled), (0, 0));
    assert_eq!(carol.occupancy(), None);
    close(Some(carol.not_ready_seconds), 36_000.0);
    close(Some(alice.not_ready_seconds), 300.0);
    close(Some(bob.not_ready_seconds), 0.0);

    // By hour (UTC): 09 has S1–S3, 11 the transfer's two visits, 23 S6.
    assert_eq!(line(&day.by_hour, "09").offered, 3);
    assert_eq!(line(&day.by_hour, "11").offered, 2);
    assert_eq!(line(&day.by_hour, "23").offered, 1);
    assert_eq!(line(&day.by_hour, "13").offered, 0);

    // The next day has only Bob's last half hour: 660 s of S6, 1140 s idle.
    let both = read(&pool, "UTC", DAY, NEXT_DAY, None).await;
    assert_eq!(both.by_day.len(), 2);
    let next = line(&both.by_day, NEXT_DAY);
    assert_eq!((next.offered, next.handled), (0, 0));
    close(next.occupancy(), 660.0 / 1800.0);

    // One queue: Sales alone, with every representative's occupancy.
    let only_sales = read(&pool, "UTC", DAY, DAY, Some(d.sales)).await;
    assert_eq!(only_sales.by_queue.len(), 1);
    assert_eq!(only_sales.total.offered, 5);

    // In New York (UTC−4 that day) S1–S3 are at 05, and Bob's half hour
    // past UTC midnight is still the 10th.
    let new_york = read(&pool, "America/New_York", DAY, NEXT_DAY, None).await;
    assert_eq!(line(&new_york.by_hour, "05").offered, 3);
    assert_eq!(line(&new_york.by_day, NEXT_DAY).occupancy(), None);
    close(line(&new_york.by_day, DAY).occupancy(), (840.0 + 1710.0) / (28_500.0 + 55_800.0));
}

/// Conversations with several representatives: a conference (the
/// colleague leaves first), a conference whose owner leaves it to the
/// colleague, and a warm transfer with a colleague whose desk is lost.
/// Every representative's part counts as handled once, with its own time;
/// a lost part counts nothing. Rolled one event per transaction, so what
/// the roller remembers of each part survives between rolls.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn each_representatives_part_of_a_conversation_counts_as_handled(pool: PgPool) {
    let sales = queue(&pool, "Sales", 20).await;
    let (alice, bob, carol) = (rep(&pool, "Alice").await, rep(&pool, "Bob").await, rep(&pool, "Carol").await);
    let new = || HelpSessionId(Uuid::new_v4());
    let enter = || Event::EnterQueue { channel: Channel::Video, priority: 0 };
    let push = || Event::Connect { mode: RoutingMode::Push };
    let done = || Event::WrapUpDone { disposition: "resolved".into() };
    let join = |role| Event::ParticipantJoin { role };
    let leave = |role, lost| Event::ParticipantLeave { role, lost };
    let asked = |stage, to_agent| Event::Conference { stage, to_agent, to_queue: None, reason: None };
    // C1: Alice answers at 09:00:10; Bob joins at 09:02 and leaves at 09:05
    // (180 s, wrapped up later: his part ended when he left); Alice ends at
    // 09:10 and wraps up at 09:10:30 (620 s).
    let c1 = About::help_session(new(), sales);
    event(&pool, DAY, "09:00:00", c1, enter()).await;
    event(&pool, DAY, "09:00:10", c1.by(alice), push()).await;
    event(&pool, DAY, "09:01:50", c1.by(alice), asked(TransferStage::Requested, bob)).await;
    event(&pool, DAY, "09:02:00", c1.by(bob), join(ParticipantRole::Conference)).await;
    event(&pool, DAY, "09:05:00", c1.by(bob), leave(ParticipantRole::Conference, false)).await;
    event(&pool, DAY, "09:05:20", c1.by(bob), done()).await;
    event(&pool, DAY, "09:10:00", c1.by(alice), Event::EndByAgent {}).await;
    event(&pool, DAY, "09:10:30", c1.by(alice), done()).await;
    // C2: Alice answers at 10:00; Carol joins at 10:01; Alice leaves at
    // 10:04 (240 s) and Carol owns it from the part she began at 10:01,
    // to her wrap-up at 10:09:30 (510 s).
    let c2 = About::help_session(new(), sales);
    event(&pool, DAY, "09:59:50", c2, enter()).await;
    event(&pool, DAY, "10:00:00", c2.by(alice), push()).await;
    event(&pool, DAY, "10:01:00", c2.by(carol), join(ParticipantRole::Conference)).await;
    event(&pool, DAY, "10:04:00", c2.by(alice), leave(ParticipantRole::Agent, false)).await;
    event(&pool, DAY, "10:04:00", c2.by(carol), join(ParticipantRole::Agent)).await;
    event(&pool, DAY, "10:04:30", c2.by(alice), done()).await;
    event(&pool, DAY, "10:09:00", c2.by(carol), Event::EndByCustomer {}).await;
    event(&pool, DAY, "10:09:30", c2.by(carol), done()).await;
    // C3: Alice answers at 11:00; Bob consults from 11:01; Carol joins at
    // 11:01:30 and her desk is lost at 11:01:40 (nothing handled); Alice
    // completes at 11:02 (120 s); Bob owns it from 11:01 to his wrap-up at
    // 11:06:30 (330 s).
    let c3 = About::help_session(new(), sales);
    event(&pool, DAY, "10:59:55", c3, enter()).await;
    event(&pool, DAY, "11:00:00", c3.by(alice), push()).await;
    event(&pool, DAY, "11:01:00", c3.by(bob), join(ParticipantRole::Consult)).await;
    event(&pool, DAY, "11:01:30", c3.by(carol), join(ParticipantRole::Conference)).await;
    event(&pool, DAY, "11:01:40", c3.by(carol), leave(ParticipantRole::Conference, true)).await;
    event(&pool, DAY, "11:02:00", c3.by(alice), leave(ParticipantRole::Agent, false)).await;
    event(&pool, DAY, "11:02:00", c3.by(bob), join(ParticipantRole::Agent)).await;
    event(&pool, DAY, "11:02:10", c3.by(alice), done()).await;
    event(&pool, DAY, "11:06:00", c3.by(bob), Event::EndByAgent {}).await;
    event(&pool, DAY, "11:06:30", c3.by(bob), done()).await;

    while roll::roll_batch(&pool, 5.0, 1).await.unwrap().1 {}
    let day = read(&pool, "UTC", DAY, DAY, None).await;
    let sales = line(&day.by_queue, "Sales");
    // Three customers offered and answered once each; six parts handled.
    assert_eq!((sales.offered, sales.answered, sales.handled), (3, 3, 6));
    let alice = line(&day.by_representative, "Alice");
    assert_eq!((alice.answered, alice.handled), (3, 3));
    close(Some(alice.handle_seconds), 620.0 + 240.0 + 120.0);
    let bob = line(&day.by_representative, "Bob");
    assert_eq!((bob.answered, bob.handled), (0, 2));
    close(Some(bob.handle_seconds), 180.0 + 330.0);
    let carol = line(&day.by_representative, "Carol");
    assert_eq!((carol.answered, carol.handled), (0, 1));
    close(Some(carol.handle_seconds), 510.0);
}

/// A small day through the engine's real calls. The day runs in a moment,
/// so once the engine has written its events they are given the script's
/// times, in the order written; then the figures are those worked out by
/// hand. What is checked is what the engine writes (which events, about
/// whom, with which details) and what the roller makes of it.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_day_through_the_engine_gives_the_figures_worked_out_by_hand(pool: PgPool) {
    use app::engine::control::{self, EndedBy};
    use app::engine::{agents, offers};
    let engine = common::engine(&pool).await;
    let q = common::add_queue(&pool, "Day", "push", "longest_idle").await;
    let ann = common::add_agent(&pool, "ann@example.com", "Ann", q).await;
    let request = |name: &str| NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: q,
        customer_name: name.into(),
        reason: "A day".into(),
        channel: Channel::Video,
        phone: None,
        priority: 0,
        window: None,
    };
    agents::log_in(&engine, ann).await.unwrap();
    agents::set_ready(&engine, ann).await.unwrap();
    let first = line::enter(&engine, request("First")).await.unwrap();
    offers::accept(&engine, ann, first).await.unwrap();
    control::hold(&engine, ann, first).await.unwrap();
    control::resume(&engine, ann, first).await.unwrap();
    control::end(&engine, first, EndedBy::Agent).await.unwrap();
    control::wrap_up(&engine, ann, first, "Resolved", "").await.unwrap();
    control::rate(&engine, first, 4, "Quick").await.unwrap();
    agents::set_not_ready_reason(&engine, ann, "Break").await.unwrap();
    let second = line::enter(&engine, request("Second")).await.unwrap();
    line::leave(&engine, second, Left::Abandoned).await.unwrap();
    agents::hand_back(&engine, ann, "Logged out").await.unwrap();

    let script = [
        ("AGENT_STATE", "08:59:00"), // logged in: NOT_READY
        ("AGENT_STATE", "09:00:00"), // READY
        ("ENTER_QUEUE", "09:10:00"),
        ("OFFER", "09:10:00"),
        ("CONNECT", "09:10:15"), // waited 15 s, inside the 20 s threshold
        ("HOLD", "09:12:00"),
        ("RESUME", "09:13:00"),
        ("END_BY_AGENT", "09:20:15"),
        ("WRAP_UP_DONE", "09:21:15"), // handled 660 s, hold and wrap-up included
        ("RATED", "09:21:30"),
        ("AGENT_STATE", "09:30:00"), // NOT_READY, Break
        ("ENTER_QUEUE", "09:35:00"),
        ("ABANDON", "09:36:00"),     // gone after 60 s
        ("AGENT_STATE", "10:00:00"), // LOGGED_OUT
    ];
    let written: Vec<(i64, String)> = sqlx::query_as("SELECT id, kind FROM events ORDER BY id").fetch_all(&pool).await.unwrap();
    let kinds: Vec<&str> = written.iter().map(|(_, kind)| kind.as_str()).collect();
    assert_eq!(kinds, script.map(|(kind, _)| kind), "the engine wrote the day's events in order");
    for ((id, _), (_, time)) in written.iter().zip(script) {
        sqlx::query("UPDATE events SET at = ($2 || ' ' || $3 || '+00')::timestamptz WHERE id = $1")
            .bind(id)
            .bind(DAY)
            .bind(time)
            .execute(&pool)
            .await
            .unwrap();
    }
    roll::roll(&pool, 5.0).await.unwrap();

    let day = read(&pool, "UTC", DAY, DAY, None).await;
    let all = &day.total;
    assert_eq!((all.offered, all.answered, all.abandoned, all.short_abandoned, all.handled), (2, 1, 1, 0, 1));
    close(all.asa(), 15.0);
    close(all.aht(), 660.0);
    close(all.csat(), 4.0);
    close(all.response_rate(), 1.0);
    // READY 09:00-09:30: 660 s handling, 1,140 s idle.
    close(all.occupancy(), 660.0 / 1800.0);
    let ann = line(&day.by_representative, "Ann");
    assert_eq!((ann.answered, ann.handled, ann.rona), (1, 1, 0));
    // NOT_READY 08:59-09:00 and 09:30-10:00.
    close(Some(ann.not_ready_seconds), 60.0 + 1800.0);
}

/// Every bucket, in order, for comparing two roll-ups.
async fn buckets(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT concat_ws(' ', bucket, queue_id, representative_id, offered, answered, answered_in_sl, round(wait_seconds::numeric, 3),
                abandoned, abandoned_after_sl, short_abandoned, expired, rona, handled, round(handle_seconds::numeric, 3),
                ratings, rating_sum, round(handling_seconds::numeric, 3), round(ready_idle_seconds::numeric, 3),
                round(not_ready_seconds::numeric, 3))
           FROM metric_buckets ORDER BY bucket, queue_id, representative_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn roll_again_from_scratch(pool: &PgPool) {
    sqlx::query("TRUNCATE metric_buckets, metric_sessions, metric_agents, metric_totals").execute(pool).await.unwrap();
    sqlx::query("UPDATE metric_roll SET rolled_at = '1970-01-01 00:00+00', rolled_id = 0").execute(pool).await.unwrap();
    roll::roll(pool, 5.0).await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_roll_stopped_at_any_point_and_resumed_by_another_server_gives_the_same_figures(pool: PgPool) {
    script(&pool).await;
    let other = sqlx::postgres::PgPoolOptions::new().connect_with((*pool.connect_options()).clone()).await.unwrap();
    // A few events at a time, each transaction by the other server than the
    // last: every stop is a restart from what the database remembers.
    let mut rolled = 0;
    for turn in 0.. {
        let server = if turn % 2 == 0 { &pool } else { &other };
        let (count, more) = roll::roll_batch(server, 5.0, 7).await.unwrap();
        rolled += count;
        if !more {
            break;
        }
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&pool).await.unwrap();
    assert_eq!(rolled as i64, events);
    let resumed = buckets(&pool).await;

    roll_again_from_scratch(&pool).await;
    assert_eq!(resumed, buckets(&pool).await);
    let day = read(&pool, "UTC", DAY, DAY, None).await;
    assert_eq!((day.total.offered, day.total.answered, day.total.handled), (8, 5, 5));
}

#[sqlx::test(migrations = "../migrations")]
async fn rollers_on_several_servers_while_customers_come_and_go_count_each_event_once(pool: PgPool) {
    let queue = common::add_queue(&pool, "Busy", "pull", "longest_idle").await;
    let engine = common::engine(&pool).await;
    let customers = 400;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Three servers' rollers, each with its own pool, rolling as fast as they can.
    let mut rollers = Vec::new();
    for _ in 0..3 {
        let own = sqlx::postgres::PgPoolOptions::new().connect_with((*pool.connect_options()).clone()).await.unwrap();
        let stop = stop.clone();
        rollers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                roll::roll(&own, 5.0).await.unwrap();
            }
        }));
    }
    let mut entering = Vec::new();
    for task in 0..8 {
        let engine = engine.clone();
        entering.push(tokio::spawn(async move {
            for n in 0..customers / 8 {
                let request = NewRequest {
                    from_api: None,
                    from_widget: None,
                    from_address: None,
                    language: None,
                    queue_id: queue,
                    customer_name: format!("Customer {task}-{n}"),
                    reason: "Concurrency".into(),
                    channel: Channel::Chat,
                    phone: None,
                    priority: 0,
                    window: None,
                };
                let session = line::enter(&engine, request).await.unwrap();
                let how = if n % 2 == 0 { Left::Cancelled } else { Left::Abandoned };
                line::leave(&engine, session, how).await.unwrap();
            }
        }));
    }
    for task in entering {
        task.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for roller in rollers {
        roller.await.unwrap();
    }
    roll::roll(&pool, 5.0).await.unwrap();
    let together = buckets(&pool).await;
    let totals: (i64, i64) = sqlx::query_as("SELECT offered, abandoned FROM metric_totals WHERE queue_id = $1")
        .bind(queue)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(totals, (customers as i64, customers as i64));
    let offered: i64 = sqlx::query_scalar("SELECT sum(offered) FROM metric_buckets WHERE queue_id = $1")
        .bind(queue)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(offered, customers as i64);

    roll_again_from_scratch(&pool).await;
    assert_eq!(together, buckets(&pool).await);
}

/// The cells of a table as the page renders them (`<th>` and `<td>` text of
/// the table with this test id).
fn cells_of(html: &str, testid: &str) -> Vec<Vec<String>> {
    // Leptos' hydration markers are comments; they are not what people see.
    let mut text = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("<!") {
        text.push_str(&rest[..at]);
        let end = if rest[at..].starts_with("<!--") {
            rest[at..].find("-->").map(|end| end + 3)
        } else {
            rest[at..].find('>').map(|end| end + 1)
        };
        rest = &rest[at + end.unwrap_or(rest.len() - at)..];
    }
    text.push_str(rest);
    let html = text.as_str();
    let start = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no table {testid}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|cell| cell.starts_with("h") || cell.starts_with("d"))
                .map(|cell| {
                    let text = &cell[cell.find('>').unwrap() + 1..];
                    let text = &text[..text.find('<').unwrap_or(text.len())];
                    text.replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn each_csv_download_has_exactly_the_cells_of_its_table(pool: PgPool) {
    let day = script(&pool).await;
    roll::roll(&pool, 5.0).await.unwrap();
    // Two Sales customers shown 60–120 s on the day: answered after 90 s
    // (inside) and after 150 s (outside).
    for answered in [90, 150] {
        sqlx::query(
            "INSERT INTO help_sessions (queue_id, customer_name, reason, channel, status, entered_at, answered_at,
                                        estimate_low, estimate_high, estimated_at)
             VALUES ($1, 'Shown', 'help', 'chat', 'completed', $2::timestamptz, $2::timestamptz + make_interval(secs => $3),
                     60, 120, $2::timestamptz)",
        )
        .bind(day.sales)
        .bind(format!("{DAY} 14:00:00+00"))
        .bind(f64::from(answered))
        .execute(&pool)
        .await
        .unwrap();
    }
    let app = common::TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in(Role::Admin).await;
    let range = format!("span=custom&from={DAY}&to={NEXT_DAY}");
    let page = admin.get(app.url(&format!("/admin?{range}"))).send().await.unwrap().text().await.unwrap();
    for kind in TableKind::ALL {
        let response = admin.get(app.url(&format!("/admin/export.csv?table={}&{range}", kind.as_str()))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = response.text().await.unwrap();
        let csv = csv_rows(&body);
        let shown = cells_of(&page, &format!("table-{}", kind.as_str()));
        assert_eq!(csv, shown, "{}", kind.as_str());
        assert!(csv.len() > 1, "{} has rows", kind.as_str());
    }
    // The figures a person reads are in them.
    let estimates = csv_rows(
        &admin.get(app.url(&format!("/admin/export.csv?table=estimates&{range}"))).send().await.unwrap().text().await.unwrap(),
    );
    assert_eq!(estimates[1], ["Sales", "chat", "2", "1", "50.0"]);
    let queues = csv_rows(
        &admin.get(app.url(&format!("/admin/export.csv?table=queues&{range}"))).send().await.unwrap().text().await.unwrap(),
    );
    assert_eq!(queues[0][0], "Queue");
    let sales = queues.iter().find(|row| row[0] == "Sales").unwrap();
    assert_eq!(&sales[1..6], ["5", "3", "1", "1", "50.0"]);

    // Bad input: a clear 400; a representative: 403; nobody: sign in.
    let bad =
        admin.get(app.url("/admin/export.csv?table=queues&span=custom&from=2026-13-01&to=2026-03-10")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("first day"));
    let unknown = admin.get(app.url("/admin/export.csv?table=nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 400);
    let agent = app.signed_in(Role::Agent).await;
    assert_eq!(agent.get(app.url("/admin/export.csv?table=queues")).send().await.unwrap().status(), 403);
    assert_eq!(app.client().get(app.url("/admin/export.csv?table=queues")).send().await.unwrap().status(), 303);
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_endpoint_reports_queues_representatives_counters_and_latency(pool: PgPool) {
    let queue = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    let app = common::TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let request = |name: &str| NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: queue,
        customer_name: name.into(),
        reason: "Metrics".into(),
        channel: Channel::Chat,
        phone: None,
        priority: 0,
        window: None,
    };
    let agent = common::add_agent(&pool, "pat@example.com", "Pat", queue).await;
    app::engine::agents::log_in(&engine, agent).await.unwrap();
    line::enter(&engine, request("Waits")).await.unwrap();
    let leaves = line::enter(&engine, request("Leaves")).await.unwrap();
    line::leave(&engine, leaves, Left::Cancelled).await.unwrap();
    // One customer shown 10–30 s a moment ago, answered 20 s after.
    sqlx::query(
        "INSERT INTO help_sessions (queue_id, customer_name, reason, channel, status, answered_at,
                                    estimate_low, estimate_high, estimated_at)
         VALUES ($1, 'Shown', 'help', 'chat', 'completed', now() + interval '20 s', 10, 30, now())",
    )
    .bind(queue)
    .execute(&pool)
    .await
    .unwrap();
    let client = app.client();
    assert_eq!(client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    // The background roller catches up within a couple of seconds.
    let mut body = String::new();
    for _ in 0..50 {
        body = client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        if body.contains("switchboard_queue_abandons_total{queue=\"Billing\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(body.contains("switchboard_queue_waiting{queue=\"Billing\"} 1"), "{body}");
    assert!(body.contains("switchboard_queue_offered_total{queue=\"Billing\"} 2"), "{body}");
    assert!(body.contains("switchboard_queue_abandons_total{queue=\"Billing\"} 1"), "{body}");
    assert!(body.contains("switchboard_queue_oldest_wait_seconds{queue=\"Billing\"}"), "{body}");
    assert!(body.contains("switchboard_estimates_scored_today{queue=\"Billing\",channel=\"chat\"} 1"), "{body}");
    assert!(body.contains("switchboard_estimate_accuracy_today{queue=\"Billing\",channel=\"chat\"} 1.0"), "{body}");
    assert!(body.contains("switchboard_representatives{state=\"not_ready\",reason=\"Logged in\"} 1"), "{body}");
    assert!(body.contains("switchboard_representatives{state=\"ready\",reason=\"\"} 0"), "{body}");
    assert!(body.contains("switchboard_http_request_duration_seconds_bucket{"), "{body}");
    assert!(body.contains("route=\"/healthz\""), "{body}");

    // Closed unless the operator set a token or opened it: a stranger
    // learns nothing, with no token or a wrong one.
    let mut config = common::test_config();
    config.metrics_access = server::config::Config::from_env().unwrap().metrics_access;
    assert_eq!(config.metrics_access, server::metrics::MetricsAccess::Closed, "closed by default");
    let closed = common::TestApp::spawn_with(pool.clone(), config.clone()).await;
    assert_eq!(client.get(closed.url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(client.get(closed.url("/metrics")).bearer_auth("").send().await.unwrap().status(), 401);
    config.metrics_access = server::metrics::MetricsAccess::Token("operator-secret".into());
    let guarded = common::TestApp::spawn_with(pool.clone(), config).await;
    assert_eq!(client.get(guarded.url("/metrics")).send().await.unwrap().status(), 401);
    for wrong in ["operator-secreT", "operator-secret2", "operator"] {
        assert_eq!(client.get(guarded.url("/metrics")).bearer_auth(wrong).send().await.unwrap().status(), 401, "{wrong}");
    }
    let allowed = client.get(guarded.url("/metrics")).bearer_auth("operator-secret").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
}
