//! Callbacks, opening hours and places kept (SPEC §5, §7), through the
//! engine's real calls on a real database.

mod common;

use app::engine::callback::{self, Switch};
use app::engine::line::{self, NewRequest, Window};
use app::engine::presence::{self, Subject};
use app::engine::{control, offering, offers, Engine};
use app::error::AppError;
use app::queue::Channel;
use app::states::{AgentId, CallbackOutcome, HelpSessionId, QueueId};
use common::{line_names, named_agent, ready, status_of};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

fn asking(queue: QueueId, name: &str, channel: Channel, phone: Option<&str>) -> NewRequest {
    NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: queue,
        customer_name: name.into(),
        reason: "help".into(),
        channel,
        phone: phone.map(str::to_owned),
        priority: 0,
        window: None,
    }
}

async fn enter(engine: &Engine, queue: QueueId, name: &str, channel: Channel) -> HelpSessionId {
    let phone = (channel == Channel::Callback).then(|| format!("+4420794600{:02}", name.len() * 7 % 100));
    line::enter(engine, asking(queue, name, channel, phone.as_deref())).await.unwrap()
}

/// Who the open offer of `customer` is to, if any.
async fn offered_to(pool: &PgPool, customer: HelpSessionId) -> Option<AgentId> {
    sqlx::query_scalar("SELECT representative_id FROM offers WHERE help_session_id = $1")
        .bind(customer)
        .fetch_optional(pool)
        .await
        .unwrap()
}

/// The callback's attempts as events: (number, outcome).
async fn attempts(pool: &PgPool, customer: HelpSessionId) -> Vec<(i32, String)> {
    sqlx::query_as(
        "SELECT (detail->>'attempt')::int, detail->>'outcome' FROM events
          WHERE help_session_id = $1 AND kind = 'CALLBACK_ATTEMPT' ORDER BY id",
    )
    .bind(customer)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A representative who serves `queue` with only the callback channel on.
async fn caller(engine: &Engine, pool: &PgPool, name: &str, queue: QueueId) -> AgentId {
    let agent = named_agent(pool, name, queue).await;
    ready(engine, agent).await;
    for channel in [Channel::Video, Channel::Audio, Channel::Chat] {
        app::engine::agents::set_channel(engine, agent, channel, false).await.unwrap();
    }
    agent
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_callback_waits_in_the_same_line_by_its_original_age(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    let early = enter(&engine, queue, "Early Callback", Channel::Callback).await;
    let waiting = [
        enter(&engine, queue, "Ann", Channel::Audio).await,
        enter(&engine, queue, "Bo", Channel::Chat).await,
        enter(&engine, queue, "Cy", Channel::Video).await,
    ];
    enter(&engine, queue, "Late Callback", Channel::Callback).await;
    assert_eq!(line_names(&pool, queue).await, ["Early Callback", "Ann", "Bo", "Cy", "Late Callback"]);

    // Switching keeps the entry time, both ways.
    callback::switch(&engine, waiting[0], Switch::CallBack { phone: "+14155550100".into(), window: None }).await.unwrap();
    callback::switch(&engine, waiting[1], Switch::KeepPlace { email: Some("bo@example.com".into()) }).await.unwrap();
    assert_eq!(line_names(&pool, queue).await, ["Early Callback", "Ann", "Bo", "Cy", "Late Callback"]);
    let channel: String = sqlx::query_scalar("SELECT channel FROM queue_entries WHERE help_session_id = $1")
        .bind(waiting[0])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(channel, "callback");
    callback::switch(&engine, waiting[0], Switch::Talk(Channel::Audio)).await.unwrap();
    assert_eq!(line_names(&pool, queue).await[1], "Ann");
    let refused = callback::switch(&engine, waiting[2], Switch::Talk(Channel::Callback)).await;
    assert!(matches!(refused, Err(AppError::Invalid(_))), "{refused:?}");

    // "Next customer" takes the early callback before those who came after.
    let agent = caller(&engine, &pool, "Cal Caller", queue).await;
    let taken = app::engine::pull::next_customer(&engine, agent).await.unwrap().unwrap();
    assert_eq!(taken.help_session_id, early);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn one_open_callback_per_queue_and_number(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let billing = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    let sales = common::add_queue(&pool, "Sales", "pull", "longest_idle").await;
    let first = line::enter(&engine, asking(billing, "Dee", Channel::Callback, Some("+14155550123"))).await.unwrap();
    // Asking again for that number is refused, and says nothing of whose it is.
    let again = line::enter(&engine, asking(billing, "Mallory", Channel::Callback, Some("+14155550123"))).await;
    assert_eq!(again, Err(AppError::CallbackExists));
    let created = line::create(&engine, asking(billing, "Mallory", Channel::Callback, Some("+14155550123"))).await;
    assert_eq!(created, Err(AppError::CallbackExists));
    let elsewhere = line::enter(&engine, asking(sales, "Dee", Channel::Callback, Some("+14155550123"))).await.unwrap();
    assert_ne!(first, elsewhere, "another queue has its own");
    assert_eq!(line_names(&pool, billing).await, ["Dee"]);
    // A waiting customer cannot switch to a number already waiting.
    let other = enter(&engine, billing, "Eve", Channel::Audio).await;
    let taken = callback::switch(&engine, other, Switch::CallBack { phone: "+14155550123".into(), window: None }).await;
    assert_eq!(taken, Err(AppError::CallbackExists));
}

/// Fake callbacks cannot fill a queue: they have their own cap, apart from
/// the live line's maximum length, a cap per address, allowed prefixes,
/// and they expire when not reached in time.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn callbacks_have_their_own_cap_a_cap_per_address_allowed_prefixes_and_an_expiry(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    sqlx::query("UPDATE queues SET max_length = 1, callback_cap = 2, callbacks_per_address = 1, callback_prefixes = '{+44}' WHERE id = $1")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    let from = |name: &str, phone: &str, address: &str| NewRequest {
        from_address: Some(address.into()),
        language: None,
        ..asking(queue, name, Channel::Callback, Some(phone))
    };
    let premium = line::enter(&engine, from("Mallory", "+8821234567", "198.51.100.1")).await;
    assert!(matches!(&premium, Err(AppError::Invalid(m)) if m.contains("+44")), "{premium:?}");

    let ann = line::enter(&engine, from("Ann", "+442079460001", "198.51.100.1")).await.unwrap();
    let again = line::enter(&engine, from("Ann's twin", "+442079460002", "198.51.100.1")).await;
    assert!(matches!(&again, Err(AppError::NotTaking(m)) if m.contains("your connection")), "{again:?}");
    line::enter(&engine, from("Bo", "+442079460003", "198.51.100.2")).await.unwrap();
    let over = line::enter(&engine, from("Cy", "+442079460004", "198.51.100.3")).await;
    assert!(matches!(&over, Err(AppError::NotTaking(m)) if m.contains("callback requests")), "{over:?}");
    // Switching a waiting customer to a callback meets the same cap.
    let dee = enter(&engine, queue, "Dee", Channel::Audio).await;
    let switched = callback::switch(&engine, dee, Switch::CallBack { phone: "+442079460005".into(), window: None }).await;
    assert!(matches!(&switched, Err(AppError::NotTaking(_))), "{switched:?}");

    // Two callbacks waiting did not fill the live line (maximum 1): Dee got
    // in, and now it is full.
    let full = line::enter(&engine, asking(queue, "Eve", Channel::Audio, None)).await;
    assert!(matches!(&full, Err(AppError::NotTaking(m)) if m.contains("full")), "{full:?}");

    // Not reached within the queue's expiry (24 h by default): expired, with
    // its event; the cap has room again.
    sqlx::query("UPDATE help_sessions SET entered_at = now() - interval '25 hours' WHERE id = $1")
        .bind(ann)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(line::expire_long_waits(&engine).await.unwrap(), 1);
    assert_eq!(status_of(&pool, ann).await, "expired");
    let event: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE help_session_id = $1 AND kind = 'EXPIRE'")
        .bind(ann)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(event, 1);
    line::enter(&engine, from("Cy", "+442079460004", "198.51.100.3")).await.unwrap();
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_callback_waits_for_its_window_retries_after_the_delay_and_ends_after_its_attempts(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "push", "longest_idle").await;
    sqlx::query("UPDATE queues SET callback_retry_seconds = 600, callback_max_attempts = 2 WHERE id = $1")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    let agent = caller(&engine, &pool, "Cal Caller", queue).await;

    // A window an hour from now: in line, not offered before it.
    let now = OffsetDateTime::now_utc();
    let later = NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        window: Some(Window { from: now + Duration::hours(1), until: now + Duration::hours(2) }),
        ..asking(queue, "Later Lee", Channel::Callback, Some("+14155550111"))
    };
    let lee = line::enter(&engine, later).await.unwrap();
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, lee).await, None, "not offered before the window");

    // As soon as possible: offered now.
    let max = line::enter(&engine, asking(queue, "Max Soon", Channel::Callback, Some("+14155550122"))).await.unwrap();
    assert_eq!(offered_to(&pool, max).await, Some(agent));
    offers::accept(&engine, agent, max).await.unwrap();

    // No answer: back in line at its age, not offered before the delay.
    callback::record(&engine, agent, max, CallbackOutcome::NoAnswer).await.unwrap();
    assert_eq!(status_of(&pool, max).await, "waiting");
    assert_eq!(line_names(&pool, queue).await, ["Later Lee", "Max Soon"], "its original age");
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, max).await, None, "not before the retry delay");
    let not_before: OffsetDateTime = sqlx::query_scalar("SELECT not_before FROM queue_entries WHERE help_session_id = $1")
        .bind(max)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!((not_before - now - Duration::seconds(600)).abs() < Duration::seconds(30), "{not_before}");
    sqlx::query("UPDATE queue_entries SET not_before = now() - interval '1 second' WHERE help_session_id = $1")
        .bind(max)
        .execute(&pool)
        .await
        .unwrap();
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, max).await, Some(agent), "offered again after the delay");
    offers::accept(&engine, agent, max).await.unwrap();

    // Busy on the last attempt: unreachable.
    callback::record(&engine, agent, max, CallbackOutcome::Busy).await.unwrap();
    assert_eq!(status_of(&pool, max).await, "unreachable");
    assert_eq!(attempts(&pool, max).await, [(1, "no_answer".into()), (2, "busy".into())]);
    let again = callback::record(&engine, agent, max, CallbackOutcome::Reached).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");

    // A wrong number ends it as invalid; reached goes on to wrap-up.
    let wrong = line::enter(&engine, asking(queue, "Wes Wrong", Channel::Callback, Some("+14155550133"))).await.unwrap();
    offers::accept(&engine, agent, wrong).await.unwrap();
    callback::record(&engine, agent, wrong, CallbackOutcome::WrongNumber).await.unwrap();
    assert_eq!(status_of(&pool, wrong).await, "invalid");
    let reached = line::enter(&engine, asking(queue, "Ria Reached", Channel::Callback, Some("+14155550144"))).await.unwrap();
    offers::accept(&engine, agent, reached).await.unwrap();
    callback::record(&engine, agent, reached, CallbackOutcome::Reached).await.unwrap();
    assert_eq!(status_of(&pool, reached).await, "active", "the conversation goes on by phone");
    control::end(&engine, reached, control::EndedBy::Agent).await.unwrap();
    control::wrap_up(&engine, agent, reached, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, reached).await, "completed");
    let requested: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'CALLBACK_REQUESTED'").fetch_one(&pool).await.unwrap();
    assert_eq!(requested, 4);
    let seats: (i32, i32) =
        sqlx::query_as("SELECT live, sessions FROM agent_channels WHERE representative_id = $1 AND channel = 'callback'")
            .bind(agent)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(seats, (0, 0), "no seat leaked");

    // The dashboard's callback figures: 4 requested; Max called twice and
    // never reached, Wes once (wrong number), Ria once and reached.
    app::metrics::roll::roll(&pool, 5.0).await.unwrap();
    let settings = app::metrics::MetricsSettings { time_zone: "UTC".into(), short_abandon_seconds: 5.0 };
    let query = app::metrics::ReportQuery { span: "today".into(), from: None, to: None, queue: Some(queue.uuid()) };
    let report = app::metrics::report::report(&pool, &settings, &query).await.unwrap();
    let total = &report.total;
    assert_eq!((total.callbacks_requested, total.callback_attempts, total.callbacks_reached), (4, 4, 1));
    assert_eq!(total.reached_rate(), Some(0.25));
    assert!(total.time_to_reach().is_some_and(|seconds| (0.0..60.0).contains(&seconds)), "{:?}", total.time_to_reach());
    let cal = report.by_representative.iter().find(|line| line.label == "Cal Caller").expect("Cal's line");
    assert_eq!((cal.figures.callback_attempts, cal.figures.callbacks_reached), (4, 1));
    let table = report.table(app::metrics::TableKind::Queues);
    assert!(table.columns.iter().any(|column| column == "Reached rate (%)"));
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM metric_sessions WHERE finished_at IS NULL").fetch_one(&pool).await.unwrap();
    assert_eq!(open, 1, "only Lee's callback is still open");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_keeping_their_place_is_passed_over_while_away_and_keeps_the_front_for_a_while(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "push", "longest_idle").await;
    let instance = uuid::Uuid::new_v4();
    presence::beat(&engine, instance).await.unwrap();
    // Three customers keeping their place, away; one present behind them.
    let mut kept = Vec::new();
    for (name, phone) in [("Kim", Some("+14155550155")), ("Kit", None), ("Kai", None)] {
        let customer = line::enter(&engine, asking(queue, name, Channel::Audio, None)).await.unwrap();
        callback::switch(&engine, customer, Switch::KeepPlace { email: None }).await.unwrap();
        if let Some(phone) = phone {
            sqlx::query("UPDATE help_sessions SET phone = $2 WHERE id = $1")
                .bind(customer)
                .bind(phone)
                .execute(&pool)
                .await
                .unwrap();
        }
        let page = presence::open(&engine, instance, Subject::Customer(customer)).await.unwrap();
        presence::close(&engine, page).await.unwrap();
        kept.push(customer);
    }
    let paula = line::enter(&engine, asking(queue, "Paula Present", Channel::Audio, None)).await.unwrap();
    // Away and kept: presence never abandons them.
    presence::sweep_lost(&engine, 0.0).await.unwrap();
    assert_eq!(status_of(&pool, kept[0]).await, "waiting");

    // The representative is free: the present customer behind is served.
    let agent = named_agent(&pool, "Ann Answer", queue).await;
    ready(&engine, agent).await;
    assert_eq!(offered_to(&pool, paula).await, Some(agent), "the away are passed over");
    callback::sweep_places(&engine).await.unwrap();
    let fronts: Vec<bool> = sqlx::query_scalar(
        "SELECT front_at IS NOT NULL FROM queue_entries WHERE help_session_id = ANY ($1) ORDER BY enqueued_at",
    )
    .bind(&kept)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(fronts, [true, true, true], "nobody present ahead of any of them");
    offers::accept(&engine, agent, paula).await.unwrap();
    control::end(&engine, paula, control::EndedBy::Agent).await.unwrap();
    control::wrap_up(&engine, agent, paula, "Resolved", "").await.unwrap();

    // Kai comes back within the time: offered next.
    presence::open(&engine, instance, Subject::Customer(kept[2])).await.unwrap();
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, kept[2]).await, Some(agent));

    // Past the time: Kim, who left a number, is called back; Kit's place ends.
    sqlx::query("UPDATE queue_entries SET front_at = now() - interval '1 hour' WHERE help_session_id = ANY ($1)")
        .bind(&kept[..2])
        .execute(&pool)
        .await
        .unwrap();
    callback::sweep_places(&engine).await.unwrap();
    let kim: (String, String, bool) = sqlx::query_as("SELECT status, channel, notify FROM help_sessions WHERE id = $1")
        .bind(kept[0])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((kim.1.as_str(), kim.2), ("callback", false), "called back instead");
    assert!(["waiting", "offered"].contains(&kim.0.as_str()), "in line: {}", kim.0);
    assert_eq!(status_of(&pool, kept[1]).await, "expired");
    let expired: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE help_session_id = $1 AND kind = 'EXPIRE'")
        .bind(kept[1])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(expired, 1);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn opening_hours_hold_at_their_edges_and_a_closed_queue_takes_only_callbacks(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "push", "longest_idle").await;
    sqlx::query("UPDATE queues SET time_zone = 'America/New_York', closed_dates = '{2026-12-25}' WHERE id = $1")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO queue_hours (queue_id, weekday, opens, closes) SELECT $1, d, '09:00', '17:00' FROM generate_series(1, 5) d",
    )
    .bind(queue)
    .execute(&pool)
    .await
    .unwrap();
    let open_at = |at: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT queue_open($1, $2::timestamptz)")
                .bind(queue)
                .bind(at)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let next_open = |at: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT to_char(queue_next_open($1, $2::timestamptz) AT TIME ZONE 'America/New_York', 'YYYY-MM-DD HH24:MI')",
            )
            .bind(queue)
            .bind(at)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    // One minute before closing, and at closing.
    assert!(open_at("2026-11-30 16:59 America/New_York").await);
    assert!(!open_at("2026-11-30 17:00 America/New_York").await);
    assert_eq!(next_open("2026-11-30 17:00 America/New_York").await, "2026-12-01 09:00");
    // A closed date, a Friday: next the Monday after.
    assert!(!open_at("2026-12-25 12:00 America/New_York").await);
    assert_eq!(next_open("2026-12-24 18:00 America/New_York").await, "2026-12-28 09:00");
    // Across the spring change of clocks (8 March 2026): 09:00 local each day.
    assert_eq!(next_open("2026-03-06 18:00 America/New_York").await, "2026-03-09 09:00");
    let utc: String = sqlx::query_scalar(
        "SELECT to_char(queue_next_open($1, '2026-03-06 18:00 America/New_York') AT TIME ZONE 'UTC', 'HH24:MI')",
    )
    .bind(queue)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(utc, "13:00", "09:00 EDT is 13:00 UTC (it was 14:00 before the change)");

    // Closed now (every day a closed date): talking is refused with when it
    // opens, a callback is taken and waits for the opening.
    sqlx::query(
        "UPDATE queues SET closed_dates = ARRAY(SELECT (current_date + d)::date FROM generate_series(-1, 2) d) WHERE id = $1",
    )
    .bind(queue)
    .execute(&pool)
    .await
    .unwrap();
    let agent = named_agent(&pool, "Ann Answer", queue).await;
    ready(&engine, agent).await;
    let refused = line::enter(&engine, asking(queue, "Tia Talk", Channel::Audio, None)).await;
    match refused {
        Err(AppError::NotTaking(message)) => assert!(message.contains("Billing is closed now. It opens at 09:00"), "{message}"),
        other => panic!("expected closed, got {other:?}"),
    }
    let callback = line::enter(&engine, asking(queue, "Cal Back", Channel::Callback, Some("+14155550166"))).await.unwrap();
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, callback).await, None, "nobody is offered while closed");
    sqlx::query("UPDATE queues SET closed_dates = '{}' WHERE id = $1").bind(queue).execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM queue_hours WHERE queue_id = $1").bind(queue).execute(&pool).await.unwrap();
    offering::dispatch(&engine, queue).await;
    assert_eq!(offered_to(&pool, callback).await, Some(agent), "offered once open");
}

/// Keep-my-place email is no open relay and no brake: the sweeper only
/// queues it (at most one an hour to an address, one per session), and the
/// outbox's sender gives up on a mail server that never answers after its
/// timeout, marking the message failed, while the sweeper runs on.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn keep_my_place_email_is_queued_once_per_address_an_hour_and_a_silent_mail_server_holds_nothing_up(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    // Two customers near the front give the same (victim's) address; a
    // third another, in another case.
    let mut asked = Vec::new();
    for (name, email) in [("Ann", "victim@example.com"), ("Bo", "victim@example.com"), ("Cy", "Other@Example.com")] {
        let customer = line::enter(&engine, asking(queue, name, Channel::Audio, None)).await.unwrap();
        callback::switch(&engine, customer, Switch::KeepPlace { email: Some(email.into()) }).await.unwrap();
        asked.push(customer);
    }
    sqlx::query("UPDATE queues SET notify_position = 10 WHERE id = $1").bind(queue).execute(&pool).await.unwrap();
    let started = std::time::Instant::now();
    for _ in 0..2 {
        callback::sweep_places(&engine).await.unwrap();
        app::customer::near::queue_emails(engine.pool()).await.unwrap();
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the sweeper sends nothing itself");
    let queued: Vec<String> = sqlx::query_scalar("SELECT address FROM mail_outbox ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(queued, ["victim@example.com", "Other@Example.com"], "one per address an hour, one per session");

    // A mail server that takes the connection and never says a word.
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tarpit.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = tarpit.accept().await {
            open.push(socket);
        }
    });
    let mailer = app::mail::Mailer::with_timeout(
        &format!("smtp://127.0.0.1:{port}"),
        "Acme <help@example.com>",
        "http://127.0.0.1",
        std::time::Duration::from_millis(300),
    )
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(app::mail::send_outbox(&pool, &mailer).await.unwrap(), 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let failed: Vec<(bool, bool)> =
        sqlx::query_as("SELECT taken_at IS NOT NULL, error IS NOT NULL AND sent_at IS NULL FROM mail_outbox ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(failed, [(true, true), (true, true)], "taken once, failed, not tried again");
    held.abort();
}
