//! Honest waits (SPEC §5): what the estimate reads from the engine (seats,
//! measured rates, when it cannot estimate), the first range each customer
//! is shown, kept with their help session, and the dashboard's "Estimate
//! accuracy" worked out by hand on a scripted day.

mod common;

use app::customer::view::{customer_view, numbers, record_first_estimates, Spot};
use app::customer::wait_model::{estimate, Measured, FORGET_SECONDS};
use app::customer::CustomerView;
use app::engine::control::{self, EndedBy};
use app::engine::line::{self, Left, NewRequest};
use app::engine::{agents, pull, Engine};
use app::metrics::{report, ReportQuery, TableKind};
use app::queue::Channel;
use app::states::{HelpSessionId, QueueId};
use common::{add_queue, named_agent, ready};
use sqlx::PgPool;

async fn enter(engine: &Engine, queue: QueueId, name: &str, channel: Channel) -> HelpSessionId {
    let request = NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: queue,
        customer_name: name.into(),
        reason: "help".into(),
        channel,
        phone: None,
        priority: 0,
        window: None,
    };
    line::enter(engine, request).await.unwrap()
}

/// The estimate the customer's page shows.
async fn shown(pool: &PgPool, customer: HelpSessionId) -> String {
    match customer_view(pool, customer).await.unwrap() {
        Some(CustomerView::Waiting { estimate, .. }) => estimate,
        other => panic!("not waiting: {other:?}"),
    }
}

/// The first range the customer was shown, as kept.
async fn recorded(pool: &PgPool, customer: HelpSessionId) -> (f32, f32) {
    sqlx::query_as("SELECT estimate_low, estimate_high FROM help_sessions WHERE id = $1")
        .bind(customer)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// What a customer with `ahead` ahead and `seats` serving is told before
/// anything was measured (five-minute services, nobody giving up).
fn unmeasured(ahead: u32, seats: f64) -> String {
    let range = estimate(ahead, seats, &[], &Measured::default()).unwrap();
    app::customer::wait_model::in_words((range.low, range.high))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-3 * b.abs().max(1.0)
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn seats_count_each_ready_member_by_capacity_channel_and_the_queues_they_share(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Line", "pull", "longest_idle").await;
    let other = add_queue(&pool, "Other", "pull", "longest_idle").await;
    // Ann: every channel (video 1, audio 1, chat 3). Bo: chat switched off.
    // Cy: also serves Other, where a chat customer waits: half of his chat
    // seats count here, and all his video seat (nobody waits for video
    // there). Di: logged in, not ready.
    let ann = named_agent(&pool, "Ann", queue).await;
    let bo = named_agent(&pool, "Bo", queue).await;
    let cy = named_agent(&pool, "Cy", queue).await;
    let di = named_agent(&pool, "Di", queue).await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(other)
        .bind(cy)
        .execute(&pool)
        .await
        .unwrap();
    for agent in [ann, bo, cy] {
        ready(&engine, agent).await;
    }
    agents::set_channel(&engine, bo, Channel::Chat, false).await.unwrap();
    agents::log_in(&engine, di).await.unwrap();
    enter(&engine, other, "Olga", Channel::Chat).await;

    let figures = numbers(&pool, queue).await.unwrap();
    let seats = |channel| figures.channels[&channel].seats;
    assert_eq!(seats(Channel::Video), 1.0 + 1.0 + 1.0);
    assert_eq!(seats(Channel::Chat), 3.0 + 0.0 + 1.5, "chat: three seats each, none with chat off");

    // A chat customer is estimated with those seats: nothing measured yet,
    // so from the default handle time of five minutes.
    let customer = enter(&engine, queue, "Eve", Channel::Chat).await;
    let expected = estimate(0, 4.5, &[], &Measured::default()).unwrap();
    assert_eq!(figures.range(Channel::Chat, Spot { position: 1, ahead: 0, offered: false }), Some(expected));
    assert_eq!(shown(&pool, customer).await, unmeasured(0, 4.5));
    // The same range in seconds, for the API.
    let Some(CustomerView::Waiting { range_seconds, .. }) = customer_view(&pool, customer).await.unwrap() else { panic!() };
    assert_eq!(range_seconds, Some((expected.low.round() as u32, expected.high.round() as u32)));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn no_seat_ready_or_nobody_served_for_long_cannot_be_estimated(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Line", "pull", "longest_idle").await;
    let ann = named_agent(&pool, "Ann", queue).await;
    let first = enter(&engine, queue, "First", Channel::Audio).await;
    assert_eq!(shown(&pool, first).await, "can't estimate right now", "nobody READY");

    ready(&engine, ann).await;
    let second = enter(&engine, queue, "Second", Channel::Audio).await;
    assert_ne!(shown(&pool, second).await, "can't estimate right now", "one seat READY");

    // The first has waited 20 minutes and nobody was served meanwhile.
    sqlx::query("UPDATE queue_entries SET enqueued_at = now() - interval '20 minutes' WHERE help_session_id = $1")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(shown(&pool, second).await, "can't estimate right now", "the line is stuck");
    // Someone is served: it moves again.
    let taken = pull::next_customer(&engine, ann).await.unwrap().unwrap();
    assert_eq!(taken.help_session_id, first);
    assert_ne!(shown(&pool, second).await, "can't estimate right now");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_first_range_shown_is_kept_and_the_dashboard_scores_it(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Line", "pull", "longest_idle").await;
    let ann = named_agent(&pool, "Ann", queue).await;
    ready(&engine, ann).await;
    for channel in [Channel::Video, Channel::Chat, Channel::Callback] {
        agents::set_channel(&engine, ann, channel, false).await.unwrap();
    }

    // The scripted history, through the engine, then its times set: C1
    // waited 10 s and was served for 10 s; C2 waited 30 s, served 30 s; C3
    // gave up after 20 s.
    let mut history = Vec::new();
    for name in ["C1", "C2"] {
        let customer = enter(&engine, queue, name, Channel::Audio).await;
        pull::next_customer(&engine, ann).await.unwrap().unwrap();
        control::end(&engine, customer, EndedBy::Agent).await.unwrap();
        control::wrap_up(&engine, ann, customer, "Resolved", "").await.unwrap();
        history.push(customer);
    }
    let gave_up = enter(&engine, queue, "C3", Channel::Audio).await;
    line::leave(&engine, gave_up, Left::Cancelled).await.unwrap();
    for (customer, entered, answered, done) in [(history[0], 300, 290, 280), (history[1], 200, 170, 140)] {
        sqlx::query(
            "UPDATE help_sessions SET entered_at = now() - make_interval(secs => $2),
                    answered_at = now() - make_interval(secs => $3), completed_at = now() - make_interval(secs => $4)
              WHERE id = $1",
        )
        .bind(customer)
        .bind(f64::from(entered))
        .bind(f64::from(answered))
        .bind(f64::from(done))
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE help_sessions SET entered_at = now() - interval '120 s', ended_at = now() - interval '100 s' WHERE id = $1",
    )
    .bind(gave_up)
    .execute(&pool)
    .await
    .unwrap();

    // Two customers wait; the sweeper keeps the range each is given.
    let d = enter(&engine, queue, "D", Channel::Audio).await;
    let e = enter(&engine, queue, "E", Channel::Audio).await;
    assert_eq!(record_first_estimates(&pool).await.unwrap(), 2);

    // Worked out by hand: each moment weighted e^(-age/3600).
    let w = |age: f64| (-age / FORGET_SECONDS).exp();
    let measured = Measured {
        services: w(280.0) + w(140.0),
        busy_seconds: 10.0 * w(280.0) + 30.0 * w(140.0),
        abandons: w(100.0),
        waited_seconds: 20.0 * w(100.0) + 10.0 * w(290.0) + 30.0 * w(170.0),
    };
    // The handle times it starts from: 30 s and 10 s, the latest first; one seat.
    for (customer, ahead) in [(d, 0), (e, 1)] {
        let expected = estimate(ahead, 1.0, &[30.0, 10.0], &measured).unwrap();
        let (low, high) = recorded(&pool, customer).await;
        assert!(close(f64::from(low), expected.low) && close(f64::from(high), expected.high), "{low}–{high} vs {expected:?}");
    }
    // A later view changes nothing: the first range is the one scored.
    sqlx::query("UPDATE help_sessions SET estimate_low = 1, estimate_high = 2 WHERE id = $1")
        .bind(e)
        .execute(&pool)
        .await
        .unwrap();
    shown(&pool, e).await;
    assert_eq!(record_first_estimates(&pool).await.unwrap(), 0);
    assert_eq!(recorded(&pool, e).await, (1.0, 2.0));

    // D is answered inside their range, E after its top (2 s), and F,
    // shown a range too, leaves unanswered: one in two held.
    let f = enter(&engine, queue, "F", Channel::Audio).await;
    record_first_estimates(&pool).await.unwrap();
    line::leave(&engine, f, Left::Cancelled).await.unwrap();
    for (customer, after) in [(d, "(estimate_low + estimate_high) / 2"), (e, "estimate_high + 5")] {
        assert_eq!(pull::next_customer(&engine, ann).await.unwrap().unwrap().help_session_id, customer);
        sqlx::query(&format!(
            "UPDATE help_sessions SET answered_at = estimated_at + make_interval(secs => {after}) WHERE id = $1"
        ))
        .bind(customer)
        .execute(&pool)
        .await
        .unwrap();
        control::end(&engine, customer, EndedBy::Agent).await.unwrap();
        control::wrap_up(&engine, ann, customer, "Resolved", "").await.unwrap();
    }
    let settings = app::metrics::MetricsSettings::default();
    let query = ReportQuery { span: "today".into(), from: None, to: None, queue: None };
    let report = report::report(&pool, &settings, &query).await.unwrap();
    assert_eq!(report.table(TableKind::Estimates).rows, [["Line", "audio", "2", "1", "50.0"]]);
    assert_eq!(app::metrics::Accuracy::total(&report.estimates).rate(), Some(0.5));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_offered_a_free_seat_is_told_less_than_a_minute(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Front", "push", "longest_idle").await;
    let ann = named_agent(&pool, "Ann", queue).await;
    ready(&engine, ann).await;
    // Ann's one video seat: the first is offered to her at once.
    let first = enter(&engine, queue, "First", Channel::Video).await;
    app::engine::offering::dispatch(&engine, queue).await;
    assert_eq!(shown(&pool, first).await, "less than a minute");
    record_first_estimates(&pool).await.unwrap();
    let (low, high) = recorded(&pool, first).await;
    assert_eq!((low, high), (0.0, 59.0));
    // The second waits behind the first for her seat: the wait model's range.
    let second = enter(&engine, queue, "Second", Channel::Video).await;
    assert_eq!(shown(&pool, second).await, unmeasured(1, 1.0));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_whose_range_runs_past_closing_is_told_so(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Evening", "pull", "longest_idle").await;
    let ann = named_agent(&pool, "Ann", queue).await;
    ready(&engine, ann).await;
    let first = enter(&engine, queue, "First", Channel::Audio).await;
    assert!(!shown(&pool, first).await.contains("close"), "no hours: always open");
    // Open today from midnight (UTC) until two minutes from now.
    sqlx::query(
        "INSERT INTO queue_hours (queue_id, weekday, opens, closes)
         VALUES ($1, extract(isodow FROM now() AT TIME ZONE 'UTC'), '00:00',
                 least((now() AT TIME ZONE 'UTC')::time + interval '2 minutes', '23:59:59'))",
    )
    .bind(queue)
    .execute(&pool)
    .await
    .unwrap();
    let second = enter(&engine, queue, "Second", Channel::Audio).await;
    let words = unmeasured(0, 1.0);
    assert_eq!(shown(&pool, first).await, format!("{words}, but we close before then: your turn may come after we open again"));
    assert!(shown(&pool, second).await.ends_with("but we close before then: your turn may come after we open again"));
}
