//! The routing engine against a real PostgreSQL: order, strategies, offers
//! that end unanswered, capacity, hand-back, and the nobody-logged-in rule.

mod common;

use common::{enter_audio as enter, line_names as line, named_agent as agent, ready};

use app::engine::control::{self, EndedBy};
use app::engine::line::{self, Left, NewRequest};
use app::engine::offers::{self, Unanswered};
use app::engine::{agents, pull, Engine};
use app::error::AppError;
use app::queue::Channel;
use app::states::{AgentId, HelpSessionId, QueueId};
use sqlx::PgPool;

async fn queue(pool: &PgPool, name: &str, mode: &str, strategy: &str) -> QueueId {
    common::add_queue(pool, name, mode, strategy).await
}

fn request(queue: QueueId, name: &str, channel: Channel) -> NewRequest {
    NewRequest {
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
    }
}

async fn name_of(pool: &PgPool, session: HelpSessionId) -> String {
    sqlx::query_scalar("SELECT customer_name FROM help_sessions WHERE id = $1").bind(session).fetch_one(pool).await.unwrap()
}

/// The customers offered to this agent now, oldest offer first.
async fn offered_to(pool: &PgPool, agent: AgentId) -> Vec<HelpSessionId> {
    sqlx::query_scalar("SELECT help_session_id FROM offers WHERE representative_id = $1 ORDER BY offered_at")
        .bind(agent)
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn state_of(pool: &PgPool, agent: AgentId) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, reason FROM agent_states WHERE representative_id = $1")
        .bind(agent)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn next_customer_takes_first_come_first_served(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Pull", "pull", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    agents::log_in(&engine, ann).await.unwrap();
    for name in ["first", "second", "third"] {
        enter(&engine, q, name).await;
    }

    let mut served = Vec::new();
    for _ in 0..3 {
        let taken = pull::next_customer(&engine, ann).await.unwrap().unwrap();
        served.push(name_of(&pool, taken.help_session_id).await);
        control::end(&engine, taken.help_session_id, EndedBy::Agent).await.unwrap();
        control::wrap_up(&engine, ann, taken.help_session_id, "resolved", "").await.unwrap();
    }

    assert_eq!(served, ["first", "second", "third"]);
    assert_eq!(pull::next_customer(&engine, ann).await.unwrap(), None, "an empty queue is an empty answer");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn higher_priority_goes_first_then_time(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Pull", "pull", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    agents::log_in(&engine, ann).await.unwrap();
    enter(&engine, q, "early").await;
    enter(&engine, q, "later").await;
    line::enter(&engine, NewRequest { priority: 5, ..request(q, "urgent", Channel::Audio) }).await.unwrap();

    assert_eq!(line(&pool, q).await, ["urgent", "early", "later"]);
    let taken = pull::next_customer(&engine, ann).await.unwrap().unwrap();
    assert_eq!(name_of(&pool, taken.help_session_id).await, "urgent");
}

/// An offer past its time cannot be accepted, even before the sweeper
/// got to it: it ends as unanswered (RONA).
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_offer_past_its_time_cannot_be_accepted(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;
    let customer = enter(&engine, q, "Cy").await;
    assert_eq!(offered_to(&pool, ann).await, [customer]);
    sqlx::query("UPDATE offers SET expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();

    let late = offers::accept(&engine, ann, customer).await;
    assert!(matches!(late, Err(AppError::NotFound(_))), "{late:?}");
    offers::expire_offers(&engine).await.unwrap();
    assert_eq!(state_of(&pool, ann).await.0, "NOT_READY");
    let status: String =
        sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1").bind(customer).fetch_one(&pool).await.unwrap();
    assert_eq!(status, "waiting");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_entering_a_push_queue_is_offered_to_a_ready_agent(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;

    let customer = enter(&engine, q, "Cy").await;

    assert_eq!(offered_to(&pool, ann).await, [customer]);
    offers::accept(&engine, ann, customer).await.unwrap();
    let (status, agent_id): (String, Option<AgentId>) =
        sqlx::query_as("SELECT status, agent_id FROM help_sessions WHERE id = $1").bind(customer).fetch_one(&pool).await.unwrap();
    assert_eq!((status.as_str(), agent_id), ("active", Some(ann)));
    assert!(line(&pool, q).await.is_empty());
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM events WHERE help_session_id = $1 ORDER BY id")
        .bind(customer)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["ENTER_QUEUE", "OFFER", "CONNECT"]);
}

/// Two agents, READY; `setup` makes `expected` the one the strategy should
/// pick (and the other the one every other strategy would pick).
async fn strategy_case(engine: &Engine, strategy: &str, setup: &str) -> (String, String) {
    let q = queue(engine.pool(), strategy, "push", strategy).await;
    let ann = agent(engine.pool(), "Ann", q).await;
    let bob = agent(engine.pool(), "Bob", q).await;
    ready(engine, ann).await;
    ready(engine, bob).await;
    // Ann would win on every tie-breaker: she has been idle longest.
    sqlx::query("UPDATE agent_states SET idle_since = now() - interval '1 hour' WHERE representative_id = $1")
        .bind(ann)
        .execute(engine.pool())
        .await
        .unwrap();
    sqlx::query(setup).bind(ann).bind(bob).execute(engine.pool()).await.unwrap();

    let customer = enter(engine, q, "Cy").await;

    let winner: AgentId = sqlx::query_scalar("SELECT representative_id FROM offers WHERE help_session_id = $1")
        .bind(customer)
        .fetch_one(engine.pool())
        .await
        .unwrap();
    let name: String = sqlx::query_scalar("SELECT display_name FROM representatives WHERE id = $1")
        .bind(winner)
        .fetch_one(engine.pool())
        .await
        .unwrap();
    (strategy.to_owned(), name)
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn each_strategy_chooses_its_agent(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let cases = [
        // Longest idle: Ann, idle for an hour, over Bob who just became ready.
        ("longest_idle", "SELECT $1::uuid, $2::uuid", "Ann"),
        // Least connections: Ann is talking with a chat customer; Bob is free.
        (
            "least_connections",
            // (through seat(), the one writer of seats and their totals)
            "SELECT seat($1, 'chat', 1, 1), $2::uuid",
            "Bob",
        ),
        // Round robin: Ann was offered someone a minute ago, Bob an hour ago.
        (
            "round_robin",
            "UPDATE agent_states SET last_offered_at = CASE WHEN representative_id = $1 THEN now() - interval '1 minute' ELSE now() - interval '1 hour' END WHERE representative_id IN ($1, $2)",
            "Bob",
        ),
        // Fewest handled today: Ann answered 7 today, Bob 2.
        (
            "fewest_handled_today",
            "UPDATE agent_states SET handled_day = current_date, handled_on_day = CASE WHEN representative_id = $1 THEN 7 ELSE 2 END WHERE representative_id IN ($1, $2)",
            "Bob",
        ),
    ];
    for (strategy, setup, expected) in cases {
        // Each case in its own queue with its own two agents.
        sqlx::query("DELETE FROM queue_members").execute(&pool).await.unwrap();
        sqlx::query("UPDATE agent_states SET state = 'LOGGED_OUT'").execute(&pool).await.unwrap();
        sqlx::query("UPDATE representatives SET email = id || '@old.example.com'").execute(&pool).await.unwrap();
        let (strategy, winner) = strategy_case(&engine, strategy, setup).await;
        assert_eq!(winner, expected, "strategy {strategy}");
    }
}

/// Each queue keeps its own order of its members: an agent of another
/// queue, however long idle, is not in it; an agent who joins while READY
/// takes their place in it at once, with how long they have been idle.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn each_queue_orders_its_own_members(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = queue(&pool, "Sales", "push", "longest_idle").await;
    let support = queue(&pool, "Support", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let bob = agent(&pool, "Bob", support).await;
    ready(&engine, ann).await;
    ready(&engine, bob).await;
    sqlx::query("UPDATE agent_states SET idle_since = now() - interval '1 hour' WHERE representative_id = $1")
        .bind(ann)
        .execute(&pool)
        .await
        .unwrap();

    let first = enter(&engine, support, "first").await;
    assert_eq!(offered_to(&pool, bob).await, vec![first], "Support's customer goes to Support's only member");
    assert!(offered_to(&pool, ann).await.is_empty(), "Ann serves Sales only");
    offers::accept(&engine, bob, first).await.unwrap();
    control::end(&engine, first, EndedBy::Customer).await.unwrap();
    control::wrap_up(&engine, bob, first, "Resolved", "").await.unwrap();

    // Ann joins Support (as an admin's edit adds her), READY and idle for
    // an hour; Bob became idle a moment ago.
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(support)
        .bind(ann)
        .execute(&pool)
        .await
        .unwrap();
    let second = enter(&engine, support, "second").await;
    assert_eq!(offered_to(&pool, ann).await, vec![second], "the longest idle member of Support");
    assert!(offered_to(&pool, bob).await.is_empty());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_missed_offer_puts_the_customer_back_in_place_and_the_agent_not_ready(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;
    let first = enter(&engine, q, "first").await;
    enter(&engine, q, "second").await;
    enter(&engine, q, "third").await;
    assert_eq!(offered_to(&pool, ann).await, [first]);

    // The RONA deadline passes (moved back instead of waiting 15 s).
    sqlx::query("UPDATE offers SET expires_at = now() - interval '1 second'").execute(&pool).await.unwrap();
    assert_eq!(offers::expire_offers(&engine).await.unwrap(), 1);

    assert_eq!(line(&pool, q).await, ["first", "second", "third"]);
    assert!(offered_to(&pool, ann).await.is_empty());
    assert_eq!(state_of(&pool, ann).await, ("NOT_READY".into(), Some("Missed offer".into())));
    let channels_on: i64 = sqlx::query_scalar("SELECT count(*) FROM agent_channels WHERE representative_id = $1 AND ready")
        .bind(ann)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(channels_on, 0, "NOT_READY sets every channel NOT_READY");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_declined_customer_keeps_their_place_and_goes_to_another_agent(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;
    let first = enter(&engine, q, "first").await;
    let second = enter(&engine, q, "second").await;
    assert_eq!(offered_to(&pool, ann).await, [first]);

    offers::unanswered(&engine, ann, first, Unanswered::Decline).await.unwrap();

    assert_eq!(line(&pool, q).await, ["first", "second"], "first is still first");
    assert_eq!(state_of(&pool, ann).await.0, "READY", "declining is not a missed offer");
    // Ann is not offered the customer she declined; she gets the next one.
    assert_eq!(offered_to(&pool, ann).await, [second]);
    let bob = agent(&pool, "Bob", q).await;
    ready(&engine, bob).await;
    assert_eq!(offered_to(&pool, bob).await, [first]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn channels_follow_the_agent_state_and_capacity(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    agents::log_in(&engine, ann).await.unwrap();

    // A channel cannot be ready while the agent is not.
    let refused = agents::set_channel(&engine, ann, Channel::Chat, true).await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");

    ready(&engine, ann).await;
    for channel in [Channel::Video, Channel::Audio, Channel::Callback] {
        agents::set_channel(&engine, ann, channel, false).await.unwrap();
    }
    // Chat capacity is three: the fourth chat customer waits.
    let mut chats = Vec::new();
    for n in 0..4 {
        chats.push(line::enter(&engine, request(q, &format!("chat{n}"), Channel::Chat)).await.unwrap());
    }
    assert_eq!(offered_to(&pool, ann).await, chats[..3]);
    // Video is switched off: a video customer is not offered to Ann.
    line::enter(&engine, request(q, "video", Channel::Video)).await.unwrap();
    assert_eq!(offered_to(&pool, ann).await.len(), 3);

    // Accept one and finish it: the seat frees and the fourth is offered.
    offers::accept(&engine, ann, chats[0]).await.unwrap();
    control::end(&engine, chats[0], EndedBy::Customer).await.unwrap();
    assert_eq!(offered_to(&pool, ann).await.len(), 2, "in wrap-up: no new offers");
    control::wrap_up(&engine, ann, chats[0], "resolved", "all good").await.unwrap();
    assert_eq!(offered_to(&pool, ann).await, [chats[1], chats[2], chats[3]]);

    // NOT_READY: offers already made stay, nothing new comes.
    agents::set_not_ready_reason(&engine, ann, "Break").await.unwrap();
    assert_eq!(state_of(&pool, ann).await, ("NOT_READY".into(), Some("Break".into())));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn video_is_one_live_at_a_time(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;

    let a = line::enter(&engine, request(q, "a", Channel::Video)).await.unwrap();
    line::enter(&engine, request(q, "b", Channel::Video)).await.unwrap();

    assert_eq!(offered_to(&pool, ann).await, [a]);
    offers::accept(&engine, ann, a).await.unwrap();
    assert!(offered_to(&pool, ann).await.is_empty(), "one live video call at a time");
    assert_eq!(line(&pool, q).await, ["b"]);

    // Bob, of another queue, has video free; b still waits for Ann. A chat
    // customer behind b is offered to Ann, who has chat free.
    let other = queue(&pool, "Other", "push", "longest_idle").await;
    let bob = agent(&pool, "Bob", other).await;
    ready(&engine, bob).await;
    let c = line::enter(&engine, request(q, "c", Channel::Chat)).await.unwrap();
    assert_eq!(offered_to(&pool, ann).await, [c], "a waiting video call does not hold up chat");
    assert!(offered_to(&pool, bob).await.is_empty());
    assert_eq!(line(&pool, q).await, ["b", "c"]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_agent_who_leaves_hands_customers_back_to_the_front(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Pull", "pull", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    agents::log_in(&engine, ann).await.unwrap();
    enter(&engine, q, "first").await;
    let taken = pull::next_customer(&engine, ann).await.unwrap().unwrap();
    enter(&engine, q, "second").await;
    enter(&engine, q, "third").await;

    let handed = agents::hand_back(&engine, ann, "Logged out").await.unwrap();

    assert_eq!(handed, 1);
    assert_eq!(line(&pool, q).await, ["first", "second", "third"], "first is back at the front");
    assert_eq!(state_of(&pool, ann).await.0, "LOGGED_OUT");
    let status: String = sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1")
        .bind(taken.help_session_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "waiting");
    let (live, sessions): (i64, i64) =
        sqlx::query_as("SELECT sum(live)::bigint, sum(sessions)::bigint FROM agent_channels WHERE representative_id = $1")
            .bind(ann)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((live, sessions), (0, 0));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn nobody_logged_in_refuses_with_the_queue_message_but_takes_callbacks(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Refusing", "push", "longest_idle").await;
    sqlx::query("UPDATE queues SET when_nobody = 'refuse', nobody_message = 'We open at 9.' WHERE id = $1")
        .bind(q)
        .execute(&pool)
        .await
        .unwrap();
    let ann = agent(&pool, "Ann", q).await;

    let refused = line::enter(&engine, request(q, "Cy", Channel::Video)).await;
    assert_eq!(refused, Err(AppError::NotTaking("We open at 9.".into())));
    let callback =
        line::enter(&engine, NewRequest { phone: Some("+14155550100".into()), ..request(q, "Cy", Channel::Callback) }).await;
    assert!(callback.is_ok(), "{callback:?}");

    // Once someone is logged in (even NOT_READY), customers may wait.
    agents::log_in(&engine, ann).await.unwrap();
    assert!(line::enter(&engine, request(q, "Di", Channel::Video)).await.is_ok());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn leaving_the_queue_frees_an_offered_seat(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    ready(&engine, ann).await;
    let first = enter(&engine, q, "first").await;
    let second = enter(&engine, q, "second").await;
    assert_eq!(offered_to(&pool, ann).await, [first]);

    line::leave(&engine, first, Left::Cancelled).await.unwrap();

    assert_eq!(offered_to(&pool, ann).await, [second], "the seat went to the next customer");
    assert_eq!(
        line::leave(&engine, first, Left::Abandoned).await,
        Err(AppError::NotFound("You are not waiting in a queue.".into()))
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1").bind(first).fetch_one(&pool).await.unwrap();
    assert_eq!(status, "cancelled");
}

/// Wake-ups are sent after the commit, never for a transaction that rolled
/// back, and the offer made in SQL is announced with its agent.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn wake_ups_follow_commits_only(pool: PgPool) {
    use app::engine::events::{log, About, Event, EventKind, Notice, Topic, NOTIFY_CHANNEL};
    let engine = common::engine(&pool).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await.unwrap();
    listener.listen(NOTIFY_CHANNEL).await.unwrap();
    let mut next = async || -> Notice {
        let heard = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
            .await
            .expect("a wake-up within 5 s")
            .unwrap();
        serde_json::from_str(heard.payload()).unwrap()
    };
    let notice = |kind, help_session, queue, agent| Notice { kind: Topic::Event(kind), help_session, queue, agent };

    let mut abandoned = engine.begin().await.unwrap();
    log(&mut abandoned, About::default(), Event::Expire {}).await.unwrap();
    drop(abandoned);

    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", q).await;
    // (Identical wake-ups sent in one statement reach listeners once, so
    // each is awaited before the next is made.)
    agents::log_in(&engine, ann).await.unwrap();
    assert!(next().await.is(EventKind::AgentState), "logging in is heard first: the rolled-back event never is");
    agents::set_ready(&engine, ann).await.unwrap();
    assert!(next().await.is(EventKind::AgentState));
    let customer = enter(&engine, q, "Bo").await;
    assert_eq!(next().await, notice(EventKind::EnterQueue, Some(customer), Some(q), None));
    assert_eq!(next().await, notice(EventKind::Offer, Some(customer), Some(q), Some(ann)));
    offers::accept(&engine, ann, customer).await.unwrap();
    assert_eq!(next().await, notice(EventKind::Connect, Some(customer), Some(q), Some(ann)));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn presses_at_the_same_moment_each_get_their_own_customer(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Pull", "pull", "longest_idle").await;
    let mut pressing = Vec::new();
    for n in 0..24 {
        let agent = agent(&pool, &format!("Agent{n}"), q).await;
        agents::log_in(&engine, agent).await.unwrap();
        pressing.push(agent);
        enter(&engine, q, &format!("customer {n}")).await;
    }
    let away = agent(&pool, "Away", q).await;

    let presses: Vec<_> = pressing
        .iter()
        .chain([&away])
        .map(|&agent| {
            let engine = engine.clone();
            tokio::spawn(async move { (agent, pull::next_customer(&engine, agent).await) })
        })
        .collect();
    let mut served = std::collections::HashSet::new();
    for press in presses {
        let (agent, answer) = press.await.unwrap();
        if agent == away {
            assert!(matches!(answer, Err(AppError::Conflict(_))), "a logged-out agent is told so: {answer:?}");
            continue;
        }
        let taken = answer.unwrap().expect("a customer for every agent");
        let holder: Option<AgentId> = sqlx::query_scalar("SELECT agent_id FROM help_sessions WHERE id = $1")
            .bind(taken.help_session_id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(holder, Some(agent), "each agent is told of the customer given to them");
        assert!(served.insert(taken.help_session_id), "no customer goes to two agents");
    }
    assert_eq!(served.len(), 24);
    assert!(line(&pool, q).await.is_empty());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_failing_accept_fails_alone_and_the_others_connect(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let mut offers = Vec::new();
    for n in 0..6 {
        let agent = agent(&pool, &format!("Agent{n}"), q).await;
        ready(&engine, agent).await;
        let customer = enter(&engine, q, &format!("customer {n}")).await;
        assert_eq!(offered_to(&pool, agent).await, [customer]);
        offers.push((agent, customer));
    }
    // A broken pair (the entry offered, its offer row gone) makes its
    // accept fail inside the database; the accepts at the same moment are
    // not taken down with it.
    let (broken_agent, broken) = offers[3];
    sqlx::query("DELETE FROM offers WHERE help_session_id = $1").bind(broken).execute(&pool).await.unwrap();

    let accepts: Vec<_> = offers
        .iter()
        .map(|&(agent, customer)| {
            let engine = engine.clone();
            tokio::spawn(async move { (agent, offers::accept(&engine, agent, customer).await) })
        })
        .collect();
    for accept in accepts {
        let (agent, answer) = accept.await.unwrap();
        if agent == broken_agent {
            assert!(answer.is_err(), "the broken accept fails");
        } else {
            assert!(answer.is_ok(), "the others are accepted: {answer:?}");
        }
    }
    let active: i64 =
        sqlx::query_scalar("SELECT count(*) FROM help_sessions WHERE status = 'active'").fetch_one(&pool).await.unwrap();
    assert_eq!(active, 5);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn agents_going_ready_together_are_each_offered_a_customer(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let q = queue(&pool, "Push", "push", "longest_idle").await;
    let mut team = Vec::new();
    for n in 0..20 {
        let agent = agent(&pool, &format!("Agent{n}"), q).await;
        agents::log_in(&engine, agent).await.unwrap();
        team.push(agent);
    }
    for n in 0..30 {
        enter(&engine, q, &format!("customer {n}")).await;
    }

    let going_ready: Vec<_> = team
        .iter()
        .map(|&agent| {
            let engine = engine.clone();
            tokio::spawn(async move { agents::set_ready(&engine, agent).await })
        })
        .collect();
    for ready in going_ready {
        ready.await.unwrap().unwrap();
    }

    // Each agent's call returned only after a pass that saw them READY.
    for &agent in &team {
        assert_eq!(offered_to(&pool, agent).await.len(), 1, "one audio seat, one offer");
    }
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM queue_entries WHERE offered_to IS NULL").fetch_one(&pool).await.unwrap();
    assert_eq!(waiting, 10);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn each_agents_totals_follow_their_channels(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let push = queue(&pool, "Push", "push", "least_connections").await;
    let ann = agent(&pool, "Ann", push).await;
    ready(&engine, ann).await;
    let totals = async || -> (i32, i32, i64, i64) {
        sqlx::query_as(
            "SELECT s.live_total, s.sessions_total, sum(c.live), sum(c.sessions)
               FROM agent_states s JOIN agent_channels c USING (representative_id)
              WHERE s.representative_id = $1 GROUP BY s.representative_id",
        )
        .bind(ann)
        .fetch_one(&pool)
        .await
        .unwrap()
    };

    let first = enter(&engine, push, "first").await;
    assert_eq!(totals().await, (1, 1, 1, 1), "an offer takes a seat");
    offers::accept(&engine, ann, first).await.unwrap();
    line::enter(&engine, request(push, "second", Channel::Chat)).await.unwrap();
    assert_eq!(totals().await, (2, 2, 2, 2), "audio and chat at once");
    control::end(&engine, first, EndedBy::Customer).await.unwrap();
    assert_eq!(totals().await, (1, 1, 1, 1), "an ended conversation frees its seat");
    agents::hand_back(&engine, ann, "Logged out").await.unwrap();
    assert_eq!(totals().await, (0, 0, 0, 0), "handing back empties every channel");
}
